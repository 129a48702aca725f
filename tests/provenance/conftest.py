"""A version published the real way: uploaded through the SDK to real storage, validated by the
worker's service, submitted with consent and a revenue split, approved by a reviewer."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import datacollective
import pytest
from datacollective.models import DatasetSubmission

from licensing.consent.inputs import ConsentTermsInput
from licensing.consent.terms import add_consent_records, set_consent_terms
from marketplace.models import DatasetVersion, Membership, Submission, Upload, User
from marketplace.organizations.services import approve_organization
from marketplace.submissions import drafts, review, validation
from marketplace.submissions.inputs import DatasheetChanges, Share
from provenance.lineage import parent_refs, set_parents
from tests.archive_builders import wav_bytes, write_tar
from tests.factories import license_for, organization

CONSENT = {
    "aiTraining": True, "commercialUse": True, "researchOnly": False, "redistribution": True, "derivatives": True,
    "scope": "Speech models.", "consentText": "My recordings may train speech models.",
    "collectionStart": "2025-01-01", "collectionEnd": "2025-06-30", "withdrawalProcess": "Email us your id.",
}  # fmt: skip


@dataclass
class Published:
    version: DatasetVersion
    archive: Path
    members: dict[str, bytes]
    base_url: str


@pytest.fixture
def publish_real(live_server: Any, monkeypatch: pytest.MonkeyPatch, bearer: Any, make_user: Any, tmp_path: Path):
    org = approve_organization(organization=organization("speech-co"))
    author, key = bearer("upload", "read")
    reviewer: User = make_user("reviewer")
    Membership.objects.create(organization=org, user=author, role="member")
    Membership.objects.create(organization=org, user=reviewer, role="reviewer")
    monkeypatch.setenv("MDC_API_URL", f"{live_server.url}/api")
    monkeypatch.setenv("MDC_API_KEY", key)
    license_for("CC-BY-4.0")

    def publish(
        name: str = "Valley Speech", members: dict[str, bytes] | None = None, parents: Any = (), **datasheet: Any
    ) -> Published:
        files = members or {
            "train.tsv": b"path\tsentence\na.wav\thello\n",
            "clips/a.wav": wav_bytes(),
            "README.md": f"# {name}\n".encode(),
        }
        archive = write_tar(tmp_path / f"{len(list(tmp_path.iterdir()))}.tar.gz", files)
        draft = datacollective.create_submission_draft(DatasetSubmission(name=name))
        submission = Submission.objects.get(id=draft["submission"]["id"])
        fields = {"shortDescription": "Short.", "longDescription": "Long.", "locale": "cy", "task": "ASR",
                  "format": "TSV, WAV", "licenseAbbreviation": "CC-BY-4.0", "intendedUsage": "ASR.",
                  "pointOfContactFullName": "Ann", "pointOfContactEmail": "ann@example.org", **datasheet}  # fmt: skip
        drafts.update_submission(submission=submission, changes=DatasheetChanges.from_json(fields))
        terms = set_consent_terms(submission=submission, user=author, terms=ConsentTermsInput.from_json(CONSENT))
        add_consent_records(terms=terms, rows=[{"contributorId": "c-1", "givenAt": "2025-02-01T10:00:00Z",
                                                "termsSha256": terms.consent_text_sha256}])  # fmt: skip
        drafts.set_revenue_split(submission=submission, shares=[Share(username=author.username, basis_points=10_000)])
        set_parents(submission=submission, parents=parent_refs(list(parents)), user=author)
        state = datacollective.upload_dataset_file(str(archive), submission.id, show_progress=False)
        validation.run_validation(upload_id=Upload.objects.get(id=state.fileUploadId).id)
        submission.refresh_from_db()
        drafts.submit_submission(submission=submission)
        version = review.approve_submission(submission=submission, reviewer=reviewer)
        return Published(version, archive, files, live_server.url)

    return publish
