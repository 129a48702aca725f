"""``drafts.create_version_submission`` and ``open_version_draft``: a draft of version N+1 of a
published dataset, prefilled from the current version, opened from the page and the API, with its
changelog. (Its approval, which publishes version 2 onto the same dataset, runs in
test_sdk_new_versions through the SDK, and in test_seed_demo.)"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from licensing.consent.withdrawals import withdraw_consent
from licensing.licenses import spdx_license
from marketplace.models import Membership, Submission, Upload, User, Validation
from marketplace.organizations.services import approve_organization
from marketplace.publishing import publish_version, takedown_dataset
from marketplace.submissions import drafts, rules
from marketplace.submissions.forms import DatasheetForm
from marketplace.submissions.inputs import DatasheetChanges
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(make_user: Any) -> dict[str, User]:
    org = approve_organization(organization=factories.organization("speech-co"))
    other = approve_organization(organization=factories.organization("other-co"))
    users = {name: make_user(name) for name in ("member", "reviewer", "outsider")}
    Membership.objects.create(organization=org, user=users["member"], role="member")
    Membership.objects.create(organization=org, user=users["reviewer"], role="reviewer")
    Membership.objects.create(organization=other, user=users["outsider"], role="owner")
    return users


def test_the_draft_carries_the_datasheet_and_license_of_the_dataset(people: dict[str, User]) -> None:
    dataset = factories.published_dataset(
        "valley-speech", org=factories.organization("speech-co"), name="Valley Speech", locale="cy", task="ASR",
        visibility="restricted", is_paid=True, base_price_cents=20_000, intended_usage="ASR research.",
    )  # fmt: skip
    draft = drafts.create_version_submission(user=people["member"], dataset=dataset)
    assert (draft.dataset, draft.organization, draft.status, draft.created_by) == (
        dataset, dataset.organization, "draft", people["member"]
    )  # fmt: skip
    assert (draft.name, draft.locale, draft.task, draft.visibility, draft.base_price_cents, draft.intended_usage) == (
        "Valley Speech", "cy", "ASR", "restricted", 20_000, "ASR research."
    )  # fmt: skip
    assert (draft.license_abbreviation, spdx_license(draft.license_abbreviation)) == ("CC-BY-4.0", dataset.license)


@pytest.mark.parametrize("who", ["reviewer", "outsider"])
def test_only_uploaders_of_the_dataset_organization_open_one(people: dict[str, User], who: str) -> None:
    dataset = factories.published_dataset("valley-speech", org=factories.organization("speech-co"))
    with pytest.raises(PermissionDenied):
        drafts.create_version_submission(user=people[who], dataset=dataset)


def test_a_taken_down_dataset_gets_no_new_version(people: dict[str, User], make_user: Any) -> None:
    dataset = factories.published_dataset("valley-speech", org=factories.organization("speech-co"))
    takedown_dataset(dataset=dataset, reason="A legal claim.", by=make_user("staff", is_staff=True))
    with pytest.raises(rules.SubmissionConflict, match="removed"):
        drafts.create_version_submission(user=people["member"], dataset=dataset)


# --- The draft's prefill, the one open draft, the changelog -------------------------------------------


def _published_through_review(people: dict[str, User], make_user: Any) -> Submission:
    """v1 of a dataset published by approving a submission with consent terms, a record and a split."""
    from licensing.consent.inputs import ConsentTermsInput
    from licensing.consent.terms import add_consent_records, set_consent_terms
    from marketplace.submissions.inputs import Share
    from tests.provenance.conftest import CONSENT

    dataset = factories.published_dataset("valley-speech", org=factories.organization("speech-co"))
    submission = Submission.objects.create(
        organization=dataset.organization, created_by=people["member"], name=dataset.name, dataset=dataset
    )
    terms = set_consent_terms(submission=submission, user=people["member"], terms=ConsentTermsInput.from_json(CONSENT))
    add_consent_records(terms=terms, rows=[
        {"contributorId": who, "givenAt": "2025-02-01T10:00:00Z", "termsSha256": terms.consent_text_sha256}
        for who in ("c-1", "c-2")
    ])  # fmt: skip
    payee = Share(name="Payee", email="payee@example.org", basis_points=3_000)
    drafts.set_revenue_split(submission=submission, shares=[Share(username="member", basis_points=7_000), payee])
    # As approval leaves it: the submission names the version it published.
    Submission.objects.filter(id=submission.id).update(
        status="approved", version=dataset.current_version, reviewed_at=timezone.now()
    )
    return Submission.objects.get(id=submission.id)


def test_the_draft_carries_consent_terms_records_and_split_as_new_rows(people: dict[str, User], make_user: Any) -> None:
    published = _published_through_review(people, make_user)
    dataset = published.dataset
    assert dataset is not None
    withdraw_consent(by=people["member"], dataset=dataset, version_number=1, record_ids=["r-9"], contributor_id="c-2")
    draft, created = drafts.open_version_draft(user=people["member"], dataset=dataset)
    assert created
    source, copy = published.consent_terms.get(), draft.consent_terms.get()
    assert copy.id != source.id
    assert (copy.consent_text, copy.consent_text_sha256, copy.collection_end) == (
        source.consent_text, source.consent_text_sha256, source.collection_end
    )  # fmt: skip
    # c-2 withdrew: their consent does not reach the next version; v1's evidence is untouched.
    assert [record.contributor_id for record in copy.records.all()] == ["c-1"]
    assert source.records.count() == 2
    assert [(s.user_id, s.payee_email, s.basis_points) for s in draft.revenue_shares.all()] == [
        (people["member"].id, "", 7_000), (None, "payee@example.org", 3_000)
    ]  # fmt: skip
    assert {s.id for s in draft.revenue_shares.all()}.isdisjoint({s.id for s in published.revenue_shares.all()})


def test_one_open_draft_per_dataset_and_none_while_one_is_in_review(people: dict[str, User]) -> None:
    dataset = factories.published_dataset("valley-speech", org=factories.organization("speech-co"))
    first, created = drafts.open_version_draft(user=people["member"], dataset=dataset)
    again, created_again = drafts.open_version_draft(user=people["member"], dataset=dataset)
    assert (created, created_again, again.id) == (True, False, first.id)
    Submission.objects.filter(id=first.id).update(status="submitted", submitted_at=timezone.now())
    with pytest.raises(rules.SubmissionConflict, match="in review"):
        drafts.open_version_draft(user=people["member"], dataset=dataset)
    with pytest.raises(PermissionDenied):
        drafts.open_version_draft(user=people["reviewer"], dataset=dataset)


def test_a_version_is_not_submitted_without_a_changelog(people: dict[str, User]) -> None:
    dataset = factories.published_dataset("valley-speech", org=factories.organization("speech-co"))
    draft, _ = drafts.open_version_draft(user=people["member"], dataset=dataset)
    assert "changelog is missing: say what changed in this version" in drafts.submission_problems(draft)
    drafts.update_submission(submission=draft, changes=DatasheetChanges.of({"changelog": "  Fixed a.wav.\r\n "}))
    draft.refresh_from_db()
    assert draft.changelog == "Fixed a.wav."
    assert not any("changelog" in problem for problem in drafts.submission_problems(draft))
    # A new dataset's submission has no changelog to give.
    new = drafts.create_submission(user=people["member"], name="New")
    assert not any("changelog" in problem for problem in drafts.submission_problems(new))


# --- Through the API and the page ----------------------------------------------------------------------


def test_api_opens_the_draft_and_sets_its_changelog(people: dict[str, User], bearer: Any) -> None:
    dataset = factories.published_dataset("valley-speech", org=factories.organization("speech-co"))
    _, key = bearer("upload", "read", user=people["member"])
    client = APIClient(headers={"Authorization": f"Bearer {key}"})
    url = f"/api/v1/datasets/{dataset.id}/versions"
    made = client.post(url, {"changelog": "Added 200 clips."}, format="json")
    assert made.status_code == 201, made.content
    body = made.json()
    draft_id = body["submission"]["id"]
    assert (body["submission"]["datasetId"], body["submission"]["changelog"]) == (dataset.id, "Added 200 clips.")
    assert body == client.get(f"/api/v1/submissions/{draft_id}").json()  # the same JSON as GET
    reused = client.post(url)
    assert (reused.status_code, reused.json()["submission"]["id"]) == (200, draft_id)

    changed = client.put(f"/api/v1/submissions/{draft_id}/changelog", {"changelog": "Added 300 clips."}, format="json")
    assert (changed.status_code, changed.json()) == (200, {"changelog": "Added 300 clips."})
    bad = client.put(f"/api/v1/submissions/{draft_id}/changelog", {"changelog": 3}, format="json")
    assert bad.status_code == 400 and "changelog: must be a string" in bad.json()["message"]
    # E8 is the MDC datasheet, which has no changelog: refused by name, nothing changed.
    e8 = client.patch(f"/api/submissions/{draft_id}", {"changelog": "x"}, format="json")
    assert e8.status_code == 400 and "Unknown field(s): changelog" in e8.json()["message"]

    Submission.objects.filter(id=draft_id).update(status="submitted", submitted_at=timezone.now())
    in_review = client.post(url)
    assert in_review.status_code == 409 and "is in review" in in_review.json()["message"]


@pytest.mark.parametrize(("who", "status"), [("reviewer", 403), ("outsider", 404)])
def test_api_refuses_others_in_words(people: dict[str, User], bearer: Any, who: str, status: int) -> None:
    dataset = factories.published_dataset(
        "valley-speech", org=factories.organization("speech-co"), visibility="private"
    )
    _, key = bearer("upload", "read", user=people[who])
    answer = APIClient(headers={"Authorization": f"Bearer {key}"}).post(f"/api/v1/datasets/{dataset.id}/versions")
    assert answer.status_code == status and answer.json()["message"]
    assert not Submission.objects.filter(dataset=dataset).exists()


def test_page_button_opens_the_draft_once(people: dict[str, User], client: Client) -> None:
    dataset = factories.published_dataset("valley-speech", org=factories.organization("speech-co"))
    page = f"/datasets/{dataset.slug}/"
    client.force_login(people["reviewer"])
    assert "New version" not in client.get(page).content.decode()
    client.force_login(people["member"])
    assert 'action="/datasets/valley-speech/new-version/"' in client.get(page).content.decode()
    first = client.post(f"{page}new-version/")
    draft = Submission.objects.get(dataset=dataset)
    assert (first.status_code, first["Location"]) == (302, f"/submissions/{draft.id}/")
    edit = client.get(first["Location"]).content.decode()
    assert "Draft of version 2" in edit and "What changed in this version" in edit
    second = client.post(f"{page}new-version/")
    assert second["Location"] == f"/submissions/{draft.id}/" and Submission.objects.filter(dataset=dataset).count() == 1
    assert "was already open" in client.get(second["Location"]).content.decode()

    form = {key: value for key, value in DatasheetForm.initial_of(draft).items() if value not in (None, False)}
    saved = client.post(f"/submissions/{draft.id}/", {**form, "changelog": "Fixed a.wav."})
    assert saved.status_code == 302, saved.content.decode()[:2000]
    assert Submission.objects.get(id=draft.id).changelog == "Fixed a.wav."


def test_page_csrf_and_get_are_refused(people: dict[str, User]) -> None:
    dataset = factories.published_dataset("valley-speech", org=factories.organization("speech-co"))
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(people["member"])
    assert browser.post(f"/datasets/{dataset.slug}/new-version/").status_code == 403
    assert browser.get(f"/datasets/{dataset.slug}/new-version/").status_code == 405
    assert not Submission.objects.filter(dataset=dataset).exists()


def test_the_version_list_shows_each_changelog(people: dict[str, User], client: Client) -> None:
    dataset = factories.published_dataset("valley-speech", org=factories.organization("speech-co"))
    publish_version(dataset=dataset, archive_key="published/x/2.tar.gz", size_bytes=10, sha256="b" * 64,
                    license=factories.license_for("CC-BY-4.0"), changelog="Removed clip c-2.")  # fmt: skip
    html = client.get(f"/datasets/{dataset.slug}/").content.decode()
    assert "<dt>Version 2</dt><dd>Removed clip c-2.</dd>" in html
    assert "<dt>Version 1</dt><dd>First version.</dd>" in html
    listed = client.get(f"/api/v1/datasets/{dataset.id}/versions").json()
    assert [(v["number"], v["changelog"]) for v in listed] == [(2, "Removed clip c-2."), (1, "")]


def test_a_version_that_brings_back_withdrawn_files_is_not_submitted(people: dict[str, User]) -> None:
    """A draft started before a withdrawal, or an old archive uploaded again, would publish the
    withdrawn records once more: what keeps it from review names the files."""
    dataset = factories.published_dataset("valley-speech", org=factories.organization("speech-co"))
    owner = dataset.organization.memberships.get(role="owner").user
    clip = "ab" * 32
    withdraw_consent(by=owner, dataset=dataset, version_number=1, record_ids=["clips/c-2.wav"], file_hashes=[clip])
    draft, _ = drafts.open_version_draft(user=people["member"], dataset=dataset)
    upload = Upload.objects.create(
        submission=draft, kind="archive", filename="v2.tar.gz", size_bytes=10, mime_type="application/gzip",
        object_key="validated/x/archive.tar.gz", s3_upload_id="", status="completed", sha256="cd" * 32,
        created_by=people["member"], completed_at=timezone.now(),
    )  # fmt: skip
    files = [{"path": "clips/c-1.wav", "size": 4, "sha256": "ef" * 32}, {"path": "clips/again.wav", "size": 4,
             "sha256": clip}, {"path": "clips/c-2.wav", "size": 4, "sha256": "01" * 32}]  # fmt: skip
    Validation.objects.create(upload=upload, status="passed", files=files, archive_format="tar.gz",
                              archive_sha256="cd" * 32, archive_size=10, finished_at=timezone.now())  # fmt: skip
    Submission.objects.filter(id=draft.id).update(archive_upload=upload)
    draft.refresh_from_db()
    problems = drafts.submission_problems(draft)
    assert (
        "the archive holds 2 files whose contributors withdrew consent (clips/again.wav, clips/c-2.wav): upload an "
        "archive without them"
    ) in problems
    Validation.objects.filter(upload=upload).update(files=files[:1])
    again = Submission.objects.get(id=draft.id)
    assert not any("withdrew consent" in problem for problem in drafts.submission_problems(again))
