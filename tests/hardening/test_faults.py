"""Faults with real processes (issue 10, deliverable 5): SIGKILL of web, worker and beat in the
middle of work, a broker restart that loses its queue, a PostgreSQL restart and a storage stop.

One private stack for the module (tests/hardening/fault_stack.py): its own PostgreSQL, SeaweedFS
and Redis, gunicorn, a Celery worker and beat, as ``make run`` starts them. Users act through the
HTTP API and the ``datacollective`` SDK; the test only plays the supervisor that starts a killed
process again. After each fault, the uploads, stored objects, grants, payments and ledger sums
recorded before are all still there, the new work is done exactly once, the ledger balances, and
no process other than the one that was hit had to be restarted.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import datacollective
import pytest
import redis
import requests
from datacollective.models import DatasetSubmission

from marketplace.models import ParquetExport, Upload, Validation
from tests.archive_builders import asr_members, write_tar
from tests.conftest import python_child, sdk_parts_done, slow_sdk_upload_script, wait_until
from tests.hardening.fault_stack import (
    REDIS_SERVER,
    STUCK_SECONDS,
    SWEEP_SECONDS,
    FaultStack,
    Seed,
    Snapshot,
    wait_for,
)
from tests.relay import StorageRelay

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        REDIS_SERVER is None,
        reason="the fault suite runs its own Redis broker (crash-safety tests run on Redis or RabbitMQ): "
        "apt install redis-server",
    ),
]
MiB = 1024 * 1024


@pytest.fixture(scope="module")
def stack() -> Iterator[FaultStack]:
    base = Path(tempfile.mkdtemp(prefix="dc-faults-"))
    started = FaultStack(base)
    try:
        started.start()
        yield started
    finally:
        sys.stdout.write(started.log_tails())
        started.stop()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def seed(stack: FaultStack) -> Seed:
    return stack.seed()


@pytest.fixture
def owner(stack: FaultStack, seed: Seed, monkeypatch: pytest.MonkeyPatch) -> Iterator[Seed]:
    """The SDK pointed at the private stack as the uploading organization's owner; afterwards, the
    stack back to its normal state whatever the test left behind."""
    monkeypatch.setenv("MDC_API_URL", f"{stack.url}/api")
    monkeypatch.setenv("MDC_API_KEY", seed.owner_key)
    yield seed
    restore(stack)


_licensees = iter(range(1_000))


@pytest.fixture
def licensee(seed: Seed) -> str:
    """A licensee's API key that has bought nothing yet."""
    return seed.licensees[next(_licensees)]


def restore(stack: FaultStack) -> None:
    if stack.redis.proc is None:
        stack.redis.start()
    if stack.seaweed.proc is None:
        stack.seaweed.start()
    if not stack.postgres.running_port():
        stack.postgres.start()
    for name, start in (("web", stack.start_web), ("worker", stack.start_worker), ("beat", stack.start_beat)):
        proc = stack.processes.get(name)
        if proc is None or proc.poll() is not None or name in stack.overridden:
            stack.stop_process(name)
            start()
    stack.wait_healthy()


# --- What users do -----------------------------------------------------------------------------


def session(key: str) -> requests.Session:
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {key}"
    return http


def buy(stack: FaultStack, seed: Seed, licensee_key: str, dataset_id: str) -> dict[str, Any]:
    """A licensee opens an invoice for a paid dataset; the selling organization's owner marks it paid
    (POST /api/v1/invoices/{id}/payment), which records the payment, the grant and the ledger posting."""
    opened = session(licensee_key).post(f"{stack.url}/api/v1/datasets/{dataset_id}/purchases")
    assert opened.status_code == 201, opened.text
    invoice = opened.json()
    paid = session(seed.owner_key).post(
        f"{stack.url}/api/v1/invoices/{invoice['invoiceId']}/payment", json={"reference": "bank transfer"}
    )
    assert paid.status_code == 200 and paid.json()["status"] == "paid", paid.text
    return invoice


def accept_free(stack: FaultStack, licensee_key: str, dataset_id: str) -> dict[str, Any]:
    http = session(licensee_key)
    terms = http.get(f"{stack.url}/api/v1/datasets/{dataset_id}/terms")
    assert terms.status_code == 200, terms.text
    granted = http.post(
        f"{stack.url}/api/v1/datasets/{dataset_id}/grants", json={"termsSha256": terms.json()["termsSha256"]}
    )
    assert granted.status_code == 201, granted.text
    return granted.json()


def new_submission(name: str) -> str:
    return str(datacollective.create_submission_draft(DatasetSubmission(name=name))["submission"]["id"])


def random_archive(path: Path, members: int, member_bytes: int = 2 * MiB) -> tuple[Path, dict[str, str]]:
    """A gzip tar of random (incompressible) members, and the SHA-256 of each."""
    data = {f"data/part-{n:02d}.bin": os.urandom(member_bytes) for n in range(members)}
    write_tar(path, data)
    return path, {name: hashlib.sha256(body).hexdigest() for name, body in data.items()}


def upload(path: Path, submission_id: str) -> str:
    state = datacollective.upload_dataset_file(str(path), submission_id, show_progress=False)
    return str(state.fileUploadId)


def status_of(stack: FaultStack, upload_id: str) -> str:
    found = stack.validation_of(upload_id)
    return found["status"] if found else "none"


def assert_published_once(stack: FaultStack, after: Snapshot, upload_id: str, path: Path) -> None:
    status, sha256, size, key = after.uploads[upload_id]
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert (status, sha256, size) == ("completed", digest, path.stat().st_size)
    assert key.startswith("validated/") and key.endswith(f"-{upload_id}.tar.gz")
    # The archive once; beside it, the viewer's Parquet export of its tables, which a pass queues.
    published = [k for k in after.objects if k.startswith("validated/") and upload_id in k and "-parquet/" not in k]
    assert published == [key], published
    assert after.objects[key][0] == size
    submission = key.split("/")[1]
    assert [k for k in after.objects if k.startswith(f"quarantine/{submission}/")] == []
    validation_status, _, quarantine_key, archive_sha256 = after.validations[upload_id]
    assert (validation_status, quarantine_key, archive_sha256) == ("passed", "", digest)


def assert_purchase_posted(before: Snapshot, after: Snapshot, invoice: dict[str, Any], org_id: str) -> None:
    """One payment's posting: cash in, the fee to the platform, the rest owed to the organization."""
    assert before.ledger_delta(after) == {
        "cash:received": invoice["amountCents"],
        "platform:fees": -invoice["platformFeeCents"],
        f"payable:org:{org_id}": -invoice["basePriceCents"],
    }
    assert after.ledger_transactions == before.ledger_transactions + 1
    assert len(after.payments) == len(before.payments) + 1


def start_slow_worker(stack: FaultStack, relay: StorageRelay) -> None:
    """Replace the worker by one that reaches storage over a slow link, so that a validation lasts
    long enough for a fault to land in its middle (set-up, not a fault: a graceful stop)."""
    stack.stop_process("worker")
    stack.start_worker(S3_ENDPOINT_URL=relay.url)


def wait_derived_files_settled(stack: FaultStack) -> None:
    """Until no viewer export or index job of an earlier test is still writing its files: a job in
    flight when storage stops rebuilds its derived files on its retry (a DuckDB file is not
    byte-for-byte the same twice), so a snapshot is taken once they are all written. If they do
    not settle, the message names the exports still waiting, with their attempts and last error."""
    table = ParquetExport._meta.db_table
    unsettled = (
        "status = 'pending' OR (status = 'ready' AND EXISTS ("
        "SELECT 1 FROM jsonb_array_elements(tables) AS t WHERE NOT (t ? 'index' AND t ? 'database')))"
    )
    count = f"SELECT count(*) FROM {table} WHERE {unsettled}"  # noqa: S608
    if not wait_until(lambda: stack.rows(count)[0][0] == 0, timeout=180, interval=0.3):
        waiting = stack.rows(
            f"SELECT upload_id, status, attempts, error, updated_at FROM {table} WHERE {unsettled}"  # noqa: S608
        )
        raise AssertionError(f"earlier exports and indexes did not settle within 180 s: {waiting}\n{stack.log_tails()}")


def wait_reading(stack: FaultStack, upload_id: str) -> None:
    """Mid-task, from the database: running, some bytes read, not all."""
    wait_for(
        lambda: (
            (found := stack.validation_of(upload_id)) is not None
            and found["status"] == "running"
            and found["progress_bytes"] > 0
        ),
        timeout=90,
        what="the worker reading the archive",
        stack=stack,
    )


def validation_killed_midway(stack: FaultStack, tmp_path: Path) -> tuple[str, Path]:
    """An archive whose validation was under way when its worker got SIGKILL."""
    relay = StorageRelay(stack.seaweed.endpoint_url, bytes_per_second=3 * MiB).open()
    try:
        start_slow_worker(stack, relay)
        path, _ = random_archive(tmp_path / "big.tar.gz", members=10)
        upload_id = upload(path, new_submission("Killed mid-validation"))
        wait_reading(stack, upload_id)
        stack.kill("worker")
    finally:
        relay.close()
    killed = stack.validation_of(upload_id)
    assert killed is not None and (killed["status"], killed["attempts"]) == ("running", 1)
    assert killed["progress_bytes"] < path.stat().st_size
    stack.start_worker()
    return upload_id, path


def lost_the_api(output: bytes) -> bool:
    """Whether a client's traceback tells of the API going away: refused outright, or cut off in the
    middle of an answer (the web was killed while it was sending one: requests says the connection
    broke, http.client that the far end disconnected)."""
    marks = (b"ConnectionError", b"Connection refused", b"ChunkedEncodingError", b"Connection broken",
             b"RemoteDisconnected")  # fmt: skip
    return any(mark in output for mark in marks)


# --- The faults ----------------------------------------------------------------------------------


def test_web_killed_mid_upload_is_restarted_and_the_sdk_resumes(
    stack: FaultStack, owner: Seed, licensee: str, tmp_path: Path
) -> None:
    before = stack.snapshot()
    others = stack.pids()
    path, _ = random_archive(tmp_path / "upload.tar.gz", members=3, member_bytes=10 * MiB)
    submission_id = new_submission("Web killed mid-upload")
    state_file = tmp_path / "upload.tar.gz.mdc-upload.json"
    # The SDK in its own process, on a slow link: each part waits before its PUT.
    script = slow_sdk_upload_script(path, submission_id)
    with python_child(script, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) as child:
        wait_for(lambda: sdk_parts_done(state_file) >= 2, timeout=60, interval=0.05,
                 what="two parts uploaded", stack=stack)  # fmt: skip
        stack.kill("web")
        output, _ = child.communicate(timeout=60)
    assert child.returncode != 0, "the upload finished although the API was down"
    assert lost_the_api(output), output[-2000:]
    done_before = sdk_parts_done(state_file)
    assert 2 <= done_before < 7

    stack.start_web()  # the supervisor's part
    stack.wait_healthy()
    upload_id = upload(path, submission_id)  # the user runs the same call again: it resumes
    wait_for(lambda: status_of(stack, upload_id) == "passed", timeout=120, what="validation", stack=stack)
    invoice = buy(stack, owner, licensee, owner.paid[0])

    after = stack.snapshot()
    before.assert_kept_in(after)
    new_uploads = set(after.uploads) - set(before.uploads)
    assert new_uploads == {upload_id}  # resumed, not started over
    assert_published_once(stack, after, upload_id, path)
    assert_purchase_posted(before, after, invoice, owner.org_id)
    assert not state_file.exists()
    assert {name: pid for name, pid in stack.pids().items() if name != "web"} == {
        name: pid for name, pid in others.items() if name != "web"
    }


def joined_but_completing(stack: FaultStack, submission_id: str) -> bool:
    table = Upload._meta.db_table
    found = stack.rows(f"SELECT status, object_key FROM {table} WHERE submission_id = %s", (submission_id,))  # noqa: S608
    return len(found) == 1 and found[0][0] == "completing" and stack.has_object(found[0][1])


def test_web_killed_mid_completion_and_the_retried_completion_finishes_it(
    stack: FaultStack, owner: Seed, tmp_path: Path
) -> None:
    """The completion joins the parts in storage, then records the upload as completed: a web
    process killed in between leaves the upload ``completing`` with its object joined. The retry
    must finish it."""
    # Storage's answers reach the web at 100 bytes a second: each one waits for the one before it on
    # the kept-alive connection, so the join's answer (sent once the object is joined) waits seconds
    # behind the listing of parts, and that is when the web is killed.
    relay = StorageRelay(stack.seaweed.endpoint_url, bytes_per_second=100).open()
    try:
        # Set-up: a web whose own calls to storage are slow (presigned URLs still name storage).
        stack.stop_process("web")
        stack.start_web(S3_ENDPOINT_URL=relay.url, S3_PUBLIC_ENDPOINT_URL=stack.seaweed.endpoint_url)
        stack.wait_healthy()
        before = stack.snapshot()
        others = {name: pid for name, pid in stack.pids().items() if name != "web"}
        path, _ = random_archive(tmp_path / "joined.tar.gz", members=5)
        submission_id = new_submission("Web killed mid-completion")
        call = f"upload_dataset_file({str(path)!r}, {submission_id!r}, show_progress=False)"
        script = f"import datacollective; datacollective.{call}"
        with python_child(script, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) as child:
            # Mid-completion, from the database and the bucket: completing, the parts already joined.
            wait_for(lambda: joined_but_completing(stack, submission_id), timeout=90, interval=0.1,
                     what="the completion between the join and its record", stack=stack)  # fmt: skip
            stack.kill("web")
            output, _ = child.communicate(timeout=60)
        assert child.returncode != 0, output[-2000:]
    finally:
        relay.close()

    stack.start_web()  # the supervisor's part
    stack.wait_healthy()
    upload_id = upload(path, submission_id)  # the user runs the same call again
    wait_for(lambda: status_of(stack, upload_id) == "passed", timeout=120, what="validation", stack=stack)

    after = stack.snapshot()
    before.assert_kept_in(after)
    assert set(after.uploads) - set(before.uploads) == {upload_id}
    assert_published_once(stack, after, upload_id, path)
    assert {name: pid for name, pid in stack.pids().items() if name != "web"} == others


def test_worker_killed_mid_validation_is_replaced_and_the_work_finished_once(
    stack: FaultStack, owner: Seed, tmp_path: Path
) -> None:
    before = stack.snapshot()
    beat, web = stack.processes["beat"].pid, stack.processes["web"].pid
    upload_id, path = validation_killed_midway(stack, tmp_path)
    # Redis keeps the killed worker's unacknowledged message until its visibility timeout (twice the
    # longest task); beat's sweeper queues the validation again once nobody has touched it.
    wait_for(lambda: status_of(stack, upload_id) == "passed", timeout=120, what="validation", stack=stack)

    after = stack.snapshot()
    before.assert_kept_in(after)
    assert set(after.uploads) - set(before.uploads) == {upload_id}
    assert after.validations[upload_id][1] == 2  # the killed run and the one that finished
    assert_published_once(stack, after, upload_id, path)
    assert (stack.processes["beat"].pid, stack.processes["web"].pid) == (beat, web)
    assert stack.processes["beat"].poll() is None and stack.processes["web"].poll() is None


def test_beat_killed_and_restarted_still_sweeps(stack: FaultStack, owner: Seed, tmp_path: Path) -> None:
    before = stack.snapshot()
    web = stack.processes["web"].pid
    stack.kill("beat")
    # While beat is down a worker dies mid-validation: nobody queues that validation again.
    upload_id, path = validation_killed_midway(stack, tmp_path)
    wait_for(
        lambda: (
            (found := stack.validation_of(upload_id)) is not None
            and found["idle_seconds"] > STUCK_SECONDS + SWEEP_SECONDS + 1
        ),
        timeout=60,
        what="the validation going stale",
        stack=stack,
    )
    stale = stack.validation_of(upload_id)
    assert stale is not None and (stale["status"], stale["attempts"]) == ("running", 1)

    stack.start_beat()  # the supervisor's part; its schedule file survived the SIGKILL
    wait_for(lambda: status_of(stack, upload_id) == "passed", timeout=120, what="the sweeper's re-run", stack=stack)

    after = stack.snapshot()
    before.assert_kept_in(after)
    assert after.validations[upload_id][1] == 2
    assert_published_once(stack, after, upload_id, path)
    assert stack.processes["web"].pid == web


def test_broker_restart_loses_the_queue_and_the_sweeper_finishes_the_work(
    stack: FaultStack, owner: Seed, licensee: str, tmp_path: Path
) -> None:
    relay = StorageRelay(stack.seaweed.endpoint_url, bytes_per_second=3 * MiB).open()
    try:
        start_slow_worker(stack, relay)  # busy long enough for a second message to wait in the queue
        before = stack.snapshot()
        pids = stack.pids()
        running_path, _ = random_archive(tmp_path / "running.tar.gz", members=10)
        running = upload(running_path, new_submission("Being validated"))
        wait_reading(stack, running)
        queued_path = write_tar(tmp_path / "queued.tar.gz", asr_members())
        queued = upload(queued_path, new_submission("Waiting in the queue"))
        broker = redis.Redis(port=stack.redis.port)
        # The private stack's queue: its processes' env names no CELERY_QUEUE, whatever the test run's is.
        waiting = [json.loads(raw)["headers"] for raw in broker.lrange("celery", 0, -1)]
        broker.close()
        # Its message waits (beside beat's sweeper runs, which queue up behind the busy worker).
        assert [h["argsrepr"] for h in waiting if h["task"].endswith("validate_upload")] == [repr((queued,))]

        stack.redis.kill()  # no persistence: both messages (the unacked one and the queued one) are gone
        code, report = stack.health()
        assert code == 503 and report["broker"].startswith("error:") and report["database"] == "ok", report
        # Work arrives while the broker is down: the upload completes (its validation is recorded
        # in the database; queueing it fails after the commit) and a purchase needs no broker.
        outage_path = write_tar(tmp_path / "during-outage.tar.gz", {**asr_members(), "notes.txt": b"outage"})
        during = upload(outage_path, new_submission("Broker down"))
        assert status_of(stack, during) == "pending"
        invoice = buy(stack, owner, licensee, owner.paid[1])

        stack.redis.start()  # same port, empty
        wait_for(
            lambda: [status_of(stack, u) for u in (running, queued, during)] == ["passed"] * 3,
            timeout=150,
            what="the three validations",
            stack=stack,
        )
        stack.wait_healthy(timeout=30)
        after = stack.snapshot()
    finally:
        relay.close()
    before.assert_kept_in(after)
    assert set(after.uploads) - set(before.uploads) == {running, queued, during}
    for upload_id, path in ((running, running_path), (queued, queued_path), (during, outage_path)):
        assert_published_once(stack, after, upload_id, path)
    assert_purchase_posted(before, after, invoice, owner.org_id)
    assert stack.pids() == pids  # web, worker and beat reconnected by themselves


def test_postgres_restart_answers_503_then_recovers_without_restarts(
    stack: FaultStack, owner: Seed, licensee: str, tmp_path: Path
) -> None:
    before = stack.snapshot()
    pids = stack.pids()
    # Both web workers hold a database connection from before the restart.
    for _ in range(4):
        assert session(owner.owner_key).get(f"{stack.url}/api/v1/me").status_code == 200
    stack.postgres.stop()
    code, report = stack.health()
    assert code == 503 and report["database"].startswith("error:") and report["storage"] == "ok", report
    down = session(owner.owner_key).get(f"{stack.url}/api/v1/me")
    assert down.status_code == 503 and "database" in down.json()["message"], down.text

    stack.postgres.start()  # same data directory, same port
    stack.wait_healthy(timeout=60)
    answers = [session(key).get(f"{stack.url}/api/v1/me").status_code for key in owner.licensees[:4]]
    answers += [session(owner.owner_key).get(f"{stack.url}/api/datasets").status_code for _ in range(4)]
    assert answers == [200] * 8
    page = requests.get(f"{stack.url}/datasets/", timeout=30)
    assert page.status_code == 200

    path = write_tar(tmp_path / "after-restart.tar.gz", asr_members())
    upload_id = upload(path, new_submission("After the database restart"))
    wait_for(lambda: status_of(stack, upload_id) == "passed", timeout=120, what="validation", stack=stack)
    invoice = buy(stack, owner, licensee, owner.paid[2])
    grant = accept_free(stack, owner.licensees[-1], owner.free)

    after = stack.snapshot()
    before.assert_kept_in(after)
    assert_published_once(stack, after, upload_id, path)
    assert_purchase_posted(before, after, invoice, owner.org_id)
    assert grant["grantId"] in after.grants and len(after.grants) == len(before.grants) + 2
    assert stack.pids() == pids  # web, worker and beat reconnected by themselves


def test_storage_stopped_mid_validation_answers_503_and_the_work_finishes_after_restart(
    stack: FaultStack, owner: Seed, tmp_path: Path
) -> None:
    # The earlier tests' exports and indexes are finished by the worker that was given them, before
    # it is replaced: a job it is stopped in the middle of is handed back to the queue, which a
    # set-up step has no reason to test.
    wait_derived_files_settled(stack)
    relay = StorageRelay(stack.seaweed.endpoint_url, bytes_per_second=3 * MiB).open()
    try:
        start_slow_worker(stack, relay)
        wait_derived_files_settled(stack)
        before = stack.snapshot()
        pids = stack.pids()
        path, members = random_archive(tmp_path / "storage.tar.gz", members=10)
        submission_id = new_submission("Storage stopped")
        upload_id = upload(path, submission_id)
        wait_reading(stack, upload_id)

        stack.seaweed.stop()
        code, report = stack.health()
        assert code == 503 and report["storage"].startswith("error:") and report["database"] == "ok", report
        declared: dict[str, Any] = {"submissionId": submission_id, "filename": "more.tar.gz", "fileSize": 1024,
                    "mimeType": "application/gzip"}  # fmt: skip
        refused = session(owner.owner_key).post(f"{stack.url}/api/uploads", json=declared)
        assert refused.status_code == 503, refused.text
        assert "storage" in refused.json()["message"] and refused.headers.get("Retry-After")
        wait_for(
            lambda: (found := stack.validation_of(upload_id)) is not None and found["last_error"] != "",
            timeout=120,
            what="the worker noticing storage is gone",
            stack=stack,
        )

        stack.seaweed.start()  # same data directory, same S3 port
        wait_for(lambda: status_of(stack, upload_id) == "passed", timeout=180, what="validation", stack=stack)
        stack.wait_healthy(timeout=30)
        after = stack.snapshot()
    finally:
        relay.close()
    before.assert_kept_in(after)
    assert set(after.uploads) - set(before.uploads) == {upload_id}
    assert_published_once(stack, after, upload_id, path)
    table = Validation._meta.db_table
    validation = stack.rows(f"SELECT files FROM {table} WHERE upload_id = %s", (upload_id,))  # noqa: S608
    assert {row["path"]: row["sha256"] for row in validation[0][0]} == members
    assert stack.pids() == pids  # the worker retried; nothing was restarted
