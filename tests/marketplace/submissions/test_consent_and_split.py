"""Consent terms, per-contributor consent records and the revenue split of a submission."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from rest_framework.test import APIClient

from licensing.models import ConsentRecord, ConsentTerms
from marketplace.models import Membership, RevenueShare, Submission, User
from marketplace.organizations.services import approve_organization
from marketplace.submissions.drafts import create_submission
from tests.factories import organization

CONSENT = "I agree that my recordings are used to train speech models, also commercially."
TERMS: dict[str, Any] = {
    "aiTraining": True, "commercialUse": True, "researchOnly": False, "redistribution": False,
    "derivatives": True,
    "scope": "Speech recognition models.", "consentText": CONSENT, "collectionStart": "2025-01-01",
    "collectionEnd": "2025-06-30", "withdrawalProcess": "Email withdraw@example.org with your contributor id.",
}  # fmt: skip


@pytest.fixture
def setup(bearer) -> tuple[APIClient, Submission, User]:  # type: ignore[no-untyped-def]
    org = approve_organization(organization=organization("speech-co"))
    user, key = bearer("upload", "read")
    Membership.objects.create(organization=org, user=user, role="member")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client, create_submission(user=user, name="Voices"), user


def test_consent_terms_are_recorded_with_the_hash_of_the_exact_text(setup) -> None:  # type: ignore[no-untyped-def]
    client, submission, _ = setup
    response = client.put(f"/api/v1/submissions/{submission.id}/consent", TERMS, format="json")
    assert response.status_code == 200
    assert response.json()["consent"]["consentTextSha256"] == hashlib.sha256(CONSENT.encode()).hexdigest()
    again = client.put(f"/api/v1/submissions/{submission.id}/consent", {**TERMS, "redistribution": True}, format="json")
    assert again.status_code == 200
    assert ConsentTerms.objects.filter(submission=submission).count() == 2  # appended, not edited
    first = ConsentTerms.objects.filter(submission=submission).order_by("created_at").first()
    with pytest.raises(IntegrityError), transaction.atomic():
        ConsentTerms.objects.filter(id=first.id).update(consent_text="Something else")


def test_bad_consent_terms_name_every_problem(setup) -> None:  # type: ignore[no-untyped-def]
    client, submission, _ = setup
    bad = {**TERMS, "researchOnly": True, "collectionEnd": "2024-01-01", "consentText": "", "aiTraining": "yes"}
    response = client.put(f"/api/v1/submissions/{submission.id}/consent", bad, format="json")
    assert response.status_code == 400
    message = response.json()["message"]
    expected = [
        "aiTraining: must be true or false",
        "consentText: must be a non-empty string",
        "collectionEnd: is before collectionStart",
        "research-only consent cannot allow commercial use",
    ]
    for part in expected:
        assert part in message
    assert not ConsentTerms.objects.exists()


def test_consent_records_by_csv_and_json(setup) -> None:  # type: ignore[no-untyped-def]
    client, submission, _ = setup
    url = f"/api/v1/submissions/{submission.id}/consent/records"
    assert "Set the consent terms first" in client.post(url, {"records": []}, format="json").json()["message"]
    client.put(f"/api/v1/submissions/{submission.id}/consent", TERMS, format="json")
    digest = hashlib.sha256(CONSENT.encode()).hexdigest()
    csv_body = (
        "contributor_id,scope,terms_sha256,given_at\n"
        f"c-001,speech,{digest},2025-02-01T10:00:00Z\nc-002,,{digest},2025-02-02T11:30:00+01:00\n"
    )
    added = client.generic("POST", url, csv_body, content_type="text/csv")
    assert added.status_code == 201 and added.json()["added"] == 2
    records = [{"contributorId": "c-003", "termsSha256": digest, "givenAt": "2025-03-01T09:00:00Z"}]
    assert client.post(url, {"records": records}, format="json").json()["added"] == 1
    assert ConsentRecord.objects.count() == 3

    bad = [
        {"contributorId": "ann@example.org", "termsSha256": digest, "givenAt": "2025-03-01T09:00:00Z"},
        {"contributorId": "c-004", "termsSha256": "0" * 64, "givenAt": "2025-03-01T09:00:00"},
        {"contributorId": "c-001", "termsSha256": digest, "givenAt": "2025-03-01T09:00:00Z"},
    ]
    refused = client.post(url, {"records": bad}, format="json")
    assert refused.status_code == 400
    assert refused.json()["message"] == (
        "No record was added: record 1: the contributor id looks like an email address or a name (it has an @ or "
        "a space); give the pseudonymous id your organization keeps instead; "
        f"record 2: the consent hash '{'0' * 64}' is not the SHA-256 of these consent terms ({digest}); leave it "
        "out, or give the hash of the terms this contributor saw; "
        "record 2: the time '2025-03-01T09:00:00' has no time zone; write the date alone (2024-05-31) or the time "
        "with its zone (2024-05-31T14:30:00Z)."
    )
    duplicate = client.post(url, {"records": [bad[2]]}, format="json")
    assert "some contributor already has a record" in duplicate.json()["message"]
    assert ConsentRecord.objects.count() == 3  # all or nothing
    header = client.generic("POST", url, "who,when\nx,y\n", content_type="text/csv")
    assert header.json()["message"] == (
        "The CSV's first line must name the columns contributor_id and given_at (and, if you like, scope and "
        "terms_sha256)."
    )


def test_records_need_only_contributor_ids_and_dates(setup) -> None:  # type: ignore[no-untyped-def]
    client, submission, _ = setup
    client.put(f"/api/v1/submissions/{submission.id}/consent", TERMS, format="json")
    url = f"/api/v1/submissions/{submission.id}/consent/records"
    digest = hashlib.sha256(CONSENT.encode()).hexdigest()
    added = client.generic(
        "POST", url, "Contributor_ID , given_at\nc-001,2025-02-01\nc-002,2025-02-02T11:30:00+01:00\n",
        content_type="text/csv",
    )  # fmt: skip
    assert added.status_code == 201 and added.json() == {"added": 2, "termsSha256": digest}
    json_rows = [{"contributorId": "c-003", "givenAt": "2025-03-01"}]
    assert client.post(url, {"records": json_rows}, format="json").status_code == 201
    records = {r.contributor_id: (r.given_at.isoformat(), r.terms_sha256) for r in ConsentRecord.objects.all()}
    assert records == {
        "c-001": ("2025-02-01T00:00:00+00:00", digest),  # a date is that day, 00:00 UTC
        "c-002": ("2025-02-02T10:30:00+00:00", digest),
        "c-003": ("2025-03-01T00:00:00+00:00", digest),
    }


def test_a_bad_csv_line_is_named_by_its_line_in_the_file(setup) -> None:  # type: ignore[no-untyped-def]
    client, submission, _ = setup
    client.put(f"/api/v1/submissions/{submission.id}/consent", TERMS, format="json")
    url = f"/api/v1/submissions/{submission.id}/consent/records"
    body = "contributor_id,given_at,terms_sha256\nc-001,2024-05-01,\nc-002,2024-05-02,\nc-003,2024-13-01,\n,,abc\n"
    refused = client.generic("POST", url, body, content_type="text/csv")
    assert refused.status_code == 400
    assert refused.json()["message"] == (
        "No record was added: line 4: the date '2024-13-01' is not a date; write it as 2024-05-31; "
        "line 5: the contributor id is missing; "
        f"line 5: the consent hash 'abc' is not the SHA-256 of these consent terms "
        f"({hashlib.sha256(CONSENT.encode()).hexdigest()}); leave it out, or give the hash of the terms this "
        "contributor saw; line 5: the date is missing; write it as 2024-05-31."
    )
    assert not ConsentRecord.objects.exists()
    empty = client.generic("POST", url, "contributor_id,given_at\n", content_type="text/csv")
    assert empty.json()["message"] == "The CSV has no records under its first line: add one line per contributor."


def test_the_page_takes_a_csv_of_ids_and_dates_and_names_bad_lines(setup) -> None:  # type: ignore[no-untyped-def]
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client

    client, submission, user = setup
    client.put(f"/api/v1/submissions/{submission.id}/consent", TERMS, format="json")
    page = Client()
    page.force_login(user)
    edit = page.get(f"/submissions/{submission.id}/")
    assert b"contributor_id,given_at\nc-001,2024-05-31" in edit.content  # the example the page gives

    def upload(text: str) -> Any:
        csv_file = SimpleUploadedFile("records.csv", text.encode(), content_type="text/csv")
        return page.post(f"/submissions/{submission.id}/consent/records/", {"records": csv_file})

    bad = upload("contributor_id,given_at\nc-001,2024-05-31\n\nc-002,31/05/2024\n")  # a blank line counts
    assert bad.status_code == 400
    assert "line 4: the date &#x27;31/05/2024&#x27; is not a date; write it as 2024-05-31" in bad.content.decode()
    assert not ConsentRecord.objects.exists()
    good = upload("contributor_id,given_at\nc-001,2024-05-31\nc-002,2024-05-31\n")
    assert good.status_code == 302 and ConsentRecord.objects.count() == 2


@pytest.mark.django_db(transaction=True)  # replacing a split commits under the deferred sum check
def test_revenue_split_sums_to_exactly_10000(setup, make_user) -> None:  # type: ignore[no-untyped-def]
    client, submission, user = setup
    url = f"/api/v1/submissions/{submission.id}/contributors"
    partner = make_user("partner")
    split = {"contributors": [
        {"username": user.username, "basisPoints": 6000},
        {"username": "partner", "basisPoints": 2500},
        {"name": "Village Choir", "email": "choir@example.org", "basisPoints": 1500},
    ]}  # fmt: skip
    response = client.put(url, split, format="json")
    assert response.status_code == 200
    assert [c["basisPoints"] for c in response.json()["contributors"]] == [6000, 2500, 1500]
    assert RevenueShare.objects.filter(submission=submission, user=partner).get().basis_points == 2500

    short = {"contributors": [{"username": user.username, "basisPoints": 9999}]}
    refused = client.put(url, short, format="json")
    assert refused.status_code == 400
    assert "the shares sum to 9999 basis points; they must sum to exactly 10000" in refused.json()["message"]
    twice = {
        "contributors": [{"username": "partner", "basisPoints": 5000}, {"username": "partner", "basisPoints": 5000}]
    }
    assert "listed twice" in client.put(url, twice, format="json").json()["message"]
    nobody = {"contributors": [{"username": "ghost", "basisPoints": 10000}]}
    assert "no user named 'ghost'" in client.put(url, nobody, format="json").json()["message"]
    assert sum(RevenueShare.objects.filter(submission=submission).values_list("basis_points", flat=True)) == 10000
    halves = {
        "contributors": [{"username": "partner", "basisPoints": 5000}, {"username": user.username, "basisPoints": 5000}]
    }
    assert client.put(url, halves, format="json").status_code == 200  # a replaced split commits
    assert sorted(RevenueShare.objects.filter(submission=submission).values_list("basis_points", flat=True)) == [
        5000,
        5000,
    ]


@pytest.mark.django_db(transaction=True)  # the check is deferred to a real commit
def test_the_database_refuses_a_split_that_does_not_sum_to_10000(setup) -> None:  # type: ignore[no-untyped-def]
    _, submission, user = setup
    with pytest.raises(IntegrityError, match="sum to 7000 basis points, not 10000"), transaction.atomic():
        RevenueShare.objects.create(submission=submission, user=user, basis_points=7000)
    with transaction.atomic():  # checked at commit: rows may be rearranged inside a transaction
        RevenueShare.objects.create(submission=submission, user=user, basis_points=7000)
        RevenueShare.objects.create(submission=submission, payee_name="A", payee_email="a@x.org", basis_points=3000)
    assert RevenueShare.objects.filter(submission=submission).count() == 2


def test_submit_no_longer_asks_for_what_was_given(setup) -> None:  # type: ignore[no-untyped-def]
    client, submission, user = setup
    client.put(f"/api/v1/submissions/{submission.id}/consent", TERMS, format="json")
    client.put(
        f"/api/v1/submissions/{submission.id}/contributors",
        {"contributors": [{"username": user.username, "basisPoints": 10000}]},
        format="json",
    )
    problems = client.get(f"/api/v1/submissions/{submission.id}").json()["problems"]
    assert not any("consent terms are missing" in p for p in problems)
    assert not any("revenue shares are missing" in p for p in problems)
    assert any("no archive upload has completed" in p for p in problems)
