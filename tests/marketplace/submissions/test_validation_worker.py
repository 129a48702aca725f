"""Validation by real Celery worker processes on the session's broker (kombu's filesystem broker
here, RabbitMQ on CI): a worker killed mid-run, storage unreachable for a while, a repeated
completion. Storage faults are real network faults: the worker reaches storage through a TCP
relay that refuses connections, or passes bytes slowly, like a broken or slow link."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import datacollective
import pytest
import requests
from datacollective.models import DatasetSubmission
from django.conf import settings

from marketplace import storage
from marketplace.models import Upload, Validation
from marketplace.submissions import validation
from tests.archive_builders import asr_members, write_tar
from tests.conftest import purge_task_queue, start_celery_worker, stop_celery_worker, wait_until
from tests.marketplace.submissions.conftest import SdkContributor
from tests.relay import StorageRelay

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
MiB = 1024 * 1024


@pytest.fixture
def start_worker(transactional_db: None, tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Start real worker processes (the session's broker, the test database); stop them at the end."""
    purge_task_queue()  # earlier tests' leftover tasks; a restarted worker below must keep its own
    started: list[subprocess.Popen[bytes]] = []
    logs: list[Path] = []

    def start(**env_overrides: str) -> subprocess.Popen[bytes]:
        log = tmp_path / f"worker-{len(started)}.log"
        logs.append(log)
        with log.open("wb") as out:
            worker = start_celery_worker(f"validation-{uuid.uuid4().hex[:8]}@%h", stdout=out, **env_overrides)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        stop_celery_worker(worker)
    for log in logs:
        sys.stdout.write(f"--- {log.name} (last lines) ---\n{log.read_text(errors='replace')[-3000:]}\n")


@pytest.fixture
def sdk(sdk_contributor: SdkContributor) -> dict[str, str]:
    return {"base": sdk_contributor.api_url, "key": sdk_contributor.key}


def upload_via_sdk(path: Path) -> Upload:
    draft = datacollective.create_submission_draft(DatasetSubmission(name="Worker test"))
    state = datacollective.upload_dataset_file(str(path), draft["submission"]["id"], show_progress=False)
    return Upload.objects.get(id=state.fileUploadId)


def status_of(upload: Upload) -> str:
    return Validation.objects.filter(upload=upload).values_list("status", flat=True).first() or "none"


def objects_under(prefix: str) -> list[str]:
    listed = storage.client().list_objects_v2(Bucket=storage.bucket(), Prefix=prefix)
    return [item["Key"] for item in listed.get("Contents", [])]


def test_a_worker_killed_mid_validation_is_replaced_and_the_work_finished_once(
    sdk: dict[str, str], start_worker: Callable[..., subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    members = {f"data/part-{i:02d}.bin": os.urandom(2 * MiB) for i in range(12)}
    archive = write_tar(tmp_path / "big.tar.gz", members)
    slow_link = StorageRelay(settings.S3_ENDPOINT_URL, bytes_per_second=3 * MiB)
    slow_link.open()
    try:
        doomed = start_worker(S3_ENDPOINT_URL=slow_link.url)
        upload = upload_via_sdk(archive)
        reading = wait_until(
            lambda: Validation.objects.filter(upload=upload, status="running", progress_bytes__gt=0).exists(),
            timeout=90,
        )
        assert reading, "the first worker never started reading the archive"
        os.killpg(doomed.pid, signal.SIGKILL)
        doomed.wait(timeout=10)
    finally:
        slow_link.close()
    killed_midway = Validation.objects.get(upload=upload)
    assert (killed_midway.status, killed_midway.attempts) == ("running", 1)
    assert killed_midway.progress_bytes < upload.size_bytes

    start_worker()
    # RabbitMQ and Redis hand the unacknowledged message to the new worker; the filesystem broker
    # may have lost it with the killed worker, and then beat's sweeper queues it again.
    validation.requeue_stuck(older_than=timedelta(0))
    assert wait_until(lambda: status_of(upload) == "passed", timeout=120), status_of(upload)

    done = Validation.objects.get(upload=upload)
    assert Validation.objects.filter(upload=upload).count() == 1
    assert (done.attempts, done.errors) == (2, [])
    assert {row["path"]: row["sha256"] for row in done.files} == {
        name: hashlib.sha256(data).hexdigest() for name, data in members.items()
    }
    upload.refresh_from_db()
    assert objects_under(f"quarantine/{upload.submission_id}/") == []
    assert objects_under(f"validated/{upload.submission_id}/") == [upload.object_key]
    assert storage.sha256_of(upload.object_key) == (upload.sha256, upload.size_bytes)


def test_storage_unreachable_for_a_while_is_retried_then_finished(
    sdk: dict[str, str], start_worker: Callable[..., subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    broken_link = StorageRelay(settings.S3_ENDPOINT_URL)  # refuses connections until opened
    try:
        start_worker(S3_ENDPOINT_URL=broken_link.url, VALIDATION_RETRY_SECONDS="1")
        upload = upload_via_sdk(write_tar(tmp_path / "tiny.tar.gz", asr_members()))
        quarantine_key = upload.object_key
        failed_once = wait_until(
            lambda: Validation.objects.filter(upload=upload).exclude(last_error="").exists(), timeout=90
        )
        assert failed_once, "the worker never tried to reach storage"
        interrupted = Validation.objects.get(upload=upload)
        assert interrupted.status == "pending" and "storage" in interrupted.last_error
        broken_link.open()
        assert wait_until(lambda: status_of(upload) == "passed", timeout=120), status_of(upload)
    finally:
        broken_link.close()
    done = Validation.objects.get(upload=upload)
    assert done.attempts >= 2 and done.last_error == "" and len(done.files) == len(asr_members())
    upload.refresh_from_db()
    assert upload.object_key.startswith("validated/") and storage.head(quarantine_key) is None


def test_completion_sent_twice_validates_once(
    sdk: dict[str, str], start_worker: Callable[..., subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    start_worker()
    data = write_tar(tmp_path / "tiny.tar.gz", asr_members()).read_bytes()
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {sdk['key']}"
    draft = session.post(f"{sdk['base']}/submissions", json={"name": "Twice"}).json()["submission"]["id"]
    declared = {"submissionId": draft, "filename": "tiny.tar.gz", "fileSize": len(data), "mimeType": "application/gzip"}
    started = session.post(f"{sdk['base']}/uploads", json=declared).json()
    url = session.get(f"{sdk['base']}/uploads/{started['fileUploadId']}/parts/1").json()["url"]
    etag = requests.put(url, data=data, timeout=60).headers["ETag"].strip('"')
    body = {"uploadId": started["uploadId"], "parts": [{"partNumber": 1, "etag": etag}],
            "checksum": hashlib.sha256(data).hexdigest()}  # fmt: skip
    first = session.post(f"{sdk['base']}/uploads/{started['fileUploadId']}", json=body)
    again = session.post(f"{sdk['base']}/uploads/{started['fileUploadId']}", json=body)
    assert (first.status_code, again.status_code) == (200, 200)

    upload = Upload.objects.get(id=started["fileUploadId"])
    assert wait_until(lambda: status_of(upload) == "passed", timeout=120), status_of(upload)
    assert Validation.objects.filter(upload=upload).count() == 1
    assert Validation.objects.get(upload=upload).attempts == 1
    report = session.get(f"{sdk['base']}/v1/submissions/{draft}/validation").json()
    assert report["status"] == "passed" and report["archive"] == {"sha256": body["checksum"], "size": len(data)}
