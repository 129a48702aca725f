"""A published version's files, stored one by one under content-addressed keys, for delta downloads.

Publishing creates the version's pending ``VersionMembers`` row and, after commit, queues
``marketplace.tasks.store_version_members`` by name. The task streams the version's archive once
with the validation's readers (``marketplace.inspection.archives.scan``: bounded memory, the same
path and bomb checks) and stores each file the version's signed manifest lists under
``members/sha256/<first two hex>/<sha256>``. A file whose key already holds it (the same bytes in
an earlier version, or an earlier run of this one) is not stored again, so a version that changes
1% of its files stores 1%. A key only ever holds bytes whose SHA-256 is its name: a small file is
hashed before its one PUT; a large one streams to an incoming key and is copied to its name (on the
storage side) once its hash matched the manifest.

Every step can run twice: a key is written only with the bytes its name says, and the status moves
by conditional update. Storage that cannot be reached raises ``RetryLater`` (the task retries a few
times, then beat's sweeper queues it again, ``MAX_ATTEMPTS`` in all). An archive that does not
match its signed manifest (a file missing, extra, or with other bytes) is recorded as failed,
naming the mismatch: a delta of that version answers so, and the whole archive stays downloadable.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from typing import Any

from celery import current_app
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from marketplace import storage
from marketplace.inspection.archives import (
    ArchiveRejected,
    Findings,
    Inspected,
    Limits,
    MemberReader,
    StorageInterrupted,
    scan,
)
from marketplace.models import DatasetVersion
from provenance import manifests
from provenance.models import VersionMembers

logger = logging.getLogger(__name__)

Status = VersionMembers.Status

# The worker's entry point (``marketplace.tasks``) is queued by its stable name, as validation is,
# so that this module does not import the task module back.
STORE_MEMBERS_TASK = "marketplace.tasks.store_version_members"
MEMBER_PREFIX = "members/sha256"
SMALL_MEMBER_BYTES = 8 * 1024 * 1024  # hashed in memory before its one PUT; larger ones stream
MAX_ATTEMPTS = 5
SWEEP_BATCH = 200


class RetryLater(Exception):
    """Storage could not be reached: the same run later will likely succeed."""


class ArchiveMismatch(Exception):
    """The archive's files are not the ones its signed manifest lists."""


def member_key(sha256: str) -> str:
    return f"{MEMBER_PREFIX}/{sha256[:2]}/{sha256}"


def schedule(version: DatasetVersion) -> None:
    """Record that the version's files are to be stored and queue the job once the current
    transaction commits (call inside the transaction that publishes the version)."""
    VersionMembers.objects.get_or_create(version=version)
    version_id = version.id
    # robust: a broker that is down must not fail a committed publication; beat's sweeper queues it.
    transaction.on_commit(lambda: enqueue(version_id), robust=True)


def enqueue(version_id: int) -> None:
    current_app.send_task(STORE_MEMBERS_TASK, args=(version_id,))


def signed_files(version: DatasetVersion) -> dict[str, tuple[int, str]]:
    """Path -> (size, SHA-256) of every file the version's manifest signs, after checking it."""
    try:
        files = manifests.signed_files(version).files
    except (manifests.ManifestMissing, manifests.ManifestInvalid) as exc:
        raise ArchiveMismatch(str(exc)) from exc
    return {row["path"]: (int(row["size"]), str(row["sha256"])) for row in files}


class _Storer:
    """An ``Inspector`` for ``scan`` that stores each member under its content address."""

    def __init__(self, version_id: int, expected: dict[str, tuple[int, str]]) -> None:
        self.version_id, self.expected = version_id, expected
        self.stored = self.reused = 0

    def inspect(self, reader: MemberReader, declared_size: int) -> Inspected:
        wanted = self.expected.get(reader.path)
        if wanted is None:
            raise ArchiveMismatch(f"'{reader.path}' is in the archive but not in the signed manifest.")
        size, sha256 = wanted
        key = member_key(sha256)
        existing = storage.head(key)
        if existing is not None and int(existing.get("ContentLength", -1)) == size:
            self.reused += 1  # scan reads and hashes the rest; store_members checks it after
            return Inspected(type="")
        if declared_size <= SMALL_MEMBER_BYTES:
            pieces = []
            while piece := reader.read():
                pieces.append(piece)
            _check(reader, size, sha256)
            storage.put_bytes(key, b"".join(pieces))
        else:
            incoming = f"members/incoming/{self.version_id}/{uuid.uuid4().hex}"
            try:
                storage.put_stream(incoming, reader)  # type: ignore[arg-type]  # read(n) is all boto3 needs
                _check(reader, size, sha256)
                storage.copy(incoming, key)
            finally:
                storage.delete(incoming)
        self.stored += 1
        return Inspected(type="")

    def finish(self, files: list[dict[str, Any]]) -> None:
        return None


def _check(reader: MemberReader, size: int, sha256: str) -> None:
    if (reader.size, reader.hexdigest()) != (size, sha256):
        raise ArchiveMismatch(
            f"'{reader.path}' has SHA-256 {reader.hexdigest()} ({reader.size} bytes); "
            f"the signed manifest says {sha256} ({size} bytes)."
        )


def _store(version: DatasetVersion, expected: dict[str, tuple[int, str]]) -> _Storer:
    storer = _Storer(version.id, expected)
    result = scan(version.archive_key, size=version.size_bytes, limits=Limits.from_settings(), findings=Findings(),
                  inspector=storer)  # fmt: skip
    if result.archive_sha256 != version.sha256:
        raise ArchiveMismatch(f"The archive's SHA-256 is {result.archive_sha256}, the version's {version.sha256}.")
    found = {row["path"]: (row["size"], row["sha256"]) for row in result.files}
    for path in sorted(expected.keys() | found.keys()):
        if found.get(path) != expected.get(path):
            where = "the signed manifest" if path not in found else f"the archive as {found[path]}"
            raise ArchiveMismatch(f"'{path}' is in {where}, the manifest says {expected.get(path)}.")
    return storer


def store_members(*, version_id: int) -> str:
    """The task's body: store the files of a published version unless that is done. Returns what
    happened, for the worker's log. Raises ``RetryLater`` when storage cannot be reached."""
    version = DatasetVersion.objects.filter(id=version_id, published_at__isnull=False).first()
    if version is None:
        return "skipped: no such published version"
    row, _ = VersionMembers.objects.get_or_create(version=version)
    if row.status != Status.PENDING:
        return f"skipped: {row.status}"
    VersionMembers.objects.filter(pk=version.pk).update(attempts=F("attempts") + 1, updated_at=timezone.now())
    try:
        expected = signed_files(version)
        storer = _store(version, expected) if expected else _Storer(version.id, expected)
    except (ArchiveMismatch, ArchiveRejected) as exc:
        message = exc.message if isinstance(exc, ArchiveRejected) else str(exc)
        _finish(version.pk, Status.FAILED, error=message)
        logger.error("files of version %s not stored: %s", version_id, message)
        return f"failed: {message}"
    except StorageInterrupted as exc:
        raise RetryLater(str(exc)) from exc
    except Exception as exc:
        if storage.is_transient(exc):
            raise RetryLater(f"storage could not be reached: {exc}") from exc
        raise
    _finish(version.pk, Status.READY, files=len(expected), stored=storer.stored, reused=storer.reused)
    return f"ready: {len(expected)} files, {storer.stored} stored, {storer.reused} already stored"


def _finish(version_id: int, status: str, **fields: Any) -> None:
    now = timezone.now()
    ready_at = now if status == Status.READY else None
    VersionMembers.objects.filter(pk=version_id, status=Status.PENDING).update(
        status=status, updated_at=now, ready_at=ready_at, **fields
    )


def requeue_pending(*, older_than: timedelta) -> int:
    """Queue again what no worker is finishing: pending versions untouched for ``older_than``
    (longer than the task's time limit, so a live run is never doubled), and published versions
    that have no row yet (published before this job existed). After ``MAX_ATTEMPTS`` runs a
    version is marked failed. Returns how many were queued."""
    cutoff = timezone.now() - older_than
    VersionMembers.objects.filter(status=Status.PENDING, attempts__gte=MAX_ATTEMPTS, updated_at__lt=cutoff).update(
        status=Status.FAILED, updated_at=timezone.now(),
        error=f"Storage could not be reached in {MAX_ATTEMPTS} attempts; the files were not stored.",
    )  # fmt: skip
    missing = list(
        DatasetVersion.objects.filter(published_at__isnull=False, stored_members__isnull=True)
        .order_by("published_at")
        .values_list("id", flat=True)[:SWEEP_BATCH]
    )
    VersionMembers.objects.bulk_create([VersionMembers(version_id=pk) for pk in missing], ignore_conflicts=True)
    stuck = list(
        VersionMembers.objects.filter(status=Status.PENDING, updated_at__lt=cutoff)
        .order_by("updated_at")
        .values_list("version_id", flat=True)[:SWEEP_BATCH]
    )
    queued = list(dict.fromkeys(missing + stuck))
    for version_id in queued:
        enqueue(version_id)
    return len(queued)
