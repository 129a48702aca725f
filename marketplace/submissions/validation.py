"""Validation of completed uploads: a worker reads every byte, then keeps the file or explains.

Flow: completing an upload (E14) creates a pending ``Validation`` and, after commit, queues
``marketplace.tasks.validate_upload`` with the upload's id. The task streams the object from
the quarantine prefix (``marketplace.inspection.archives``), checks the contents
(``marketplace.inspection.contents``) and then either

* passes: copies the object to the validated prefix on the server side, records the report and
  points the upload at the validated key in one transaction, then deletes the quarantine copy.
  Nothing is published yet: a version is published when a reviewer approves the submission
  (``marketplace.submissions.review``);
* fails: records the report; the contributor sees what to fix.

Crash safety. Each run holds a PostgreSQL advisory lock, on a connection of its own, for the
upload: a second copy of the task (a redelivery, a re-queue by beat) finds it taken and leaves.
The lock dies with the worker's connection, so after a SIGKILL the next delivery starts over from
the quarantine object, which stays until the pass is committed. Every step can be repeated: a
copy to the same validated key, a conditional status update, a delete of a key that may be gone.
Beat re-queues validations nobody has touched for ``VALIDATION_STUCK_MINUTES`` whose lock is
free, and passed ones whose quarantine copy was not deleted yet (a worker that died between the
commit and the delete).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import connections, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from marketplace import storage
from marketplace.inspection.archives import ArchiveRejected, Findings, Limits, StorageInterrupted, scan
from marketplace.inspection.contents import ContentInspector
from marketplace.inspection.texts import finding
from marketplace.models import Upload, Validation
from marketplace.submissions.reports import TABULAR_TYPES

logger = logging.getLogger(__name__)


Status = Validation.Status


HEARTBEAT_SECONDS = 2.0


ARCHIVE_FORMATS = {"tar.gz", "tar", "zip"}  # what archives.scan reports; also the validated key's extension


class RetryLater(Exception):
    """Storage or the database could not be reached: the same run later will likely succeed."""


class Busy(RetryLater):
    """Another run holds the upload. Usually a live worker that will finish it; but a killed
    worker's lock can outlive it for a moment, so the message is retried, not dropped."""


def validated_key(upload: Upload, archive_format: str) -> str:
    """Generated from ids, like the quarantine key; never from the client's file name."""
    extension = archive_format if archive_format in ARCHIVE_FORMATS else "bin"
    return f"validated/{upload.submission_id}/{upload.kind}-{upload.id}.{extension}"


def schedule(upload: Upload) -> Validation:
    """Create the pending validation of a completed upload and queue it once the current
    transaction commits (call inside the transaction that completes the upload)."""
    validation, _ = Validation.objects.get_or_create(upload=upload)
    upload_id = upload.id
    # robust: a broker that is down must not turn the committed completion into an error for
    # the client; the validation is recorded as pending, and beat's sweeper queues it later.
    transaction.on_commit(lambda: enqueue(upload_id), robust=True)
    return validation


# The worker's entry point (``marketplace.tasks``) is queued by its stable name, so that this module,
# which the task runs, does not import the task module back.
VALIDATE_UPLOAD_TASK = "marketplace.tasks.validate_upload"
# Chained after a pass: the tables' Parquet export for the viewer (``marketplace.viewer.exports``).
EXPORT_PARQUET_TASK = "marketplace.tasks.export_parquet"


def enqueue(upload_id: str) -> None:
    current_app.send_task(VALIDATE_UPLOAD_TASK, args=(upload_id,))


@contextmanager
def _lock_connection() -> Iterator[Any]:
    """A database connection of its own for advisory locks: it lives exactly as long as the run,
    whatever Django does with its own connection (closing it after errors, or between tasks)."""
    wrapper = connections["default"]
    raw = wrapper.get_new_connection(wrapper.get_connection_params())
    raw.autocommit = True
    try:
        yield raw
    finally:
        raw.close()


@contextmanager
def held_lock(name: str) -> Iterator[bool]:
    """A PostgreSQL advisory lock named ``name`` for work that calls storage outside any
    transaction, on a connection of its own: yields whether it was taken. It is released at the
    end, or by PostgreSQL as soon as the process holding it dies."""
    with _lock_connection() as raw:
        taken = _try_lock(raw, name)
        try:
            yield taken
        finally:
            if taken:
                _unlock(raw, name)


def held_elsewhere(names: Iterable[str]) -> set[str]:
    """Which of the advisory locks ``names`` (``held_lock``'s) a live process holds now: the runs
    under way, which a sweeper leaves alone however long ago their row changed."""
    held = set()
    with _lock_connection() as raw:
        for name in names:
            if _try_lock(raw, name):
                _unlock(raw, name)
            else:
                held.add(name)
    return held


def _try_lock(raw: Any, name: str) -> bool:
    with raw.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(hashtextextended(%s, 0))", [name])
        row = cursor.fetchone()
    return bool(row and row[0])


def _unlock(raw: Any, name: str) -> None:
    with raw.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_unlock(hashtextextended(%s, 0))", [name])


def run_validation(*, upload_id: str) -> str:
    """The task's body: validate the upload unless another live run holds it or it is done.
    Returns what happened, for the worker's log."""
    with held_lock("validation:" + upload_id) as taken:
        if not taken:
            raise Busy("another run is validating this upload")
        return _run_locked(upload_id)


def _run_locked(upload_id: str) -> str:
    validation = Validation.objects.select_related("upload__submission").filter(upload_id=upload_id).first()
    if validation is None:
        return "unknown upload"
    if validation.status == Status.PASSED:
        _delete_quarantine_copy(validation)
        return "passed already"
    if validation.status == Status.FAILED:
        return "failed already"
    if validation.attempts >= settings.VALIDATION_MAX_ATTEMPTS:
        _give_up(validation)
        return "failed: too many attempts"
    now = timezone.now()
    claimed = Validation.objects.filter(id=validation.id, status__in=[Status.PENDING, Status.RUNNING]).update(
        status=Status.RUNNING, attempts=F("attempts") + 1, started_at=now, updated_at=now, progress_bytes=0
    )
    if not claimed:
        return "changed meanwhile"
    try:
        return _validate(validation)
    except (StorageInterrupted, RetryLater) as exc:
        Validation.objects.filter(id=validation.id, status=Status.RUNNING).update(
            status=Status.PENDING, last_error=str(exc)[:2000], updated_at=timezone.now()
        )
        raise RetryLater(str(exc)) from exc


def _heartbeat(validation_id: int) -> Callable[[int], None]:
    """Progress for the pages, written at most every few seconds."""
    last = [time.monotonic()]

    def beat(done: int) -> None:
        if time.monotonic() - last[0] >= HEARTBEAT_SECONDS:
            last[0] = time.monotonic()
            Validation.objects.filter(id=validation_id).update(progress_bytes=done, updated_at=timezone.now())

    return beat


def _validate(validation: Validation) -> str:
    upload = validation.upload
    submission = upload.submission
    findings = Findings()
    inspector = ContentInspector(
        findings=findings,
        declared_format=submission.format,
        declared_task=submission.task,
        max_references=settings.VALIDATION_MAX_ENTRIES,
    )
    report: dict[str, Any] = {"archive_format": "", "archive_sha256": "", "archive_size": None, "files": []}
    began = time.monotonic()
    try:
        result = scan(
            upload.object_key,
            size=upload.size_bytes,
            limits=Limits.from_settings(),
            findings=findings,
            inspector=inspector,
            progress=_heartbeat(validation.id),
        )
    except ArchiveRejected as exc:
        findings.error(exc.path, exc.code, exc.template, exc.params)
    else:
        report.update(
            archive_format=result.format,
            archive_sha256=result.archive_sha256,
            archive_size=result.archive_size,
            # The header of each CSV/TSV, kept so that Croissant record sets can name the columns.
            files=[
                {**row, "columns": inspector.tables[row["path"]].header}
                if row["type"] in TABULAR_TYPES and row["path"] in inspector.tables
                else row
                for row in result.files
            ],
        )
        if (result.archive_sha256, result.archive_size) != (upload.sha256, upload.size_bytes):
            findings.error(
                "", "archive_checksum",
                gettext_noop("The archive in storage has SHA-256 %(sha256)s and %(size)s bytes; the upload declared "
                             "%(declared_sha256)s and %(declared_size)s bytes. Upload the file again."),
                {"sha256": result.archive_sha256, "size": result.archive_size,
                 "declared_sha256": upload.sha256, "declared_size": upload.size_bytes},
            )  # fmt: skip
        if result.format != "tar.gz":
            findings.warning(
                "", "archive_format",
                gettext_noop("The archive is a %(format)s, not a gzip-compressed tar: the datacollective SDK's "
                             "load_dataset extracts only .tar.gz archives."),
                {"format": result.format},
            )  # fmt: skip
    errors, warnings = findings.as_lists()
    report.update(errors=errors, warnings=warnings)
    read_seconds = time.monotonic() - began
    logger.info(
        "upload %s read and checked in %.1f s (%d files, %d errors)",
        upload.id, read_seconds, len(report["files"]), len(errors),
    )  # fmt: skip
    if errors:
        _finish(validation, Status.FAILED, report)
        return f"failed with {len(errors)} error(s)"
    target = validated_key(upload, report["archive_format"])
    try:
        storage.copy(upload.object_key, target)
    except Exception as exc:
        if storage.is_transient(exc):
            raise RetryLater(f"copying to the validated prefix failed: {exc}") from exc
        raise
    with transaction.atomic():
        if _finish(validation, Status.PASSED, {**report, "quarantine_key": upload.object_key}):
            Upload.objects.filter(id=upload.id, object_key=upload.object_key).update(object_key=target)
    validation.refresh_from_db()
    _delete_quarantine_copy(validation)
    # robust: a broker that is down must not undo a committed pass; beat's export sweeper queues it.
    transaction.on_commit(lambda: current_app.send_task(EXPORT_PARQUET_TASK, args=(upload.id,)), robust=True)
    logger.info("upload %s moved out of quarantine in %.1f s", upload.id, time.monotonic() - began - read_seconds)
    return f"passed: {len(report['files'])} files, kept at {target}"


def _finish(validation: Validation, status: str, report: dict[str, Any]) -> bool:
    now = timezone.now()
    changed = Validation.objects.filter(id=validation.id, status=Status.RUNNING).update(
        status=status, finished_at=now, updated_at=now, last_error="", **report
    )
    return bool(changed)


def _delete_quarantine_copy(validation: Validation) -> None:
    key = validation.quarantine_key
    if not key:
        return
    try:
        storage.delete(key)  # deleting a key that is already gone succeeds
    except Exception as exc:
        if storage.is_transient(exc):
            raise RetryLater(f"deleting the quarantine copy failed: {exc}") from exc
        raise
    Validation.objects.filter(id=validation.id, quarantine_key=key).update(quarantine_key="", updated_at=timezone.now())


def _give_up(validation: Validation) -> None:
    template = (
        gettext_noop(
            "The archive could not be validated after %(attempts)s attempts (last problem: %(problem)s). Nothing "
            "found in it is wrong so far: ask this instance's staff, or upload it again later."
        )
        if validation.last_error
        else gettext_noop(
            "The archive could not be validated after %(attempts)s attempts. Nothing found in it is wrong so far: "
            "ask this instance's staff, or upload it again later."
        )
    )
    failed = finding(
        "", "validation_unavailable", template, {"attempts": validation.attempts, "problem": validation.last_error}
    )
    logger.error("validation of upload %s given up: %s", validation.upload_id, failed["message"])
    now = timezone.now()
    Validation.objects.filter(id=validation.id, status__in=[Status.PENDING, Status.RUNNING]).update(
        status=Status.FAILED,
        finished_at=now,
        updated_at=now,
        errors=[failed],
    )


def record_timeout(*, upload_id: str, seconds: int) -> None:
    """The run hit the soft time limit: fail it with a message rather than loop on it."""
    now = timezone.now()
    failed = finding(
        "",
        "time_limit",
        gettext_noop(
            "Validation took longer than this instance's limit of %(seconds)s s and was stopped. Ask the instance's "
            "staff; very large archives may need a longer limit or to be split."
        ),
        {"seconds": seconds},
    )
    Validation.objects.filter(upload_id=upload_id, status=Status.RUNNING).update(
        status=Status.FAILED,
        finished_at=now,
        updated_at=now,
        errors=[failed],
    )


def requeue_stuck(*, older_than: timedelta, now: datetime | None = None) -> int:
    """Queue again what no worker is finishing: pending or running validations untouched for
    ``older_than`` whose lock is free (a lost message, a killed worker, a failed enqueue), passed
    ones whose quarantine copy is still there, and completed uploads that have no validation."""
    moment = now or timezone.now()
    for upload_id in Upload.objects.filter(status=Upload.Status.COMPLETED, validation__isnull=True).values_list(
        "id", flat=True
    ):
        Validation.objects.get_or_create(upload_id=upload_id)
    stuck = list(
        Validation.objects.filter(
            Q(status__in=[Status.PENDING, Status.RUNNING], updated_at__lt=moment - older_than)
            | (Q(status=Status.PASSED) & ~Q(quarantine_key=""))
        ).values_list("upload_id", flat=True)
    )
    running = held_elsewhere("validation:" + upload_id for upload_id in stuck)
    idle = [upload_id for upload_id in stuck if "validation:" + upload_id not in running]
    for upload_id in idle:
        enqueue(upload_id)
    return len(idle)
