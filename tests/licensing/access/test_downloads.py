"""Who may download what (licensing.access.downloads.decide) through E4 and our v1 API, against real
PostgreSQL and real storage: grants by hash, paid datasets, restricted access, private
datasets, withdrawn versions, and object-level checks on keys."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import pytest
import requests
from django.core import mail
from django.core.management import call_command
from django.db import DatabaseError, transaction
from django.utils import timezone
from rest_framework.test import APIClient

from licensing.models import AccessRequest, DownloadRecord, Invoice, LicenseGrant
from marketplace.models import Dataset, Membership, User
from tests.factories import organization, store_version, stored_dataset
from tests.second_factor import enroll_second_factor

pytestmark = pytest.mark.django_db
ARCHIVE = b"\x1f\x8b" + bytes(range(256)) * 40


def client_for(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def download(client: APIClient, dataset: Dataset) -> Any:
    return client.post(f"/api/datasets/{dataset.id}/download")


def accept(client: APIClient, dataset: Dataset) -> Any:
    digest = client.get(f"/api/v1/datasets/{dataset.id}/terms").json()["termsSha256"]
    return client.post(f"/api/v1/datasets/{dataset.id}/grants", {"termsSha256": digest}, format="json")


@pytest.fixture
def licensee(bearer: Callable[..., tuple[User, str]]) -> tuple[User, APIClient]:
    user, key = bearer("read", "download")
    return user, client_for(key)


def test_free_dataset_needs_the_terms_then_gives_a_ranged_presigned_url(licensee: tuple[User, APIClient]) -> None:
    user, client = licensee
    dataset = stored_dataset("free-speech", ARCHIVE, restrictions="No voice cloning.")
    refused = download(client, dataset)
    assert refused.status_code == 403
    assert f"/datasets/{dataset.slug}/#access" in refused.json()["message"]

    terms = client.get(f"/api/v1/datasets/{dataset.id}/terms").json()
    assert "No voice cloning." in terms["termsText"] and terms["license"]["spdxId"] == "CC-BY-4.0"
    assert hashlib.sha256(terms["termsText"].encode()).hexdigest() == terms["termsSha256"]
    created = client.post(
        f"/api/v1/datasets/{dataset.id}/grants",
        {"termsSha256": terms["termsSha256"]},
        format="json",
        HTTP_USER_AGENT="pipeline/1.0",
    )
    assert created.status_code == 201, created.json()
    receipt = created.json()
    assert (receipt["termsSha256"], receipt["version"]["number"], receipt["userAgent"]) == (
        terms["termsSha256"], 1, "pipeline/1.0"
    )  # fmt: skip
    assert client.get(f"/api/v1/grants/{receipt['grantId']}").json() == receipt

    answer = download(client, dataset)
    assert answer.status_code == 200
    body = answer.json()
    # The platform's document gives the size as a digit string (int64 beyond JSON's safe integers);
    # the SDK reads int(str(x)).
    assert body["sizeBytes"] == str(len(ARCHIVE))
    assert body["checksum"] == hashlib.sha256(ARCHIVE).hexdigest()
    ranged = requests.get(body["downloadUrl"], headers={"Range": "bytes=100-"}, timeout=10)
    assert ranged.status_code == 206 and ranged.content == ARCHIVE[100:]
    assert "Content-Encoding" not in ranged.headers
    assert f'filename="{dataset.current_version.filename}"' in ranged.headers["Content-Disposition"]
    record = DownloadRecord.objects.get(user=user)
    assert (record.basis, record.grant_id, record.kind, record.version_id) == (
        "grant", receipt["grantId"], "archive", dataset.current_version_id
    )  # fmt: skip


def test_changed_terms_answer_409_with_the_current_hash_and_void_old_acceptance(
    licensee: tuple[User, APIClient],
) -> None:
    _, client = licensee
    dataset = stored_dataset("changing-terms", ARCHIVE)
    old = client.get(f"/api/v1/datasets/{dataset.id}/terms").json()["termsSha256"]
    assert accept(client, dataset).status_code == 201
    Dataset.objects.filter(id=dataset.id).update(forbidden_usage="No surveillance.")
    conflict = client.post(f"/api/v1/datasets/{dataset.id}/grants", {"termsSha256": old}, format="json")
    assert conflict.status_code == 409
    current = conflict.json()["currentTermsSha256"]
    assert current != old and current in conflict.json()["message"]
    refused = download(client, dataset)
    assert refused.status_code == 403 and "The terms changed" in refused.json()["message"]
    assert (
        client.post(f"/api/v1/datasets/{dataset.id}/grants", {"termsSha256": current}, format="json").status_code == 201
    )
    assert download(client, dataset).status_code == 200


def test_grants_are_append_only_in_the_database(licensee: tuple[User, APIClient]) -> None:
    _, client = licensee
    dataset = stored_dataset("evidence", ARCHIVE)
    grant_id = accept(client, dataset).json()["grantId"]
    with pytest.raises(DatabaseError, match="evidence"), transaction.atomic():
        LicenseGrant.objects.filter(id=grant_id).update(user_agent="edited")
    with pytest.raises(DatabaseError, match="evidence"), transaction.atomic():
        LicenseGrant.objects.filter(id=grant_id).delete()


def test_paid_dataset_answers_402_until_the_invoice_is_marked_paid(
    licensee: tuple[User, APIClient], bearer: Callable[..., tuple[User, str]]
) -> None:
    user, client = licensee
    dataset = stored_dataset("paid-set", ARCHIVE, is_paid=True, base_price_cents=10_000)
    refused = download(client, dataset)
    assert refused.status_code == 402 and "purchases" in refused.json()["message"]

    opened = client.post(f"/api/v1/datasets/{dataset.id}/purchases")
    assert opened.status_code == 201
    invoice = opened.json()
    assert {k: invoice[k] for k in ("amountCents", "currency", "status")} == {
        "amountCents": 10_500, "currency": "usd", "status": "open"
    }  # fmt: skip
    again = client.post(f"/api/v1/datasets/{dataset.id}/purchases")
    assert again.status_code == 200 and again.json()["invoiceId"] == invoice["invoiceId"]
    assert download(client, dataset).status_code == 402

    # The licensee cannot mark their own invoice paid; another organization's admin cannot either.
    assert client.post(f"/api/v1/invoices/{invoice['invoiceId']}/payment").status_code == 403
    stranger, stranger_key = bearer("read")
    organization("other-org", owner=stranger)
    enroll_second_factor(stranger)  # an owner elsewhere, with a second factor: still not theirs to mark
    assert client_for(stranger_key).post(f"/api/v1/invoices/{invoice['invoiceId']}/payment").status_code == 404

    call_command("mark_invoice_paid", invoice["invoiceId"], "--reference", "bank-123")
    paid = Invoice.objects.get(id=invoice["invoiceId"])
    assert paid.status == "paid" and paid.payment.reference == "bank-123"
    assert paid.payment.grant.source == "payment" and paid.payment.grant.terms_sha256 == invoice["termsSha256"]
    answer = download(client, dataset)
    assert answer.status_code == 200
    assert DownloadRecord.objects.get(user=user).grant_id == paid.payment.grant_id
    call_command("mark_invoice_paid", invoice["invoiceId"])  # a repeat changes nothing
    assert LicenseGrant.objects.filter(user=user).count() == 1


def test_restricted_dataset_request_approve_revoke(
    licensee: tuple[User, APIClient], bearer: Callable[..., tuple[User, str]]
) -> None:
    user, client = licensee
    owner, owner_key = bearer("read")
    org = organization("clinic-co", owner=owner)
    dataset = stored_dataset("clinical", ARCHIVE, org=org, visibility="restricted")
    assert accept(client, dataset).status_code == 201
    refused = download(client, dataset)
    assert refused.status_code == 403 and "Request access" in refused.json()["message"]

    missing = client.post(f"/api/v1/datasets/{dataset.id}/access-requests", {"fullName": "Ann"}, format="json")
    assert missing.status_code == 400 and "organization" in missing.json()["message"]
    asked = client.post(
        f"/api/v1/datasets/{dataset.id}/access-requests",
        {"fullName": "Ann Lee", "organization": "Uni", "intendedUse": "ASR research"},
        format="json",
    ).json()
    assert asked["status"] == "pending"
    assert "pending" in download(client, dataset).json()["message"]
    # The licensee cannot approve their own request; it does not exist for them.
    assert client.post(f"/api/v1/access-requests/{asked['id']}/approve").status_code == 404

    enroll_second_factor(owner)  # owners decide on requests with a second factor on
    owner_client = client_for(owner_key)
    listed = owner_client.get(f"/api/v1/datasets/{dataset.id}/access-requests").json()["items"]
    assert [item["id"] for item in listed] == [asked["id"]]
    assert owner_client.post(f"/api/v1/access-requests/{asked['id']}/approve").json()["status"] == "approved"
    assert download(client, dataset).status_code == 200

    no_reason = owner_client.post(f"/api/v1/access-requests/{asked['id']}/revoke", {}, format="json")
    assert no_reason.status_code == 400
    revoked = owner_client.post(
        f"/api/v1/access-requests/{asked['id']}/revoke", {"reason": "Project ended."}, format="json"
    )
    assert revoked.json()["status"] == "revoked"
    refused = download(client, dataset)
    assert refused.status_code == 403 and "Project ended." in refused.json()["message"]
    assert AccessRequest.objects.get(id=asked["id"]).decided_by == owner


def test_auto_approved_access(licensee: tuple[User, APIClient]) -> None:
    _, client = licensee
    dataset = stored_dataset("auto-set", ARCHIVE, visibility="restricted", auto_approve_access_requests=True)
    asked = client.post(
        f"/api/v1/datasets/{dataset.id}/access-requests",
        {"fullName": "Bo", "organization": "Lab", "intendedUse": "Evaluation"},
        format="json",
    ).json()
    assert (asked["status"], asked["autoApproved"]) == ("approved", True)
    assert accept(client, dataset).status_code == 201
    assert download(client, dataset).status_code == 200


def test_private_dataset_is_for_members_only(
    licensee: tuple[User, APIClient], bearer: Callable[..., tuple[User, str]]
) -> None:
    _, outsider = licensee
    member, member_key = bearer("download")
    org = organization("inner-co")
    Membership.objects.create(organization=org, user=member, role="member")
    dataset = stored_dataset("inner-prompts", ARCHIVE, org=org, visibility="private")
    assert download(outsider, dataset).status_code == 404
    assert outsider.get(f"/api/v1/datasets/{dataset.id}/terms").status_code == 404
    answer = download(client_for(member_key), dataset)
    assert answer.status_code == 200
    assert DownloadRecord.objects.get(user=member).basis == "member"


def test_keys_are_checked_per_user_scope_and_revocation(
    licensee: tuple[User, APIClient], bearer: Callable[..., tuple[User, str]]
) -> None:
    user, client = licensee
    dataset = stored_dataset("keyed", ARCHIVE)
    assert accept(client, dataset).status_code == 201
    assert APIClient().post(f"/api/datasets/{dataset.id}/download").status_code == 401
    # Another user's key does not inherit this user's grant.
    _, other_key = bearer("download", "read")
    assert download(client_for(other_key), dataset).status_code == 403
    assert client_for(other_key).get("/api/v1/grants").json()["items"] == []
    # A key of the same user without the download scope, then a revoked key.
    _, read_only = bearer("read", user=user)
    assert "download" in download(client_for(read_only), dataset).json()["message"]
    _, revoked_key = bearer("download", user=user)
    user.api_keys.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
    answer = download(client_for(revoked_key), dataset)
    assert answer.status_code == 401 and answer.json()["message"] == "This API key was revoked."


def test_version_files_and_per_file_downloads(licensee: tuple[User, APIClient]) -> None:
    _, client = licensee
    dataset = stored_dataset("files-set", ARCHIVE, sample=b"sample-bytes")
    files = client.get(f"/api/v1/datasets/{dataset.id}/versions/1/files").json()["files"]
    assert [(f["kind"], f["sizeBytes"]) for f in files] == [("archive", len(ARCHIVE)), ("sample", 12)]
    sample = client.post(f"/api/v1/datasets/{dataset.id}/versions/1/files/sample/download").json()
    assert requests.get(sample["downloadUrl"], timeout=10).content == b"sample-bytes"
    assert client.post(f"/api/v1/datasets/{dataset.id}/versions/1/files/archive/download").status_code == 403
    assert client.post(f"/api/v1/datasets/{dataset.id}/versions/7/files/archive/download").status_code == 404


def test_withdrawn_version_answers_410_naming_the_replacement_and_notifies(
    licensee: tuple[User, APIClient],
    bearer: Callable[..., tuple[User, str]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    user, client = licensee
    owner, owner_key = bearer("download")
    org = organization("consent-co", owner=owner)
    dataset = stored_dataset("consented", ARCHIVE, org=org)
    assert accept(client, dataset).status_code == 201
    assert download(client, dataset).status_code == 200

    # A licensee cannot withdraw on anyone's behalf.
    body = {"version": 1, "recordIds": ["clip-7", "clip-9"], "fileHashes": ["a" * 64], "contributorId": "c-42"}
    assert client.post(f"/api/v1/datasets/{dataset.id}/withdrawals", body, format="json").status_code == 403
    bad = client_for(owner_key).post(
        f"/api/v1/datasets/{dataset.id}/withdrawals", {**body, "fileHashes": ["zz"]}, format="json"
    )
    assert bad.status_code == 400 and "fileHashes" in bad.json()["message"]
    with django_capture_on_commit_callbacks(execute=True):  # the e-mail goes out on commit
        made = client_for(owner_key).post(f"/api/v1/datasets/{dataset.id}/withdrawals", body, format="json")
    assert made.status_code == 201
    gone = download(client, dataset)
    assert gone.status_code == 410 and "No replacement version" in gone.json()["message"]
    assert [m.to for m in mail.outbox] == [[user.email]] and "clip-7" in mail.outbox[0].body

    feed = APIClient().get(f"/api/v1/datasets/{dataset.id}/removals").json()["items"]
    assert [(f["version"], f["recordIds"], f["fileHashes"]) for f in feed] == [(1, ["clip-7", "clip-9"], ["a" * 64])]

    store_version(dataset, ARCHIVE + b"v2")
    pinned = client.post(f"/api/v1/datasets/{dataset.id}/versions/1/files/archive/download")
    assert pinned.status_code == 410 and "Use version 2" in pinned.json()["message"]
    # The same terms text: the grant accepted for version 1 covers version 2.
    answer = download(client, dataset)
    assert answer.status_code == 200 and answer.json()["version"] == 2


def test_rate_limits_answer_429_with_retry_after(
    licensee: tuple[User, APIClient], settings: Any, bearer: Callable[..., tuple[User, str]]
) -> None:
    _, client = licensee
    settings.API_RATE_PER_KEY = "2/minute"
    settings.API_RATE_PER_IP = "3/minute"
    assert [client.get("/api/v1/me").status_code for _ in range(3)] == [200, 200, 429]
    limited = client.get("/api/v1/me")
    assert int(limited["Retry-After"]) > 0 and limited.json()["message"]
    # Another key has its own budget; anonymous calls count per IP.
    _, other = bearer("read")
    assert client_for(other).get("/api/v1/me").status_code == 200
    anonymous = [APIClient().get("/api/datasets").status_code for _ in range(4)]
    assert anonymous == [200, 200, 200, 429]
