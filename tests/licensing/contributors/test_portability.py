"""Taking one's data along (licensing/contributors/portability.py ``export_for``, the page
/account/data/ and ``GET /api/v1/me/export``): one versioned JSON document of everything the
instance holds about a busy person, in a bounded number of queries, and nothing of anyone else."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from licensing.access import access_requests, downloads, grants
from licensing.consent.inputs import ConsentTermsInput
from licensing.consent.terms import add_consent_records, set_consent_terms
from licensing.consent.withdrawals import withdraw_consent
from licensing.contributors.payouts import PayoutDetailsInput, set_payout_details
from licensing.contributors.portability import EXPORT_FORMAT, export_for
from licensing.keys.services import create_api_key
from licensing.models import ApiKey, ContributorClaim, LedgerAccount
from licensing.revenue import ledger, payments
from marketplace.models import Dataset, Membership, Organization, User
from marketplace.organizations.services import add_member
from tests.factories import organization, published_dataset
from tests.licensing.revenue.test_ledger import approved_submission, pay, staff

pytestmark = pytest.mark.django_db

CONSENT_TEXT = "I agree that my recordings train speech models. Ärger? Write to privacy@example.org."


def claim(org: Organization, user: User, *, contributor_id: str = "", payee_email: str = "") -> ContributorClaim:
    """A claimed link, as the claim flow leaves it (that flow is tested with its own module)."""
    now = timezone.now()
    return ContributorClaim.objects.create(
        organization=org, contributor_id=contributor_id, payee_email=payee_email,
        token_hash=hashlib.sha256(f"{org.id}{contributor_id}{payee_email}".encode()).hexdigest(),
        created_by=org.memberships.filter(role="owner").first().user, expires_at=now + timedelta(days=7),
        claimed_at=now, claimed_by=user,
    )  # fmt: skip


def consent(dataset: Dataset, contributors: list[str], *, earner: str = "ana") -> None:
    """The dataset's published version came from a submission with these consent records."""
    submission = approved_submission(dataset, [{"username": earner, "basisPoints": 10_000}])
    author = submission.created_by
    terms = set_consent_terms(
        submission=submission, user=author,
        terms=ConsentTermsInput(ai_training=True, commercial_use=True, research_only=False, redistribution=False,
                                derivatives=True,
                                consent_text=CONSENT_TEXT, withdrawal_process="Write to us.",
                                collection_start=date(2026, 1, 1), collection_end=date(2026, 6, 30)),
    )  # fmt: skip
    add_consent_records(
        terms=terms,
        rows=[{"contributor_id": c, "terms_sha256": terms.consent_text_sha256, "given_at": "2026-02-03T10:00:00+00:00"}
              for c in contributors],
    )  # fmt: skip


def download(user: User, dataset: Dataset, times: int) -> None:
    version = grants.current_version(dataset)
    for _ in range(times):
        verdict = downloads.admit(user=user, dataset=dataset, version=version, kind="archive", page_url="")
        downloads.record(verdict=verdict, user=user, api_key=None, dataset=dataset, version=version, kind="archive",
                         ip_address="192.0.2.1", user_agent="pytest")  # fmt: skip


def busy_person(name: str = "ana", *, paid_out: bool = True) -> dict[str, Any]:
    """Ana: a member of two organizations (an owner of one, with another owner), who claimed her
    contributor ids at both and a payee address; consent records under her ids and others'; a
    withdrawal she recorded and one recorded for her; earnings on two datasets (paid out to the
    cent unless ``paid_out`` is False); payout details; grants, invoices (one open), payments,
    access requests (one pending), two API keys and downloads of two datasets."""
    ana = User.objects.create_user(username=name, email=f"{name}@example.org", password="ana-password-123",
                                   first_name="Ana", last_name="Lima")  # fmt: skip
    ana.last_login = timezone.now()
    ana.save(update_fields=["last_login"])
    valley = organization(f"{name}-valley")
    harbor = organization(f"{name}-harbor")

    speech = published_dataset(f"{name}-speech", org=valley, is_paid=True, base_price_cents=2_000)
    consent(speech, [f"{name}-v-17", "v-18", "v-19"], earner=name)
    notes = published_dataset(f"{name}-notes", org=harbor, is_paid=True, base_price_cents=1_000)
    payee = {"name": "Payee", "email": f"{name}.payee@example.org", "basisPoints": 4_000}
    submission = approved_submission(notes, [{"username": name, "basisPoints": 6_000}, payee])
    consent_terms = set_consent_terms(
        submission=submission, user=submission.created_by,
        terms=ConsentTermsInput(ai_training=True, commercial_use=True, research_only=False, redistribution=False,
                                derivatives=True,
                                consent_text="Other words.", withdrawal_process="Email.",
                                collection_start=date(2026, 1, 1), collection_end=date(2026, 1, 2)),
    )  # fmt: skip
    add_consent_records(terms=consent_terms, rows=[
        {"contributor_id": c, "terms_sha256": consent_terms.consent_text_sha256, "given_at": "2026-01-01T09:00:00Z"}
        for c in (f"{name}-h-4", "h-5")])  # fmt: skip
    # Joined once the datasets' submissions were approved (the builders take the only member as author).
    add_member(organization=valley, user=ana, role=Membership.Role.OWNER)
    add_member(organization=harbor, user=ana, role=Membership.Role.MEMBER)
    claim(valley, ana, contributor_id=f"{name}-v-17")
    claim(harbor, ana, contributor_id=f"{name}-h-4", payee_email=f"{name}.payee@example.org")
    for _ in range(3):
        pay(speech)
    pay(notes)
    pay(notes)
    if paid_out:
        clerk = staff()
        for code in (f"payable:user:{ana.id}", f"payable:payee:{name}.payee@example.org"):
            account = LedgerAccount.objects.get(code=code)
            batch = ledger.create_payout_batch(
                amounts={account.id: ledger.owed(account, "usd")}, currency="usd", created_by=clerk
            )
            ledger.mark_payout_batch_paid(batch_id=batch.id, reference=f"SEPA-{batch.id}", paid_by=clerk)

    withdraw_consent(
        by=ana, dataset=speech, version_number=1, record_ids=["clips/1.wav"], contributor_id=f"{name}-v-17"
    )
    withdraw_consent(by=harbor.memberships.get(role="owner").user, dataset=notes, version_number=1,
                     record_ids=["n-1", "n-2"], contributor_id=f"{name}-h-4")  # fmt: skip
    iban = PayoutDetailsInput(method="bank", account_holder="Ana Lima", account="DE89370400440532013000")
    set_payout_details(user=ana, details=iban)

    # Ana as a licensee: two paid datasets of a third organization, a third invoice left open.
    bought = [published_dataset(f"{name}-bought-{i}", is_paid=True, base_price_cents=500 * (i + 1)) for i in range(3)]
    pay(bought[0], buyer=ana)
    pay(bought[1], buyer=ana)
    open_invoice, _ = payments.open_invoice(user=ana, dataset=bought[2])
    free = [published_dataset(f"{name}-free-{i}") for i in range(2)]
    for i, dataset in enumerate(free):
        terms = grants.terms_for(dataset=dataset, version=grants.current_version(dataset))
        grants.accept_terms(user=ana, dataset=dataset, terms_sha256=terms.sha256, source="web")
        download(ana, dataset, times=i + 2)
    gated = [published_dataset(f"{name}-gated-{i}", visibility=Dataset.Visibility.RESTRICTED) for i in range(2)]
    pending = access_requests.request_access(user=ana, dataset=gated[0], full_name="Ana Lima",
                                             organization_name="Uni", intended_use="Research")  # fmt: skip
    decided = access_requests.request_access(user=ana, dataset=gated[1], full_name="Ana Lima",
                                             organization_name="Uni", intended_use="Teaching")  # fmt: skip
    access_requests.reject(request_id=decided.id, by=gated[1].organization.memberships.get().user, reason="Not now.")
    keys = [create_api_key(user=ana, name=f"pipeline {i}", scopes=["read", "download"])[0] for i in range(2)]
    return {"user": ana, "valley": valley, "harbor": harbor, "speech": speech, "notes": notes, "free": free,
            "open_invoice": open_invoice, "pending": pending, "keys": keys}  # fmt: skip


@pytest.fixture
def ana() -> dict[str, Any]:
    busy_person("bystander")  # someone else as busy, whose rows must not show up
    return busy_person("ana")


def test_the_export_holds_everything_about_the_person_and_nothing_else(
    ana: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    user = ana["user"]
    with django_assert_max_num_queries(20):
        document = export_for(user)
    json.dumps(document)  # JSON-ready as it is
    assert document["format"] == EXPORT_FORMAT == "datacollective-personal-data/1"
    account = document["account"]
    assert (account["username"], account["email"], account["firstName"]) == ("ana", "ana@example.org", "Ana")
    assert account["id"] == user.public_id and account["joinedAt"] and account["lastLoginAt"]
    assert {(m["organization"]["slug"], m["role"]) for m in document["memberships"]} == {
        ("ana-valley", "owner"), ("ana-harbor", "member")}  # fmt: skip
    assert [(c["organization"]["id"], c["contributorId"], c["payeeEmail"]) for c in document["claims"]] == [
        (ana["valley"].id, "ana-v-17", ""), (ana["harbor"].id, "ana-h-4", "ana.payee@example.org")]  # fmt: skip

    records = document["consentRecords"]
    assert sorted(r["contributorId"] for r in records) == ["ana-h-4", "ana-v-17"]  # not v-18, h-5, nor bystander's
    speech = next(r for r in records if r["contributorId"] == "ana-v-17")
    assert speech["dataset"] == {"id": ana["speech"].id, "name": ana["speech"].name} and speech["version"] == 1
    assert speech["consentText"] == CONSENT_TEXT
    assert speech["consentTextSha256"] == hashlib.sha256(CONSENT_TEXT.encode()).hexdigest()
    assert speech["givenAt"].startswith("2026-02-03T10:00:00")

    withdrawals = {w["contributorId"]: w for w in document["withdrawals"]}
    assert set(withdrawals) == {"ana-v-17", "ana-h-4"}
    assert withdrawals["ana-v-17"]["recordedByYou"] and not withdrawals["ana-h-4"]["recordedByYou"]
    assert withdrawals["ana-h-4"]["recordIds"] == ["n-1", "n-2"]

    # speech: 3 x 20.00 (fee on top), all to Ana; notes: 2 x 10.00, 60% to Ana, 40% to her claimed
    # payee address. All paid out.
    (total,) = document["earnings"]["totals"]
    assert total == {"currency": "usd", "earnedCents": 6_000 + 2_000, "refundedCents": 0,
                     "paidOutCents": 8_000, "balanceCents": 0}  # fmt: skip
    assert {d["name"]: d["netCents"] for d in document["earnings"]["datasets"]} == {
        ana["speech"].name: 6_000, ana["notes"].name: 2_000}  # fmt: skip
    assert all(d["months"] for d in document["earnings"]["datasets"])
    assert sorted(p["amountCents"] for p in document["earnings"]["payouts"]) == [800, 7_200]
    assert {p["status"] for p in document["earnings"]["payouts"]} == {"paid"}
    assert document["payoutDetails"]["account"] == "DE89 3704 0044 0532 0130 00"

    assert len(document["licenseGrants"]) == 4  # two bought, two accepted
    assert sorted(i["status"] for i in document["invoices"]) == ["open", "paid", "paid"]
    assert sorted(p["amountCents"] for p in document["payments"]) == sorted(
        i["amountCents"] for i in document["invoices"] if i["status"] == "paid")  # fmt: skip
    assert sorted(r["status"] for r in document["accessRequests"]) == ["pending", "rejected"]
    assert [k["name"] for k in document["apiKeys"]] == ["pipeline 0", "pipeline 1"]
    assert {k["prefix"] for k in document["apiKeys"]} == {k.prefix for k in ana["keys"]}
    assert sorted(d["count"] for d in document["downloads"]) == [2, 3]

    text = json.dumps(document)
    for key in ApiKey.objects.all():
        assert key.key_hash not in text
    assert "bystander" not in text


def test_the_query_count_does_not_grow_with_the_rows(ana: dict[str, Any], django_assert_num_queries: Any) -> None:
    with CaptureQueriesContext(connection) as few:
        export_for(ana["user"])
    more = busy_person("cy")
    # Cy has as many rows of each kind; a second round of rows for Ana changes nothing in the count.
    pay(published_dataset("ana-bought-more", is_paid=True, base_price_cents=700), buyer=ana["user"])
    download(ana["user"], ana["free"][0], times=3)
    with django_assert_num_queries(len(few.captured_queries)):
        export_for(ana["user"])
    assert more["user"].username == "cy"


def test_the_page_offers_the_download_as_an_attachment(ana: dict[str, Any], client: Client) -> None:
    client.force_login(ana["user"])
    page = client.get("/account/data/")
    assert page.status_code == 200
    assert 'href="/account/data/export.json"' in page.content.decode()
    assert 'href="/account/data/"' in client.get("/account/").content.decode()
    response = client.get("/account/data/export.json")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"] == f'attachment; filename="datacollective-{ana["user"].public_id}.json"'
    document = json.loads(response.content)
    assert document["format"] == EXPORT_FORMAT and document["account"]["username"] == "ana"
    assert Client().get("/account/data/export.json").status_code == 302  # to the login page


def test_the_api_answers_the_same_document(ana: dict[str, Any], bearer: Callable[..., tuple[User, str]]) -> None:
    _, key = bearer("read", user=ana["user"])
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    response = api.get("/api/v1/me/export")
    assert response.status_code == 200
    document = response.json()
    assert document["format"] == EXPORT_FORMAT and document["account"]["email"] == "ana@example.org"
    assert len(document["consentRecords"]) == 2 and len(document["apiKeys"]) == 3  # the fixture's two and this one
    _, other = bearer("read")
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {other}")
    assert api.get("/api/v1/me/export").json()["claims"] == []
    _, downloader = bearer("download", user=ana["user"])
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {downloader}")
    assert api.get("/api/v1/me/export").status_code == 403
