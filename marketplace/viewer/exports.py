"""The Parquet export of a validated upload: every table in it (CSV, TSV, JSON Lines, Parquet,
audio datasets' index files included) converted to Parquet beside the upload, with types,
statistics and a split, for the viewer API and for clients that read Parquet.

A job of its own, chained after validation rather than inside it: validation is the gate that
keeps bad archives from reviewers and must stay as fast as a GET of the object, while a
conversion can take longer than the read and can fail on one odd table without failing the
upload. A passed validation queues ``marketplace.tasks.export_parquet`` by name after its commit;
the job reads the archive a second time (``marketplace.inspection.archives.scan``: one streaming
pass, bounded memory, the same path and bomb limits), converts each table as its bytes arrive
(``marketplace.viewer.tables``, which spools them to a temporary file on the way), stores it under
``validated/{submission}/{kind}-{upload}-parquet/{n}.parquet`` and records the list in
``ParquetExport`` once every table is stored. Samples get the same export: the viewer shows the
sample's rows to those who may not download the archive.

Every step can run twice: keys are generated from the upload's id and the table's position, and
the row moves from pending by conditional update. A PostgreSQL advisory lock keeps two runs of
one upload apart: a second copy of the message leaves the upload to the run that holds it.
Storage that cannot be reached raises ``RetryLater``; beat's sweeper queues pending exports that
nobody has touched for the stuck time (``VALIDATION_STUCK_SECONDS``) and no live run holds, and
uploads that have none yet (those validated before this job existed), ``MAX_ATTEMPTS`` runs in
all. ``export_version`` runs it in-process for a published
version (the demo, the test world, ``manage.py export_parquet``).
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

from celery import current_app
from django.db import transaction
from django.db.models import BooleanField, F, Q
from django.db.models.expressions import RawSQL
from django.utils import timezone

from marketplace import storage
from marketplace.catalog.search import forget_facets
from marketplace.inspection.archives import (
    ArchiveRejected,
    Findings,
    Inspected,
    Limits,
    MemberReader,
    StorageInterrupted,
    scan,
)
from marketplace.models import DatasetVersion, ParquetExport, Submission, Upload, Validation
from marketplace.submissions.validation import held_elsewhere, held_lock
from marketplace.viewer import filter_database, search_index, tables

logger = logging.getLogger(__name__)

Status = ParquetExport.Status
# What the index job derives from each table, by its entry's name, and the suffix of its key.
DERIVED = {"index": ".index.parquet", "database": ".duckdb"}
# Exports with a table whose ``index`` or ``database`` entry was never written (None is written when
# there is none).
UNINDEXED = RawSQL(
    "jsonb_path_exists(tables, '$[*] ? (!exists(@.index) || !exists(@.database))')", [], output_field=BooleanField()
)

# The worker's entry point, queued by its stable name (validation queues it without importing us).
EXPORT_TASK = "marketplace.tasks.export_parquet"
INDEX_TASK = "marketplace.tasks.index_parquet"
MAX_ATTEMPTS = 5
SWEEP_BATCH = 200
PART_BYTES = 8 * 1024 * 1024  # the Parquet file is stored in parts of this size as it is written
POLL_SECONDS = 0.02  # how often the store looks whether the file has grown


class RetryLater(Exception):
    """Storage could not be reached: the same run later will likely succeed."""


def parquet_key(upload: Upload, index: int) -> str:
    """Generated from ids and the table's position, never from a member's name."""
    return f"validated/{upload.submission_id}/{upload.kind}-{upload.id}-parquet/{index:05d}.parquet"


def derived_key(parquet: str, name: str) -> str:
    """A file the index job derives from a Parquet file, stored beside it: the search index
    (``search_index``) or the database (``filter_database``)."""
    return parquet.removesuffix(".parquet") + DERIVED[name]


def enqueue(upload_id: str) -> None:
    current_app.send_task(EXPORT_TASK, args=(upload_id,))


def enqueue_index(upload_id: str) -> None:
    """Queue the search indexes of a ready export; a broker that is down leaves them to the sweeper."""
    try:
        current_app.send_task(INDEX_TASK, args=(upload_id,))
    except Exception:  # kombu's errors vary by transport; the sweeper queues it again
        logger.warning("could not queue the search index of upload %s; the sweeper will", upload_id, exc_info=True)


class _Exporter:
    """An ``Inspector`` for ``scan`` that converts each table it meets and stores the Parquet."""

    def __init__(self, upload: Upload, wanted: dict[str, str], workdir: Path) -> None:
        self.upload, self.wanted, self.workdir = upload, wanted, workdir
        self.splits = tables.assign_splits(list(wanted))
        self.tables: list[dict[str, Any]] = []
        self.problems: list[dict[str, str]] = []

    def inspect(self, reader: MemberReader, declared_size: int) -> Inspected:
        media_type = self.wanted.get(reader.path)
        if media_type is None:
            return Inspected(type="")  # scan reads past it
        member, parquet = self.workdir / "member", self.workdir / "table.parquet"
        key = parquet_key(self.upload, len(self.tables))
        try:
            # The file is hashed and stored as it is written (``_StoreAsWritten``).
            store = _StoreAsWritten(parquet, key)
            try:
                found = tables.write_stream(reader, media_type, parquet, member, restarting=store.give_up)
            except BaseException as exc:
                store.give_up()
                if not isinstance(exc, tables.ConversionFailed):
                    raise
                self.problems.append({"path": reader.path, "message": str(exc)})
                return Inspected(type="")
            # The most frequent values (DuckDB, on the local file; the other statistics were computed
            # as the table was written) while the file's end is stored.
            with ThreadPoolExecutor(max_workers=1) as pool:
                stored = pool.submit(store.finish)
                converted = tables.describe(parquet, found)
                sha256, size = stored.result()
        finally:
            member.unlink(missing_ok=True)
            parquet.unlink(missing_ok=True)
        self.tables.append(
            {"path": reader.path, "split": self.splits[reader.path], "key": key, "sha256": sha256, "size": size,
             "rows": converted.rows, "columns": converted.columns}
        )  # fmt: skip
        return Inspected(type="")

    def finish(self, files: list[dict[str, Any]]) -> None:
        return None


class _StoreAsWritten:
    """Stores a Parquet file under ``key`` while it is being written, hashing it on the way: a
    thread of its own reads the file as it grows (the writer only appends, so bytes once there are
    final) and sends each ``PART_BYTES`` as a part of a multipart upload, so that the store ends
    soon after the write instead of starting then. ``finish`` (once the writer has closed the
    file) sends the rest and completes the upload, or PUTs a file smaller than one part; the
    SHA-256 and size are those of the bytes sent. ``give_up`` (the file is about to be written
    again from its start, or the conversion failed) aborts the upload; ``finish`` then stores the
    file whole, as ``_store``."""

    def __init__(self, path: Path, key: str, content_type: str = "application/vnd.apache.parquet") -> None:
        self.path, self.key, self.content_type = path, key, content_type
        self._written = threading.Event()  # the writer closed the file
        self._stop = threading.Event()  # give_up: stop reading, abort
        self._digest, self._size = hashlib.sha256(), 0
        self._upload_id: str | None = None
        self._parts: list[tuple[int, str]] = []
        self._error: BaseException | None = None
        self._given_up = False
        self._thread = threading.Thread(target=self._run, name="parquet-store", daemon=True)
        self._thread.start()

    def _part_bytes(self) -> int:
        # Larger parts past every thousand: S3 allows 10,000 parts, and tables can be large.
        return PART_BYTES * (1 + len(self._parts) // 1000)

    def _run(self) -> None:
        try:
            stream = None
            while stream is None:
                if self._stop.is_set():
                    return
                try:
                    stream = self.path.open("rb")
                except FileNotFoundError:
                    if self._written.wait(POLL_SECONDS):
                        return  # finish() stores it (nothing was written: it fails there, clearly)
            with stream:
                while not self._stop.is_set():
                    written = self._written.is_set()  # before the size: what follows is then all of it
                    available = os.fstat(stream.fileno()).st_size - self._size
                    if available >= self._part_bytes():
                        self._send(stream.read(self._part_bytes()))
                    elif written:
                        self._send(stream.read(), last=True)
                        return
                    else:
                        self._stop.wait(POLL_SECONDS)
        except BaseException as exc:  # noqa: BLE001 - handed to finish()
            self._error = exc

    def _send(self, piece: bytes, *, last: bool = False) -> None:
        self._digest.update(piece)
        self._size += len(piece)
        if self._upload_id is None and last:
            storage.put_bytes(self.key, piece, content_type=self.content_type)  # the whole file: smaller than a part
            return
        if self._upload_id is None:
            self._upload_id = storage.create_multipart(self.key, content_type=self.content_type)
        if piece or not self._parts:
            number = len(self._parts) + 1
            self._parts.append((number, storage.upload_part(self.key, upload_id=self._upload_id, part_number=number,
                                                            data=piece)))  # fmt: skip
        if last:
            storage.complete_multipart(self.key, upload_id=self._upload_id, parts=self._parts)
            self._upload_id = None

    def give_up(self) -> None:
        """Stop storing as the file grows (idempotent); abort what was sent."""
        self._given_up = True
        self._stop.set()
        self._thread.join()
        self._abort()

    def _abort(self) -> None:
        if self._upload_id is not None:
            upload_id, self._upload_id = self._upload_id, None
            try:
                storage.abort_multipart(self.key, upload_id=upload_id)
            except Exception:  # storage expires unfinished uploads (the bucket's lifecycle)
                logger.warning("could not abort the upload of %s", self.key, exc_info=True)

    def finish(self) -> tuple[str, int]:
        """Once the file is written: store what is left; its SHA-256 and size."""
        if self._given_up:
            return _store(self.path, self.key, self.content_type)
        self._written.set()
        self._thread.join()
        if self._error is not None:
            self._abort()
            raise self._error
        if self._size != self.path.stat().st_size:  # never expected: the file changed under us
            return _store(self.path, self.key, self.content_type)
        return self._digest.hexdigest(), self._size


def _store(path: Path, key: str, content_type: str = "application/vnd.apache.parquet") -> tuple[str, int]:
    sha256, size = _sha256(path)
    with path.open("rb") as stream:
        storage.put_stream(key, stream, content_type=content_type)
    return sha256, size


def _sha256(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as stream:
        while piece := stream.read(1024 * 1024):
            digest.update(piece)
            size += len(piece)
    return digest.hexdigest(), size


def export_upload(*, upload_id: str) -> str:
    """The task's body: export the tables of a validated upload unless that is done. Returns what
    happened, for the worker's log. Raises ``RetryLater`` when storage cannot be reached."""
    validation = Validation.objects.select_related("upload").filter(upload_id=upload_id).first()
    if validation is None or validation.status != Validation.Status.PASSED:
        return "skipped: not validated"
    export, _ = ParquetExport.objects.get_or_create(upload_id=upload_id)
    if export.status != Status.PENDING:
        return f"skipped: {export.status}"
    with held_lock(f"parquet:{upload_id}") as taken:
        if not taken:  # a copy of the message (a re-queue, a redelivery): the live run finishes it
            return "skipped: another run is exporting"
        return _export_locked(export, validation)


def _export_locked(export: ParquetExport, validation: Validation) -> str:
    upload = validation.upload
    ParquetExport.objects.filter(pk=export.pk).update(attempts=F("attempts") + 1, updated_at=timezone.now())
    wanted = {row["path"]: row["type"] for row in validation.files if row.get("type") in tables.CONVERTIBLE}
    try:
        with tempfile.TemporaryDirectory(prefix="parquet-") as workdir:
            exporter = _Exporter(upload, wanted, Path(workdir))
            if wanted:
                scan(upload.object_key, size=upload.size_bytes, limits=Limits.from_settings(), findings=Findings(),
                     inspector=exporter)  # fmt: skip
    except ArchiveRejected as exc:
        _finish(export.pk, Status.FAILED, error=exc.message)
        logger.error("parquet export of upload %s failed: %s", upload.id, exc.message)
        return f"failed: {exc.message}"
    except StorageInterrupted as exc:
        raise RetryLater(str(exc)) from exc
    except Exception as exc:
        if storage.is_transient(exc):
            raise RetryLater(f"storage could not be reached: {exc}") from exc
        raise
    _finish(export.pk, Status.READY, tables=exporter.tables, problems=exporter.problems)
    if exporter.tables:
        enqueue_index(upload.id)
    return f"ready: {len(exporter.tables)} tables, {len(exporter.problems)} left out"


def _finish(export_id: int, status: str, **fields: Any) -> None:
    now = timezone.now()
    ParquetExport.objects.filter(pk=export_id, status=Status.PENDING).update(
        status=status, updated_at=now, finished_at=now, **fields
    )
    transaction.on_commit(forget_facets)  # the viewer's kept reading of the version (viewer.access)


def version_uploads(version: DatasetVersion) -> tuple[Upload | None, Upload | None]:
    """The archive and sample uploads a published version came from (the re-release after a consent
    withdrawal has its submission too); None for a version no submission published (an import)."""
    submission = Submission.objects.select_related("archive_upload", "sample_upload").filter(version=version).first()
    if submission is None:
        return None, None
    return submission.archive_upload, submission.sample_upload


def parquet_filename(table: dict[str, Any], index: int) -> str:
    """The name the ``index``-th Parquet file of an export goes by, for clients (its key is ours)."""
    return f"{table['split']}-{index:05d}.parquet"


def export_version(*, version_id: int) -> list[str]:
    """Export the archive and the sample of a published version in this process (the demo, the
    test world and ``manage.py export_parquet``); what happened to each."""
    version = DatasetVersion.objects.get(id=version_id)
    done = []
    for upload in version_uploads(version):
        if upload is not None:
            done.append(export_upload(upload_id=upload.id))
            done.append(index_upload(upload_id=upload.id))
    return done


def requeue_pending(*, older_than: timedelta) -> int:
    """Queue again what no worker is finishing: pending exports untouched for ``older_than`` that
    no live run holds (a job that used up its retries while storage was away, a lost message, a
    killed worker), and the current archive and sample uploads of submissions that passed
    validation but have no export yet. An export that ran ``MAX_ATTEMPTS`` times is marked failed
    instead. Returns how many were queued."""
    now = timezone.now()
    cutoff = now - older_than
    pending = list(
        ParquetExport.objects.filter(status=Status.PENDING, updated_at__lt=cutoff)
        .order_by("updated_at")
        .values_list("upload_id", "attempts")[:SWEEP_BATCH]
    )
    running = held_elsewhere(f"parquet:{upload_id}" for upload_id, _ in pending)
    idle = [(upload_id, attempts) for upload_id, attempts in pending if f"parquet:{upload_id}" not in running]
    exhausted = [upload_id for upload_id, attempts in idle if attempts >= MAX_ATTEMPTS]
    # Untouched still: a late copy of the message may have started a run since the locks were read.
    ParquetExport.objects.filter(upload_id__in=exhausted, status=Status.PENDING, updated_at__lt=cutoff).update(
        status=Status.FAILED, updated_at=now, finished_at=now,
        error=f"The tables could not be exported in {MAX_ATTEMPTS} attempts.",
    )  # fmt: skip
    transaction.on_commit(forget_facets)
    current = Submission.objects.filter(deleted_at__isnull=True)
    missing = list(
        Upload.objects.filter(validation__status=Validation.Status.PASSED, parquet_export__isnull=True)
        .filter(Q(id__in=current.values("archive_upload_id")) | Q(id__in=current.values("sample_upload_id")))
        .values_list("id", flat=True)[:SWEEP_BATCH]
    )
    ParquetExport.objects.bulk_create([ParquetExport(upload_id=pk) for pk in missing], ignore_conflicts=True)
    stuck = [upload_id for upload_id, attempts in idle if attempts < MAX_ATTEMPTS]
    queued = list(dict.fromkeys(missing + stuck))
    for upload_id in queued:
        enqueue(upload_id)
    # Ready exports with a table never indexed (the job was lost, or the export predates indexes).
    unindexed = list(
        ParquetExport.objects.filter(UNINDEXED, status=Status.READY, updated_at__lt=cutoff)
        .order_by("updated_at")
        .values_list("upload_id", flat=True)[:SWEEP_BATCH]
    )
    indexing = held_elsewhere(f"parquet-index:{upload_id}" for upload_id in unindexed)
    unindexed = [upload_id for upload_id in unindexed if f"parquet-index:{upload_id}" not in indexing]
    for upload_id in unindexed:
        enqueue_index(upload_id)
    return len(queued) + len(unindexed)


# --- Search indexes and databases: a job of their own, after the export -------------------------
#
# A table is viewable as soon as its export is ready; its search reads the table until the index
# lands, and its filters and orders read the Parquet file until the database lands
# (``queries.SplitReader``). Building them costs about as much as the conversion itself, so they
# do not hold the tables back. Each table's entry gets ``index`` (``search_index``) and
# ``database`` (``filter_database``): the stored file's key, SHA-256 and size, or None when the
# table has no text to index or the file could not be built (the viewer then reads the Parquet
# file, as before they existed).


def index_upload(*, upload_id: str) -> str:
    """The index job's body: build and store the search index and the database of every table of a
    ready export that lacks them. Returns what happened. Raises ``RetryLater`` when storage cannot
    be reached."""
    export = ParquetExport.objects.filter(upload_id=upload_id, status=Status.READY).first()
    if export is None:
        return "skipped: no ready export"
    with held_lock(f"parquet-index:{upload_id}") as taken:
        if not taken:
            return "skipped: another run is indexing"
        made = 0
        with tempfile.TemporaryDirectory(prefix="parquet-index-") as workdir:
            for table in list(export.tables):
                missing = [name for name in DERIVED if name not in table]
                if not missing:
                    continue
                entries = _derive_table(table, missing, Path(workdir))
                _record_derived(export.pk, table, entries)
                made += any(entry is not None for entry in entries.values())
        return f"indexed: {made} tables"


def _derive_table(table: dict[str, Any], names: list[str], workdir: Path) -> dict[str, dict[str, Any] | None]:
    """Build and store the files ``names`` of one table from its Parquet file, fetched once."""
    parquet = workdir / "table.parquet"
    try:
        try:
            storage.download_to(str(table["key"]), str(parquet))
        except Exception as exc:
            if storage.is_transient(exc):
                raise RetryLater(f"storage could not be reached: {exc}") from exc
            raise
        if _sha256(parquet)[0] != table["sha256"]:
            logger.error("%s of %s not built: the stored file is not the exported one", names, table["key"])
            return dict.fromkeys(names)
        return {name: _derived(table, name, parquet, workdir) for name in names}
    finally:
        parquet.unlink(missing_ok=True)


def _derived(table: dict[str, Any], name: str, parquet: Path, workdir: Path) -> dict[str, Any] | None:
    target = workdir / f"table{DERIVED[name]}"
    try:
        try:
            if name == "index":
                built = search_index.build(parquet, target)
            else:
                filter_database.build(parquet, target)
                built = True
        except Exception:  # an odd table must not stop the others; the viewer reads its Parquet file
            logger.exception("%s of %s could not be built", name, table["key"])
            return None
        if not built:
            return None
        key = derived_key(str(table["key"]), name)
        content_type = "application/vnd.apache.parquet" if name == "index" else "application/octet-stream"
        sha256, size = _store(target, key, content_type)
        return {"key": key, "sha256": sha256, "size": size}
    finally:
        target.unlink(missing_ok=True)


def _record_derived(export_id: int, table: dict[str, Any], entries: dict[str, dict[str, Any] | None]) -> None:
    """Write one table's derived files into the export, unless the export was redone meanwhile
    (then the table's key holds other bytes: its SHA-256 differs)."""
    with transaction.atomic():
        export = ParquetExport.objects.select_for_update().filter(pk=export_id, status=Status.READY).first()
        if export is None:
            return
        changed = False
        for current in export.tables:
            if current["key"] == table["key"] and current["sha256"] == table["sha256"]:
                for name, entry in entries.items():
                    if name not in current:
                        current[name] = entry
                        changed = True
        if changed:
            ParquetExport.objects.filter(pk=export_id).update(tables=export.tables, updated_at=timezone.now())
            transaction.on_commit(forget_facets)
