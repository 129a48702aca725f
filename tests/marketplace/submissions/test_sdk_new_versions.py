"""A new version through the official SDK, end to end against a live server and real storage:
v1 published, ``upload_dataset_file`` to the approved submission (the SDK's documented way to add a
version), the changelog through /api/v1, ``update_submission`` and ``submit_submission`` on the
draft, approval; then ``download_dataset`` gets v2 while /api/v1 still serves v1 (pinning), and a
licensee's grant carries over only while the terms hash is unchanged."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import datacollective
import pytest
import requests
from datacollective.models import DatasetSubmission

from licensing.consent.inputs import ConsentTermsInput
from licensing.consent.terms import add_consent_records, set_consent_terms
from marketplace.models import Dataset, Membership, Submission, Upload, User
from marketplace.organizations.services import approve_organization
from marketplace.submissions import drafts, review, validation
from marketplace.submissions.inputs import DatasheetChanges, Share
from tests.archive_builders import wav_bytes, write_tar
from tests.factories import license_for, organization
from tests.provenance.conftest import CONSENT

pytestmark = pytest.mark.django_db(transaction=True)

DATASHEET = {
    "shortDescription": "Short.", "longDescription": "Long.", "locale": "cy", "task": "ASR", "format": "TSV, WAV",
    "licenseAbbreviation": "CC-BY-4.0", "intendedUsage": "ASR.", "pointOfContactFullName": "Ann",
    "pointOfContactEmail": "ann@example.org",
}  # fmt: skip


def _session(key: str) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {key}"
    return session


def _archive(tmp_path: Path, name: str, sentence: str) -> Path:
    files = {"train.tsv": f"path\tsentence\na.wav\t{sentence}\n".encode(), "clips/a.wav": wav_bytes()}
    return write_tar(tmp_path / name, files)


def _validate(upload_id: str) -> None:
    """The worker's service, run here (the validation worker has tests of its own)."""
    validation.run_validation(upload_id=upload_id)


@pytest.fixture
def people(live_server: Any, monkeypatch: pytest.MonkeyPatch, bearer: Any, make_user: Any) -> dict[str, Any]:
    org = approve_organization(organization=organization("speech-co"))
    author, key = bearer("upload", "read")
    licensee, licensee_key = bearer("read", "download", user=make_user("licensee"))
    reviewer: User = make_user("reviewer")
    Membership.objects.create(organization=org, user=author, role="member")
    Membership.objects.create(organization=org, user=reviewer, role="reviewer")
    monkeypatch.setenv("MDC_API_URL", f"{live_server.url}/api")
    monkeypatch.setenv("MDC_API_KEY", key)
    license_for("CC-BY-4.0")
    license_for("CC-BY-SA-4.0")
    return {"author": author, "key": key, "reviewer": reviewer, "licensee": licensee,
            "licensee_key": licensee_key, "base": live_server.url}  # fmt: skip


def _publish_v1(people: dict[str, Any], tmp_path: Path) -> Submission:
    """Version 1 the ordinary way: E7, the datasheet, consent with a record, the split, the SDK upload."""
    author = people["author"]
    draft_id = datacollective.create_submission_draft(DatasetSubmission(name="Valley Speech"))["submission"]["id"]
    submission = Submission.objects.get(id=draft_id)
    drafts.update_submission(submission=submission, changes=DatasheetChanges.from_json(DATASHEET))
    terms = set_consent_terms(submission=submission, user=author, terms=ConsentTermsInput.from_json(CONSENT))
    add_consent_records(terms=terms, rows=[{"contributorId": "c-1", "givenAt": "2025-02-01T10:00:00Z",
                                            "termsSha256": terms.consent_text_sha256}])  # fmt: skip
    drafts.set_revenue_split(submission=submission, shares=[Share(username=author.username, basis_points=10_000)])
    state = datacollective.upload_dataset_file(str(_archive(tmp_path, "v1.tar.gz", "hello")), draft_id,
                                               show_progress=False)  # fmt: skip
    _validate(state.fileUploadId)
    datacollective.submit_submission(draft_id, DatasetSubmission(agreeToSubmit=True))
    review.approve_submission(submission=Submission.objects.get(id=draft_id), reviewer=people["reviewer"])
    return Submission.objects.get(id=draft_id)


def _accept_current_terms(people: dict[str, Any], dataset_id: str) -> str:
    licensee = _session(people["licensee_key"])
    terms = licensee.get(f"{people['base']}/api/v1/datasets/{dataset_id}/terms").json()
    accepted = licensee.post(f"{people['base']}/api/v1/datasets/{dataset_id}/grants",
                             json={"termsSha256": terms["termsSha256"]})  # fmt: skip
    assert accepted.status_code == 201, accepted.text
    return str(terms["termsSha256"])


def _pinned_download(people: dict[str, Any], dataset_id: str, number: int) -> requests.Response:
    url = f"{people['base']}/api/v1/datasets/{dataset_id}/versions/{number}/files/archive/download"
    return _session(people["licensee_key"]).post(url)


def _add_version(people: dict[str, Any], approved: Submission, archive: Path, **datasheet: Any) -> Submission:
    """What a contributor does with the SDK to add a version: upload to the approved submission,
    then finish the draft the upload went to (its id comes back from POST .../versions, which
    reuses the open draft)."""
    state = datacollective.upload_dataset_file(str(archive), approved.id, show_progress=False)
    assert state.submissionId == approved.id  # the SDK keeps the id it was given; the server redirected
    upload = Upload.objects.get(id=state.fileUploadId)
    draft = upload.submission
    assert (draft.status, draft.dataset_id, draft.archive_upload_id) == ("draft", approved.dataset_id, upload.id)
    author = _session(people["key"])
    opened = author.post(f"{people['base']}/api/v1/datasets/{approved.dataset_id}/versions",
                         json={"changelog": "Re-recorded clip a.wav."})  # fmt: skip
    assert opened.status_code == 200, opened.text  # the open draft, not a second one
    assert opened.json()["submission"]["id"] == draft.id
    assert opened.json()["submission"]["changelog"] == "Re-recorded clip a.wav."
    _validate(upload.id)
    if datasheet:
        datacollective.update_submission(draft.id, DatasetSubmission(**datasheet))
    datacollective.submit_submission(draft.id, DatasetSubmission(agreeToSubmit=True))
    review.approve_submission(submission=Submission.objects.get(id=draft.id), reviewer=people["reviewer"])
    return Submission.objects.get(id=draft.id)


def test_sdk_upload_to_the_approved_submission_publishes_version_2(
    people: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    approved = _publish_v1(people, tmp_path)
    dataset = Dataset.objects.get(id=approved.dataset_id)
    v1_sha = dataset.current_version.sha256 if dataset.current_version else ""
    terms_hash = _accept_current_terms(people, dataset.id)

    archive = _archive(tmp_path, "v2.tar.gz", "hello again")
    second = _add_version(people, approved, archive)

    dataset.refresh_from_db()
    assert (second.status, second.dataset_id) == ("approved", dataset.id)
    assert dataset.current_version is not None
    assert (dataset.current_version.number, dataset.slug, Dataset.objects.count()) == (2, "valley-speech", 1)
    assert dataset.current_version.sha256 == hashlib.sha256(archive.read_bytes()).hexdigest()
    assert dataset.current_version.changelog == "Re-recorded clip a.wav."
    # The draft carried v1's consent (a copy, records included) and split.
    assert second.consent_terms.get().records.get().contributor_id == "c-1"
    assert [(share.user_id, share.basis_points) for share in second.revenue_shares.all()] == [
        (people["author"].id, 10_000)
    ]
    versions = requests.get(f"{people['base']}/api/v1/datasets/{dataset.id}/versions", timeout=10).json()
    assert [(v["number"], v["changelog"]) for v in versions] == [(2, "Re-recorded clip a.wav."), (1, "")]

    # The licensee's grant for v1 covers v2 (same terms hash): the SDK downloads the current version.
    monkeypatch.setenv("MDC_API_KEY", people["licensee_key"])
    path = datacollective.download_dataset(dataset.id, download_directory=str(tmp_path / "dl"), show_progress=False)
    assert Path(path).name == "valley-speech-v2.tar.gz"
    assert Path(path).read_bytes() == archive.read_bytes()
    current_terms = _session(people["licensee_key"]).get(f"{people['base']}/api/v1/datasets/{dataset.id}/terms")
    assert (current_terms.json()["version"], current_terms.json()["termsSha256"]) == (2, terms_hash)
    # Pinning: version 1's archive is still served through /api/v1.
    pinned = _pinned_download(people, dataset.id, 1)
    assert pinned.status_code == 200, pinned.text
    assert pinned.json()["sha256"] == v1_sha
    assert hashlib.sha256(requests.get(pinned.json()["downloadUrl"], timeout=30).content).hexdigest() == v1_sha


def test_a_new_license_needs_a_new_acceptance(people: dict[str, Any], tmp_path: Path) -> None:
    approved = _publish_v1(people, tmp_path)
    dataset_id = str(approved.dataset_id)
    old_hash = _accept_current_terms(people, dataset_id)

    _add_version(people, approved, _archive(tmp_path, "v2.tar.gz", "relicensed"), licenseAbbreviation="CC-BY-SA-4.0")

    licensee = _session(people["licensee_key"])
    new_terms = licensee.get(f"{people['base']}/api/v1/datasets/{dataset_id}/terms").json()
    assert (new_terms["version"], new_terms["termsSha256"] != old_hash) == (2, True)
    refused = licensee.post(f"{people['base']}/api/datasets/{dataset_id}/download")
    assert refused.status_code == 403 and "The terms changed since you accepted them" in refused.json()["message"]
    # v1 stays downloadable under the terms accepted for it (pinning).
    assert _pinned_download(people, dataset_id, 1).status_code == 200
    _accept_current_terms(people, dataset_id)
    assert licensee.post(f"{people['base']}/api/datasets/{dataset_id}/download").status_code == 200


def test_e11_names_the_draft_and_e12_e14_of_a_sample_follow_it(people: dict[str, Any], tmp_path: Path) -> None:
    approved = _publish_v1(people, tmp_path)
    author = _session(people["key"])
    archive = _archive(tmp_path, "again.tar.gz", "hi")
    size = archive.stat().st_size
    start: dict[str, Any] = {"submissionId": approved.id, "filename": "again.tar.gz", "fileSize": size,
                             "mimeType": "application/gzip"}  # fmt: skip
    first = author.post(f"{people['base']}/api/uploads", json=start)
    again = author.post(f"{people['base']}/api/uploads", json=start)
    assert (first.status_code, again.status_code) == (200, 200)
    draft_id = first.json()["submissionId"]
    assert draft_id != approved.id and again.json()["submissionId"] == draft_id  # one draft, reused
    assert Submission.objects.filter(dataset_id=approved.dataset_id, status="draft").count() == 1
    # The sample goes the same way; the SDK keeps addressing the approved submission.
    state = datacollective.upload_sample_file(str(archive), approved.id, show_progress=False)
    assert Upload.objects.get(id=state.fileUploadId).submission_id == draft_id
    assert Submission.objects.get(id=draft_id).sample_upload_id == state.fileUploadId
