"""Reviewing submissions in the browser's pages, deleting one with its files, and the upload
endpoints the page's widget uses besides E11-E14 (stored parts, abort)."""

from __future__ import annotations

import os
from datetime import date
from typing import Any

import pytest
import requests
from botocore.exceptions import ClientError
from django.test import Client

from licensing.consent import terms as consent
from licensing.consent.inputs import ConsentTermsInput
from marketplace import storage
from marketplace.models import Membership, Submission, Upload, User
from marketplace.organizations.services import approve_organization
from marketplace.submissions import drafts, review
from tests import factories
from tests.second_factor import pass_second_factor

pytestmark = pytest.mark.django_db(transaction=True)
MiB = 1024 * 1024


@pytest.fixture
def people(make_user: Any) -> dict[str, User]:
    org = approve_organization(organization=factories.organization("speech-co"))
    other = approve_organization(organization=factories.organization("other-co"))
    users = {name: make_user(name) for name in ("author", "reviewer", "stranger", "staff")}
    Membership.objects.create(organization=org, user=users["author"], role="member")
    Membership.objects.create(organization=org, user=users["reviewer"], role="reviewer")
    Membership.objects.create(organization=other, user=users["stranger"], role="reviewer")
    User.objects.filter(username="staff").update(is_staff=True)
    users["staff"].refresh_from_db()
    return users


def client_for(user: User) -> Client:
    client = Client()
    pass_second_factor(client, user)  # reviewers approve and reject with one
    return client


def submitted(author: User) -> Submission:
    """A submission in review (set directly: reaching it through the pages needs a validated archive)."""
    submission = drafts.create_submission(user=author, name="Valley speech")
    Submission.objects.filter(id=submission.id).update(status="submitted", submitted_at=submission.created_at)
    submission.refresh_from_db()
    return submission


def test_reviewers_see_their_organizations_queue_never_their_own_work(people: dict[str, User]) -> None:
    submission = submitted(people["author"])
    assert [s.id for s in review.review_queue(user=people["reviewer"])] == [submission.id]
    assert [s.id for s in review.review_queue(user=people["staff"])] == [submission.id]
    assert review.review_queue(user=people["stranger"]) == []
    assert review.review_queue(user=people["author"]) == []

    page = client_for(people["reviewer"]).get("/review/")
    assert page.status_code == 200 and b"Valley speech" in page.content
    assert client_for(people["stranger"]).get(f"/review/{submission.id}/").status_code == 403
    assert client_for(people["author"]).get(f"/review/{submission.id}/").status_code == 403


def test_reject_needs_a_reason_which_the_contributor_then_reads(people: dict[str, User]) -> None:
    submission = submitted(people["author"])
    reviewer = client_for(people["reviewer"])

    blank = reviewer.post(f"/review/{submission.id}/", {"decision": "reject", "reason": "  "})
    assert blank.status_code == 400 and b"This field is required" in blank.content
    assert Submission.objects.get(id=submission.id).status == "submitted"

    done = reviewer.post(f"/review/{submission.id}/", {"decision": "reject", "reason": "The TSV has no header."})
    assert done.status_code == 302
    rejected = Submission.objects.get(id=submission.id)
    assert (rejected.status, rejected.review_reason, rejected.reviewed_by) == (
        "rejected", "The TSV has no header.", people["reviewer"]
    )  # fmt: skip

    page = client_for(people["author"]).get(f"/submissions/{submission.id}/")
    assert b"Rejected by the reviewer" in page.content and b"The TSV has no header." in page.content
    again = reviewer.post(f"/review/{submission.id}/", {"decision": "reject", "reason": "twice"})
    assert again.status_code == 400 and b"not waiting for review" in again.content


def test_approval_is_refused_while_anything_is_missing(people: dict[str, User]) -> None:
    submission = submitted(people["author"])
    answer = client_for(people["reviewer"]).post(f"/review/{submission.id}/", {"decision": "approve"})
    assert answer.status_code == 400
    assert b"It cannot be approved" in answer.content and b"no archive upload has completed" in answer.content
    assert Submission.objects.get(id=submission.id).status == "submitted"


def test_datasheet_errors_show_beside_their_fields_and_good_values_save(people: dict[str, User]) -> None:
    factories.license_for("CC-BY-4.0")
    submission = drafts.create_submission(user=people["author"], name="Valley speech")
    author = client_for(people["author"])
    form = {"name": "Valley speech", "visibility": "public", "license_choice": "", "short_description": "Speech"}

    bad = author.post(f"/submissions/{submission.id}/", {**form, "is_paid": "on", "price": "0.50"})
    assert bad.status_code == 400
    assert "Set a price from 100.00 USD to 50,000.00 USD." in bad.content.decode()
    assert "cents" not in bad.content.decode()
    assert Submission.objects.get(id=submission.id).short_description == ""  # nothing half-written

    custom = author.post(
        f"/submissions/{submission.id}/", {**form, "license_choice": "__custom__", "license_name": "Valley terms"}
    )
    assert custom.status_code == 400 and b"Paste the exact text of the custom terms" in custom.content

    saved = author.post(
        f"/submissions/{submission.id}/",
        {**form, "license_choice": "__custom__", "license_name": "Valley terms", "license_text": "Use it.\r\nKindly."},
    )
    assert saved.status_code == 302
    stored = Submission.objects.get(id=submission.id)
    assert (stored.license_abbreviation, stored.license_text, stored.short_description) == (
        "Valley terms", "Use it.\nKindly.", "Speech"
    )  # fmt: skip

    spdx = author.post(f"/submissions/{submission.id}/", {**form, "license_choice": "CC-BY-4.0"})
    assert spdx.status_code == 302
    stored.refresh_from_db()
    assert (stored.license_abbreviation, stored.license_name, stored.license_text) == (
        "CC-BY-4.0",
        "CC-BY-4.0 terms",
        "",
    )
    assert "licenseText is missing" not in " ".join(drafts.submission_problems(stored))


def test_a_draft_is_not_open_to_review_until_submitted(people: dict[str, User]) -> None:
    """The review page showed a draft's datasheet, consent terms and contributors to the
    organization's reviewers (and staff), whom the draft's own page refuses."""
    draft = drafts.create_submission(user=people["author"], name="Valley speech")
    for person in ("reviewer", "staff"):
        assert client_for(people[person]).get(f"/submissions/{draft.id}/").status_code == 403
        assert client_for(people[person]).get(f"/review/{draft.id}/").status_code == 403
    Submission.objects.filter(id=draft.id).update(status="submitted", submitted_at=draft.created_at)
    assert client_for(people["reviewer"]).get(f"/review/{draft.id}/").status_code == 200


def test_another_organization_cannot_open_a_draft(people: dict[str, User]) -> None:
    submission = drafts.create_submission(user=people["author"], name="Valley speech")
    assert client_for(people["stranger"]).get(f"/submissions/{submission.id}/").status_code == 403


def _start(live_server: Any, key: str, submission_id: str, size: int) -> dict[str, Any]:
    answer = requests.post(
        f"{live_server.url}/api/uploads",
        json={"submissionId": submission_id, "filename": "a.tar.gz", "fileSize": size, "mimeType": "application/gzip"},
        headers={"Authorization": f"Bearer {key}"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_stored_parts_let_a_page_resume_and_abort_frees_them(live_server: Any, bearer: Any) -> None:
    org = approve_organization(organization=factories.organization("speech-co"))
    user, key = bearer("upload", "read")
    Membership.objects.create(organization=org, user=user, role="member")
    submission = drafts.create_submission(user=user, name="Resumable")
    auth = {"Authorization": f"Bearer {key}"}
    started = _start(live_server, key, submission.id, 6 * MiB)
    upload_id = started["fileUploadId"]

    part = requests.get(f"{live_server.url}/api/uploads/{upload_id}/parts/1", headers=auth, timeout=10).json()
    assert requests.put(part["url"], data=os.urandom(5 * MiB), timeout=30).status_code == 200

    listed = requests.get(f"{live_server.url}/api/v1/uploads/{upload_id}/parts", headers=auth, timeout=10)
    assert listed.status_code == 200
    assert [(p["partNumber"], p["size"]) for p in listed.json()["parts"]] == [(1, 5 * MiB)]

    detail = requests.get(f"{live_server.url}/api/v1/submissions/{submission.id}", headers=auth, timeout=10).json()
    assert detail["upload"]["fileUploadId"] == upload_id
    assert (detail["upload"]["status"], detail["upload"]["sizeBytes"], detail["sampleUpload"]) == (
        "uploading", 6 * MiB, None
    )  # fmt: skip

    aborted = requests.delete(f"{live_server.url}/api/v1/uploads/{upload_id}", headers=auth, timeout=10)
    assert aborted.status_code == 204
    assert Upload.objects.get(id=upload_id).status == "aborted"
    detail = requests.get(f"{live_server.url}/api/v1/submissions/{submission.id}", headers=auth, timeout=10).json()
    assert (detail["upload"]["status"], detail["upload"]["error"]) == ("aborted", "aborted by the uploader")
    with pytest.raises(ClientError):
        storage.list_parts(Upload.objects.get(id=upload_id).object_key, upload_id=started["uploadId"])
    gone = requests.get(f"{live_server.url}/api/uploads/{upload_id}/parts/2", headers=auth, timeout=10)
    assert gone.status_code == 410

    stranger, stranger_key = bearer("upload", "read")
    other = requests.get(
        f"{live_server.url}/api/v1/uploads/{upload_id}/parts",
        headers={"Authorization": f"Bearer {stranger_key}"},
        timeout=10,
    )
    assert other.status_code == 403


def test_deleting_a_submission_removes_its_objects_and_parts(live_server: Any, bearer: Any) -> None:
    org = approve_organization(organization=factories.organization("speech-co"))
    user, key = bearer("upload", "read")
    Membership.objects.create(organization=org, user=user, role="member")
    submission = drafts.create_submission(user=user, name="To delete")
    storage.put_stream("quarantine/stray", __import__("io").BytesIO(b"x"))
    started = _start(live_server, key, submission.id, 6 * MiB)
    upload = Upload.objects.get(id=started["fileUploadId"])
    consent.set_consent_terms(
        submission=submission,
        user=user,
        terms=ConsentTermsInput(
            ai_training=True, commercial_use=False, research_only=False, redistribution=False, derivatives=True,
            consent_text="yes",
            withdrawal_process="mail us", collection_start=date(2025, 1, 1), collection_end=date(2025, 1, 2),
        ),
    )  # fmt: skip

    page = Client()
    page.force_login(user)
    asked = page.post(f"/submissions/{submission.id}/delete/")  # the page's button: a confirmation first
    assert asked.status_code == 200 and "Yes, delete the submission and its files" in asked.content.decode()
    assert Submission.objects.get(id=submission.id).status != "deleted"
    answer = page.post(f"/submissions/{submission.id}/delete/", {"confirm": "yes"})
    assert answer.status_code == 302
    assert Submission.objects.get(id=submission.id).status == "deleted"
    assert Upload.objects.get(id=upload.id).status == "aborted"
    with pytest.raises(ClientError):
        storage.list_parts(upload.object_key, upload_id=started["uploadId"])
    assert storage.head("quarantine/stray") is not None  # only its own files go
    assert page.get(f"/submissions/{submission.id}/").status_code == 404
