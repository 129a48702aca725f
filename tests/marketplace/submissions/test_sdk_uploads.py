"""Archive and sample uploads through the official SDK: multipart straight to real storage (E11-E14)."""

from __future__ import annotations

import hashlib
import os
import signal
from pathlib import Path
from typing import Any

import datacollective
import pytest
import requests
from datacollective.errors import ResourceRemovedError
from datacollective.models import DatasetSubmission

from marketplace import storage
from marketplace.models import Submission, Upload
from tests.conftest import python_child, sdk_parts_done, slow_sdk_upload_script, wait_until
from tests.marketplace.submissions.conftest import SdkContributor

pytestmark = pytest.mark.django_db(transaction=True)
MiB = 1024 * 1024


@pytest.fixture
def submission_id(sdk_contributor: SdkContributor) -> str:
    return str(datacollective.create_submission_draft(DatasetSubmission(name="Upload test"))["submission"]["id"])


def _archive(path: Path, size: int) -> str:
    data = os.urandom(size)
    path.write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def test_multipart_upload_lands_in_quarantine_with_its_hash(submission_id: str, tmp_path: Path) -> None:
    archive = tmp_path / "speech.tar.gz"
    checksum = _archive(archive, 11 * MiB + 123)
    state = datacollective.upload_dataset_file(
        str(archive), submission_id, show_progress=False, part_size=5 * MiB, max_workers=3
    )
    assert len(state.parts) == 3
    upload = Upload.objects.get(id=state.fileUploadId)
    assert (upload.status, upload.sha256, upload.size_bytes, upload.filename) == (
        "completed", checksum, 11 * MiB + 123, "speech.tar.gz"
    )  # fmt: skip
    assert upload.object_key.startswith(f"quarantine/{submission_id}/") and "speech" not in upload.object_key
    assert storage.sha256_of(upload.object_key) == (checksum, 11 * MiB + 123)
    assert Submission.objects.get(id=submission_id).archive_upload_id == upload.id
    assert not (tmp_path / "speech.tar.gz.mdc-upload.json").exists()


def test_sample_upload(submission_id: str, tmp_path: Path) -> None:
    sample = tmp_path / "sample.tgz"
    checksum = _archive(sample, 64 * 1024)
    state = datacollective.upload_sample_file(str(sample), submission_id, show_progress=False)
    upload = Upload.objects.get(id=state.fileUploadId)
    assert (upload.kind, upload.sha256) == ("sample", checksum)
    assert Submission.objects.get(id=submission_id).sample_upload_id == upload.id


def _session() -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {os.environ['MDC_API_KEY']}"
    return session


def _start_and_put(base: str, submission_id: str, data: bytes, part_size: int) -> tuple[str, dict[str, Any]]:
    """Start an upload of ``data`` and PUT its parts: the upload's id and the completion body that finishes it."""
    session = _session()
    declared: dict[str, Any] = {"submissionId": submission_id, "filename": "x.tar.gz", "fileSize": len(data)}
    started = session.post(f"{base}/uploads", json={**declared, "mimeType": "application/gzip"}).json()
    parts = []
    for number, offset in enumerate(range(0, len(data), part_size), start=1):
        url = session.get(f"{base}/uploads/{started['fileUploadId']}/parts/{number}").json()["url"]
        put = requests.put(url, data=data[offset : offset + part_size], timeout=60)
        assert put.status_code == 200, put.text
        parts.append({"partNumber": number, "etag": put.headers["ETag"].strip('"')})
    completion = {"uploadId": started["uploadId"], "parts": parts, "checksum": hashlib.sha256(data).hexdigest()}
    return started["fileUploadId"], completion


def test_repeat_completion_is_200_and_a_wrong_checksum_is_left_to_validation(
    submission_id: str, live_server: Any
) -> None:
    """E14 reads nothing back: a wrong SHA-256 is recorded as declared and the upload queued for
    validation, which reads every byte and fails it (tests/hardening/test_upload_abuse.py); a
    repeat with another checksum is refused."""
    base = f"{live_server.url}/api"
    data = os.urandom(6 * MiB)
    file_upload_id, body = _start_and_put(base, submission_id, data, 5 * MiB)
    first = _session().post(f"{base}/uploads/{file_upload_id}", json=body)
    again = _session().post(f"{base}/uploads/{file_upload_id}", json=body)
    assert (first.status_code, again.status_code) == (200, 200)
    assert first.json() == again.json()

    other = os.urandom(6 * MiB)
    file_upload_id, other_body = _start_and_put(base, submission_id, other, 5 * MiB)
    wrong = {**other_body, "checksum": "0" * 64}
    answered = _session().post(f"{base}/uploads/{file_upload_id}", json=wrong)
    assert answered.status_code == 200 and answered.json()["sha256"] == "0" * 64
    upload = Upload.objects.get(id=file_upload_id)
    assert (upload.status, upload.sha256) == ("completed", "0" * 64)
    assert upload.validation.status == "pending"
    assert storage.sha256_of(upload.object_key) == (hashlib.sha256(other).hexdigest(), 6 * MiB)
    refused = _session().post(f"{base}/uploads/{file_upload_id}", json=other_body)
    assert refused.status_code == 409 and "already completed with another checksum" in refused.json()["message"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda body: body["parts"].pop(), "the parts hold"),
        (lambda body: body["parts"][0].update(etag="0" * 32), "part 1 has ETag"),
        (lambda body: body["parts"].append({"partNumber": 3, "etag": "abc"}), "part 3 was never uploaded"),
        (lambda body: body["parts"].reverse(), "must run 1, 2, 3"),
        (lambda body: body.update(parts=[]), "must list at least one"),
        (lambda body: body.update(checksum="ABC"), "SHA-256 hex digest of the whole file (64 hexadecimal digits)"),
        (lambda body: body.update(uploadId="someone-else"), "does not belong to this upload"),
    ],
)
def test_bad_completions_say_what_is_wrong(submission_id: str, live_server: Any, change, message: str) -> None:  # type: ignore[no-untyped-def]
    base = f"{live_server.url}/api"
    data = os.urandom(6 * MiB)
    file_upload_id, body = _start_and_put(base, submission_id, data, 5 * MiB)
    change(body)
    response = _session().post(f"{base}/uploads/{file_upload_id}", json=body)
    assert response.status_code == 400
    assert message in response.json()["message"]
    assert Upload.objects.get(id=file_upload_id).status == "uploading"  # the client may still fix it


def test_small_parts_and_bad_starts_are_refused(submission_id: str, live_server: Any) -> None:
    base = f"{live_server.url}/api"
    data = os.urandom(3 * MiB)
    file_upload_id, body = _start_and_put(base, submission_id, data, 1 * MiB)
    response = _session().post(f"{base}/uploads/{file_upload_id}", json=body)
    assert response.status_code == 400 and "every part but the last needs at least 5 MiB" in response.json()["message"]

    start: dict[str, Any] = {
        "submissionId": submission_id,
        "filename": "data.zip",
        "fileSize": 0,
        "mimeType": "text/plain",
    }
    refused = _session().post(f"{base}/uploads", json=start)
    assert refused.status_code == 400
    for part in ("filename: must be a bare file name ending in .tar.gz or .tgz", "fileSize: must be a whole number",
                 "mimeType: must be application/gzip"):  # fmt: skip
        assert part in refused.json()["message"]
    too_big: dict[str, Any] = {
        **start,
        "filename": "a.tar.gz",
        "fileSize": 60 * 1024**3,
        "mimeType": "application/gzip",
    }
    assert "over this instance's limit" in _session().post(f"{base}/uploads", json=too_big).json()["message"]
    bad_part = _session().get(f"{base}/uploads/{file_upload_id}/parts/10001")
    assert bad_part.status_code == 400 and "between 1 and 10000" in bad_part.json()["message"]


def test_uploads_of_a_deleted_submission_are_gone(submission_id: str, tmp_path: Path) -> None:
    datacollective.delete_submission(submission_id)
    archive = tmp_path / "late.tar.gz"
    _archive(archive, 1024)
    with pytest.raises(ResourceRemovedError):
        datacollective.upload_dataset_file(str(archive), submission_id, show_progress=False)


def test_resume_after_the_uploading_process_is_killed(submission_id: str, tmp_path: Path) -> None:
    archive = tmp_path / "big.tar.gz"
    checksum = _archive(archive, 40 * MiB)
    state_file = tmp_path / "big.tar.gz.mdc-upload.json"
    # A slow link: every part PUT waits, so the process is killed with parts done and parts to do.
    with python_child(slow_sdk_upload_script(archive, submission_id)) as child:
        assert wait_until(lambda: sdk_parts_done(state_file) >= 2, timeout=60, interval=0.05)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    done_before = sdk_parts_done(state_file)
    assert 2 <= done_before < 8
    assert Upload.objects.filter(submission_id=submission_id).count() == 1

    state = datacollective.upload_dataset_file(str(archive), submission_id, show_progress=False)
    assert Upload.objects.filter(submission_id=submission_id).count() == 1  # the same upload, resumed
    upload = Upload.objects.get(id=state.fileUploadId)
    assert (upload.status, upload.sha256) == ("completed", checksum)
    assert not state_file.exists()


def test_unfinished_uploads_are_aborted_after_seven_days(submission_id: str, live_server: Any) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from marketplace.tasks import abort_unfinished_uploads

    base = f"{live_server.url}/api"
    file_upload_id, _ = _start_and_put(base, submission_id, os.urandom(MiB), 5 * MiB)
    upload = Upload.objects.get(id=file_upload_id)
    assert storage.list_parts(upload.object_key, upload_id=upload.s3_upload_id)
    assert abort_unfinished_uploads() == 0  # six days and a bit: still resumable
    Upload.objects.filter(id=upload.id).update(created_at=timezone.now() - timedelta(days=6, hours=23))
    assert abort_unfinished_uploads() == 0
    Upload.objects.filter(id=upload.id).update(created_at=timezone.now() - timedelta(days=7, minutes=1))
    assert abort_unfinished_uploads() == 1
    upload.refresh_from_db()
    assert upload.status == "aborted" and "not completed within 7 days" in upload.error
    client = storage.client()
    listed = client.list_multipart_uploads(Bucket=storage.bucket(), Prefix=upload.object_key).get("Uploads", [])
    assert listed == []
    assert abort_unfinished_uploads() == 0  # idempotent
    gone = _session().get(f"{base}/uploads/{file_upload_id}/parts/1")
    assert gone.status_code == 410 and "Start a new upload" in gone.json()["message"]
