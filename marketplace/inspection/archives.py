"""Read an archive in storage as a stream: hash every byte, list and hash every member, and refuse
what is unsafe to extract, in bounded memory and without local disk.

``.tar`` and ``.tar.gz`` are read front to back from one GET (a background thread reads the
body, computes the archive's SHA-256 and inflates gzip with ISA-L while the caller parses and
checks members, and a third hashes the members where their bytes lie, so that the work runs on
two cores). ``.zip`` keeps its directory at the end, so it is read through
ranged GETs; its bytes are still hashed in order, once each.

Reading stops at the first limit that trips (entries, total uncompressed size, compression
ratio) and at corrupt or truncated data. Other problems (unsafe paths, links, duplicates) are
collected, so that the contributor sees all of them at once.
"""

from __future__ import annotations

import hashlib
import stat
import struct
import threading
import zipfile
import zlib
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.conf import settings
from django.utils.translation import gettext_noop
from isal import isal_zlib

from marketplace import storage
from marketplace.inspection.tar_headers import TarFormatError, read_entries
from marketplace.inspection.texts import Params, english, finding

CHUNK = 1024 * 1024
PUMP_CHUNK = 4 * CHUNK  # fewer, larger reads on the body-reading thread: less time holding the GIL
INFLATE_PIECE = CHUNK  # inflated bytes a piece: a size malloc reuses (4 MiB pieces were fresh pages every time)
PIPE_BYTES = 16 * CHUNK  # how far (in the tar's bytes) the body-reading thread may run ahead of the parser
HASH_BATCH = CHUNK  # members' bytes handed to the hashing thread at a time
HASH_BUDGET = 4 * CHUNK  # how far (in the tar's bytes) the hashing thread may lag behind the parser
HASH_ALONE = CHUNK  # members from this size on are hashed on the hashing thread
# Below this many uncompressed bytes the ratio is not judged: tiny, very repetitive files
# (a header-only CSV) legitimately compress far better than a whole dataset does.
RATIO_GRACE_BYTES = 16 * CHUNK
MAX_PATH_CHARS = 1024
MAX_FINDINGS = 200  # per kind (errors, warnings): enough to act on, small enough to store
# What ISA-L's inflate raises on corrupt data (its stubs declare it as an instance, not a class).
INFLATE_ERROR: type[Exception] = isal_zlib.error  # type: ignore[assignment]


@dataclass(frozen=True)
class Limits:
    max_entries: int
    max_uncompressed_bytes: int
    max_compression_ratio: int

    @classmethod
    def from_settings(cls) -> Limits:
        return cls(
            max_entries=settings.VALIDATION_MAX_ENTRIES,
            max_uncompressed_bytes=settings.VALIDATION_MAX_UNCOMPRESSED_BYTES,
            max_compression_ratio=settings.VALIDATION_MAX_COMPRESSION_RATIO,
        )


class ArchiveRejected(Exception):
    """The archive broke a limit or is corrupt: reading stopped here."""

    def __init__(self, code: str, template: str, params: Params | None = None, path: str = "") -> None:
        self.template, self.params = template, dict(params or {})
        self.code, self.message, self.path = code, english(template, self.params), path
        super().__init__(self.message)


class StorageInterrupted(Exception):
    """Storage could not be read to the end (unreachable, timed out, dropped the connection)."""


@dataclass
class Findings:
    """Errors (the archive cannot pass) and warnings (worth fixing), each ``{path, code, message}``
    with the message's untranslated ``template`` and its ``params`` (``inspection.texts``)."""

    errors: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    dropped: dict[str, int] = field(default_factory=lambda: {"errors": 0, "warnings": 0})

    def error(self, path: str, code: str, template: str, params: Params | None = None) -> None:
        """``template`` is marked with gettext_noop; ``params`` fill its ``%(name)s`` placeholders."""
        self._add(self.errors, "errors", finding(path, code, template, params))

    def warning(self, path: str, code: str, template: str, params: Params | None = None) -> None:
        self._add(self.warnings, "warnings", finding(path, code, template, params))

    def _add(self, into: list[dict[str, Any]], kind: str, item: dict[str, Any]) -> None:
        if len(into) < MAX_FINDINGS:
            into.append(item)
        else:
            self.dropped[kind] += 1

    def as_lists(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        errors, warnings = list(self.errors), list(self.warnings)
        more = {
            "errors": gettext_noop("%(count)s more errors not shown."),
            "warnings": gettext_noop("%(count)s more warnings not shown."),
        }
        for kind, items in (("errors", errors), ("warnings", warnings)):
            if self.dropped[kind]:
                items.append(finding("", "truncated_report", more[kind], {"count": self.dropped[kind]}))
        return errors, warnings


class MemberReader:
    """One member's bytes as the archive yields them, hashed as they pass (on ``hasher``'s thread
    when there is one). Content checks read as much as they need (``peek`` does not consume);
    ``drain`` hashes the rest."""

    def __init__(self, source: Any, path: str, hasher: _MemberHasher | None = None) -> None:
        self._source, self.path = source, path
        self._sha = hashlib.sha256()
        self._hasher = hasher
        self.size = 0
        self._peeked = b""

    def peek(self, n: int) -> bytes:
        while len(self._peeked) < n:
            piece = self._pull(n - len(self._peeked))
            if not piece:
                break
            self._peeked += piece
        return self._peeked[:n]

    def _hash(self, data: bytes | memoryview) -> None:
        if self._hasher is None:
            self._sha.update(data)
        else:
            self._hasher.update(self._sha, data)
        self.size += len(data)

    def _pull(self, n: int) -> bytes:
        data: bytes = self._source.read(n)
        if data:
            self._hash(data)
        return data

    def read(self, n: int = CHUNK) -> bytes:
        if self._peeked:
            data, self._peeked = self._peeked[:n], self._peeked[n:]
            return data
        return self._pull(n)

    def drain(self) -> None:
        self._peeked = b""
        view = getattr(self._source, "view", None)
        if view is None:
            while self._pull(CHUNK):
                pass
            return
        while data := view(PUMP_CHUNK):  # hashed where the archive's bytes already are, uncopied
            self._hash(data)

    def hexdigest(self) -> str:
        """The SHA-256 of what was read; with a ``hasher``, use ``digest_into`` instead."""
        return self._sha.hexdigest()

    def digest_into(self, row: dict[str, Any]) -> None:
        """Set ``row["sha256"]`` to the SHA-256 of what was read: at once, or, with a ``hasher``,
        once its thread has hashed it (``_MemberHasher.finish``)."""
        if self._hasher is None:
            row["sha256"] = self._sha.hexdigest()
        else:
            self._hasher.digest_into(self._sha, row)


class _MemberHasher:
    """Hashes members on a thread of its own, so that their SHA-256 runs beside the parser's
    checks (hashlib lets go of the GIL over large pieces). The parser hands over what it read
    (views of the pump's pieces, uncopied) with each member's hash object in batches of
    HASH_BATCH bytes, at most HASH_BUDGET bytes behind; at a member's end the digest goes into its
    row. ``finish`` waits for the last of them."""

    def __init__(self) -> None:
        self._batches: deque[tuple[list[tuple[Any, Any]], int]] = deque()
        self._held = 0
        self._changed = threading.Condition()
        self._closed = False
        self._error: BaseException | None = None
        self._batch: list[tuple[Any, Any]] = []  # (hash object, piece to hash or row to write its digest into)
        self._batch_bytes = 0
        self._thread = threading.Thread(target=self._run, name="member-hasher", daemon=True)
        self._thread.start()

    def update(self, sha: Any, piece: bytes | memoryview) -> None:
        self._batch.append((sha, piece))
        self._batch_bytes += len(piece)
        if self._batch_bytes >= HASH_BATCH:
            self._flush()

    def digest_into(self, sha: Any, row: dict[str, Any]) -> None:
        self._batch.append((sha, row))

    def _flush(self) -> None:
        batch, weight = self._batch, self._batch_bytes
        self._batch, self._batch_bytes = [], 0
        with self._changed:
            while self._held >= HASH_BUDGET and not self._closed:
                self._changed.wait()
            self._batches.append((batch, weight))
            self._held += weight
            self._changed.notify_all()

    def _run(self) -> None:
        while True:
            with self._changed:
                while not self._batches and not self._closed:
                    self._changed.wait()
                if not self._batches:
                    return
                batch, weight = self._batches.popleft()
            try:
                for sha, item in batch:
                    if isinstance(item, dict):
                        item["sha256"] = sha.hexdigest()
                    else:
                        sha.update(item)
            except BaseException as exc:  # noqa: BLE001 - handed to the parser's thread by finish()
                self._error = exc
            with self._changed:
                self._held -= weight
                self._changed.notify_all()

    def finish(self) -> None:
        """Hash what is left and wait until every digest is in its row."""
        self._flush()
        with self._changed:
            self._closed = True
            self._changed.notify_all()
        self._thread.join()
        if self._error is not None:
            raise self._error

    def abandon(self) -> None:
        with self._changed:
            self._closed = True
            self._batches.clear()
            self._changed.notify_all()
        self._thread.join(timeout=5)


@dataclass(frozen=True)
class Inspected:
    """What an inspector learnt of one member while it streamed past: its detected type and, for a
    table (CSV, TSV, JSON Lines, Parquet), how many data rows it holds."""

    type: str
    rows: int | None = None


class Inspector(Protocol):
    def inspect(self, reader: MemberReader, declared_size: int) -> Inspected:
        """Check one member's content (reading what it needs): its detected type, and its rows."""

    def finish(self, files: list[dict[str, Any]]) -> None:
        """Checks that need the whole list of members (index paths, schema.yaml)."""


@dataclass
class ScanResult:
    format: str = ""
    files: list[dict[str, Any]] = field(default_factory=list)
    archive_sha256: str = ""
    archive_size: int = 0


@dataclass(frozen=True)
class _Scan:
    """What a tar scan and a zip scan both take: the object's size and where they report."""

    size: int
    limits: Limits
    findings: Findings
    inspector: Inspector
    progress: Callable[[int], None]

    def inspect(self, reader: MemberReader, declared_size: int) -> dict[str, Any]:
        """Check an admitted member's content, hash it to its end; its row of ``ScanResult.files``
        (with ``rows`` for a table)."""
        inspected = self.inspector.inspect(reader, declared_size)
        reader.drain()
        row: dict[str, Any] = {"path": reader.path, "size": reader.size, "sha256": "", "type": inspected.type}
        if inspected.rows is not None:
            row["rows"] = inspected.rows
        reader.digest_into(row)
        return row


class _Pipe:
    """Pieces of bytes handed from the pump's thread to the parser, at most ``budget`` bytes
    waiting (and one piece more); an exception is handed over in its place in the stream."""

    def __init__(self, budget: int) -> None:
        self._items: deque[bytes | BaseException] = deque()
        self._held = 0
        self._budget = budget
        self._changed = threading.Condition()
        self.closed = False

    def put(self, item: bytes | BaseException) -> bool:
        """Hand over ``item`` when there is room; False once the reader has closed the pipe."""
        with self._changed:
            while self._held >= self._budget and not self.closed:
                self._changed.wait()
            if self.closed:
                return False
            self._items.append(item)
            self._held += len(item) if isinstance(item, bytes) else 0
            self._changed.notify_all()
            return True

    def get(self) -> bytes | BaseException:
        with self._changed:
            while not self._items:
                self._changed.wait()
            item = self._items.popleft()
            self._held -= len(item) if isinstance(item, bytes) else 0
            self._changed.notify_all()
            return item

    def close(self) -> None:
        with self._changed:
            self.closed = True
            self._items.clear()
            self._changed.notify_all()


class ObjectPump:
    """Reads a GET body on a background thread, hashes every byte and, for a gzip stream,
    inflates it there too (``_Inflater``); the parser reads the tar's bytes from it as a
    forward-only stream, at most PIPE_BYTES behind. The archive's SHA-256 and the inflating
    cost the second core instead of the parser's time."""

    def __init__(self, body: Any, limits: Limits) -> None:
        self._body, self._limits = body, limits
        self._pipe = _Pipe(PIPE_BYTES)
        self._sha = hashlib.sha256()
        self.raw_bytes = 0  # read from storage (and hashed) so far
        self.kind = ""  # tar.gz, zip or tar, from the first bytes: set before anything is handed over
        self._kind_known = threading.Event()
        self._chunk = memoryview(b"")
        self._offset = 0
        self._eof = False
        self.position = 0  # bytes of the tar (inflated, for a .tar.gz) the parser has consumed
        self._thread = threading.Thread(target=self._run, name="archive-pump", daemon=True)
        self._thread.start()

    # -- the pump's thread --------------------------------------------------------------------

    def _read(self) -> bytes:
        data: bytes = self._body.read(PUMP_CHUNK)
        if data:
            self._sha.update(data)
            self.raw_bytes += len(data)
        return data

    def _run(self) -> None:
        try:
            data = self._read()
            while data and len(data) < 4 and (more := self._read()):
                data += more
            if data[:2] == b"\x1f\x8b":
                self.kind = "tar.gz"
            elif data[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
                self.kind = "zip"  # read by ranges instead (_scan_zip): nothing to hand over
            else:
                self.kind = "tar"
            self._kind_known.set()
            if self.kind == "zip":
                return
            inflater = _Inflater(self._limits) if self.kind == "tar.gz" else None
            while data:
                for piece in inflater.feed(data) if inflater else (data,):
                    if not self._pipe.put(piece):
                        return
                data = self._read()
            for piece in inflater.finish() if inflater else ():
                if not self._pipe.put(piece):
                    return
            self._pipe.put(b"")
        except BaseException as exc:  # handed to the parser, which decides
            self._pipe.put(exc)
        finally:
            self._kind_known.set()

    # -- the parser's side --------------------------------------------------------------------

    def wait_kind(self) -> str:
        """What the first bytes say the archive is ("" if they could not be read: the first read
        then raises why)."""
        self._kind_known.wait()
        return self.kind

    def _next(self) -> bool:
        item = self._pipe.get()
        if isinstance(item, BaseException):
            self._eof = True
            if storage.is_transient(item):
                raise StorageInterrupted(f"reading the archive from storage failed: {item}") from item
            raise item
        if not item:
            self._eof = True
            return False
        self._chunk, self._offset = memoryview(item), 0
        return True

    def view(self, n: int = CHUNK) -> memoryview:
        """Up to ``n`` bytes without copying them (at least one, unless at the end); valid until
        the next call."""
        if self._offset >= len(self._chunk) and (self._eof or not self._next()):
            return memoryview(b"")
        data = self._chunk[self._offset : self._offset + n]
        self._offset += len(data)
        self.position += len(data)
        return data

    def read(self, n: int = CHUNK) -> bytes:
        """``n`` bytes, fewer only at the end of the stream."""
        if n is None or n < 0:
            n = CHUNK
        first = self.view(n)
        if len(first) == n or not first:
            return first.tobytes()
        pieces, wanted = [first.tobytes()], n - len(first)
        while wanted and (piece := self.view(wanted)):
            pieces.append(piece.tobytes())
            wanted -= len(piece)
        return b"".join(pieces)

    def tell(self) -> int:
        return self.position

    def seek(self, position: int, whence: int = 0) -> int:
        """Forward only: skipped bytes were hashed all the same."""
        if whence != 0 or position < self.position:
            raise TarFormatError(
                "corrupt",
                gettext_noop("Cannot seek back to %(position)s in a stream at %(at)s."),
                {"position": position, "at": self.position},
            )
        while self.position < position and self.view(position - self.position):
            pass
        return self.position

    def hexdigest(self) -> str:
        return self._sha.hexdigest()

    def close(self) -> None:
        self._pipe.close()
        try:
            self._body.close()
        except Exception:  # noqa: S110 - closing a stream we are abandoning; nothing to report
            pass
        self._thread.join(timeout=5)


class _Inflater:
    """Inflates gzip members one after another (gzip allows concatenating them) in bounded
    pieces, counting bytes in and out, and stops at once when the output outgrows the size limit
    or the compression ratio limit (a bomb). ISA-L's inflate, several times zlib's speed."""

    def __init__(self, limits: Limits) -> None:
        self._limits = limits
        self._inflate = isal_zlib.decompressobj(wbits=31)
        self.consumed = 0
        self.produced = 0

    def feed(self, data: bytes) -> Iterator[bytes]:
        """The inflated bytes of ``data``, the stream's next compressed bytes, PUMP_CHUNK at most a
        piece; fed a CHUNK at a time, so that a bomb is stopped after reading little of it."""
        view = memoryview(data)
        for start in range(0, len(view), CHUNK):
            piece = view[start : start + CHUNK]
            self.consumed += len(piece)
            yield from self._inflated(piece)

    def finish(self) -> Iterator[bytes]:
        """What is still inside the inflater once the compressed stream has ended."""
        yield from self._inflated(b"")
        if not self._inflate.eof:
            raise ArchiveRejected(
                "truncated",
                gettext_noop("The gzip stream ends before its end marker: the archive is truncated."),
            )

    def _inflated(self, data: bytes | memoryview) -> Iterator[bytes]:
        while True:
            if self._inflate.eof:
                if not data:
                    return
                self._inflate = isal_zlib.decompressobj(wbits=31)  # the next member
            try:
                out = self._inflate.decompress(data, INFLATE_PIECE)
            except INFLATE_ERROR as exc:
                raise ArchiveRejected(
                    "corrupt", gettext_noop("The gzip data is corrupt (%(reason)s)."), {"reason": str(exc)}
                ) from None
            data = self._inflate.unused_data if self._inflate.eof else self._inflate.unconsumed_tail
            if out:
                self.produced += len(out)
                self._check_limits()
                yield out
            elif not data:
                return

    def _check_limits(self) -> None:
        limit = self._limits.max_uncompressed_bytes
        if self.produced > limit:
            raise ArchiveRejected(
                "too_large",
                gettext_noop(
                    "The archive unpacks to more than %(limit)s bytes, this instance's limit; reading stopped."
                ),
                {"limit": limit},
            )
        ratio = self.produced / max(1, self.consumed)
        if self.produced > RATIO_GRACE_BYTES and ratio > self._limits.max_compression_ratio:
            raise ArchiveRejected(
                "compression_ratio",
                gettext_noop(
                    "The archive expands more than %(ratio)s times (%(produced)s bytes from %(consumed)s): refused "
                    "as a possible zip bomb."
                ),
                {"ratio": self._limits.max_compression_ratio, "produced": self.produced, "consumed": self.consumed},
            )


def safe_path(name: str) -> tuple[str, str | None]:
    """The member's normalised path, and a problem that makes it unsafe to extract (or None): a
    sentence template (gettext_noop) with ``%(path)s`` and ``%(limit)s`` (the longest path allowed)."""
    if "\x00" in name:
        return name, gettext_noop("'%(path)s' contains a NUL character.")
    if "\\" in name:
        return name, gettext_noop("'%(path)s' contains a backslash, which Windows reads as a folder separator.")
    if name.startswith("/") or (len(name) > 1 and name[1] == ":" and name[0].isalpha()):
        return name, gettext_noop("'%(path)s' is an absolute path; paths must be relative to the archive's root.")
    parts = [part for part in name.split("/") if part not in ("", ".")]
    if ".." in parts:
        return name, gettext_noop("'%(path)s' contains '..', which would place it outside the extraction folder.")
    if not parts:
        return name, gettext_noop("'%(path)s' has an empty name.")
    if len(name) > MAX_PATH_CHARS:
        return name, gettext_noop("'%(path)s' is longer than %(limit)s characters.")
    return "/".join(parts), None


class _Entries:
    """Counts entries, refuses unsafe and duplicate paths, and keeps the file list."""

    def __init__(self, limits: Limits, findings: Findings) -> None:
        self.limits, self.findings = limits, findings
        self.count = 0
        self.declared_bytes = 0
        self.files: dict[str, int] = {}
        self.folders: set[str] = set()
        self.lowercase: set[str] = set()

    def admit(self, name: str, *, kind: str, size: int, problem: str | None = None) -> str | None:
        """The path to read the member under, or None to skip its content."""
        self.count += 1
        if self.count > self.limits.max_entries:
            raise ArchiveRejected(
                "too_many_entries",
                gettext_noop("The archive has more than %(limit)s entries, this instance's limit; reading stopped."),
                {"limit": self.limits.max_entries},
            )
        self.declared_bytes += max(0, size)
        if self.declared_bytes > self.limits.max_uncompressed_bytes:
            raise ArchiveRejected(
                "too_large",
                gettext_noop(
                    "The archive's members add up to more than %(limit)s bytes, this instance's limit; reading stopped."
                ),
                {"limit": self.limits.max_uncompressed_bytes},
            )
        path, unsafe = safe_path(name)
        problem = problem or unsafe
        if problem:
            self.findings.error(name, "unsafe_path", problem, {"path": name, "limit": MAX_PATH_CHARS})
            return None
        if kind == "link":
            self.findings.error(
                path,
                "link",
                gettext_noop("'%(path)s' is a link; archives may hold only files and folders."),
                {"path": path},
            )
            return None
        if kind == "device":
            self.findings.error(
                path,
                "special_file",
                gettext_noop("'%(path)s' is a device, FIFO or other special file; only files are allowed."),
                {"path": path},
            )
            return None
        if kind == "other":
            self.findings.error(
                path,
                "unsupported_entry",
                gettext_noop("'%(path)s' is an entry type that cannot be extracted safely (e.g. sparse)."),
                {"path": path},
            )
            return None
        if kind == "dir":
            if path in self.files:
                self.findings.error(
                    path, "duplicate_path", gettext_noop("'%(path)s' is both a file and a folder."), {"path": path}
                )
            self.folders.add(path)
            return None
        if path in self.files or path in self.folders:
            self.findings.error(
                path,
                "duplicate_path",
                gettext_noop("'%(path)s' appears more than once; extracting would keep only the last."),
                {"path": path},
            )
            return None
        if path.lower() in self.lowercase:
            self.findings.warning(
                path,
                "case_collision",
                gettext_noop("'%(path)s' differs from another path only in letter case (clashes on macOS)."),
                {"path": path},
            )
        self.lowercase.add(path.lower())
        self.files[path] = size
        return path


def scan(
    key: str,
    *,
    size: int,
    limits: Limits,
    findings: Findings,
    inspector: Inspector,
    progress: Callable[[int], None] = lambda done: None,
) -> ScanResult:
    """Read the object at ``key`` once, checking and hashing every member. Problems go to
    ``findings``; a limit or corrupt data raises ArchiveRejected; unreachable storage raises
    StorageInterrupted."""
    try:
        head = storage.open_stream(key)
    except Exception as exc:
        if storage.is_transient(exc):
            raise StorageInterrupted(f"storage could not be reached: {exc}") from exc
        if storage.is_missing(exc):
            raise ArchiveRejected(
                "missing_object", gettext_noop("The uploaded file is no longer in storage; upload it again.")
            ) from None
        raise
    job = _Scan(size, limits, findings, inspector, progress)
    pump = ObjectPump(head, limits)
    try:
        kind = pump.wait_kind()
        if kind == "zip":
            pump.close()
            return _scan_zip(key, job)
        return _scan_tar(pump, kind or "tar", job)
    finally:
        pump.close()


class _MemberData:
    """The next ``size`` bytes of the archive: one member's data. Ending early means the archive
    is truncated. ``view`` hands them over without copying (``MemberReader.drain`` hashes them)."""

    def __init__(self, source: ObjectPump, size: int) -> None:
        self._source, self._left = source, size

    def read(self, n: int = CHUNK) -> bytes:
        if self._left <= 0:
            return b""
        data = self._source.read(min(n, self._left))
        if not data:
            raise ArchiveRejected("truncated", gettext_noop("A member ends early: the archive is truncated."))
        self._left -= len(data)
        return data

    def view(self, n: int = CHUNK) -> memoryview:
        if self._left <= 0:
            return memoryview(b"")
        data = self._source.view(min(n, self._left))
        if not data:
            raise ArchiveRejected("truncated", gettext_noop("A member ends early: the archive is truncated."))
        self._left -= len(data)
        return data


def _scan_tar(pump: ObjectPump, kind: str, job: _Scan) -> ScanResult:
    result = ScanResult(format=kind)
    entries = _Entries(job.limits, job.findings)
    hasher = _MemberHasher()
    try:
        for entry in read_entries(pump):
            path = entries.admit(entry.name, kind=entry.kind, size=entry.size, problem=entry.name_problem)
            if path is None:
                continue
            # Small members are hashed here: the hashing thread would wait for the GIL after
            # each piece (up to the 5 ms switch interval) while this one parses.
            reader = MemberReader(_MemberData(pump, entry.size), path, hasher if entry.size >= HASH_ALONE else None)
            result.files.append(job.inspect(reader, entry.size))
            job.progress(pump.raw_bytes)
        trailing = 0
        while data := pump.read(CHUNK):  # to the end: the gzip trailer, if any, is part of the archive too
            trailing += len(data) - data.count(0)
        hasher.finish()
    except TarFormatError as exc:
        if exc.code == "not_an_archive" and kind == "tar.gz":
            raise ArchiveRejected(
                exc.code,
                gettext_noop(
                    "The file is gzip-compressed, but what it holds is not a tar archive: compress a tar of the "
                    "dataset's files (tar -czf), not a single file."
                ),
            ) from None
        raise ArchiveRejected(exc.code, exc.template, exc.params) from None
    finally:
        hasher.abandon()  # on the way out of an error: nothing more to hash
    if trailing:
        job.findings.warning(
            "",
            "trailing_data",
            gettext_noop("%(count)s non-zero bytes follow tar's end-of-archive marker; tar ignores them."),
            {"count": trailing},
        )
    result.archive_sha256, result.archive_size = pump.hexdigest(), pump.raw_bytes
    job.inspector.finish(result.files)
    return result


class _FrontierHasher:
    """A RangedReader that hashes bytes in order: each byte at the hash frontier is hashed as it
    is read; ``fill_to`` reads (and hashes) gaps the zip reader skipped."""

    def __init__(self, ranged: storage.RangedReader) -> None:
        self._ranged = ranged
        self._sha = hashlib.sha256()
        self.frontier = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ranged, name)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._ranged.seek(offset, whence)

    def tell(self) -> int:
        return self._ranged.tell()

    def read(self, n: int = -1) -> bytes:
        start = self._ranged.tell()
        try:
            data = self._ranged.read(n)
        except Exception as exc:
            if storage.is_transient(exc):
                raise StorageInterrupted(f"reading the archive from storage failed: {exc}") from exc
            raise
        end = start + len(data)
        if start <= self.frontier < end:
            self._sha.update(data[self.frontier - start :])
            self.frontier = end
        return data

    def fill_to(self, offset: int) -> None:
        while self.frontier < offset:
            self._ranged.seek(self.frontier)
            if not self.read(min(CHUNK, offset - self.frontier)):
                raise ArchiveRejected("truncated", gettext_noop("The zip archive ends early: it is truncated."))

    def hexdigest(self) -> str:
        return self._sha.hexdigest()


def _zip_kind(info: zipfile.ZipInfo) -> str:
    mode = info.external_attr >> 16
    if info.is_dir():
        return "dir"
    if mode and stat.S_ISLNK(mode):
        return "link"
    if mode and (stat.S_ISCHR(mode) or stat.S_ISBLK(mode) or stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)):
        return "device"
    return "file"


def _zip_directory(reader: _FrontierHasher, size: int) -> tuple[int, int] | None:
    """Offset and size of the central directory, from the end of central directory record or the
    ZIP64 one its locator points to (APPNOTE 4.3.14-4.3.16); None if there is none to trust."""
    tail_start = max(0, size - (22 + 0xFFFF))  # the record, after a comment of up to 64 KiB
    reader.seek(tail_start)
    tail = reader.read(size - tail_start)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        return None
    directory_size, directory_offset = struct.unpack_from("<II", tail, at + 12)
    if at >= 20 and tail[at - 20 : at - 16] == b"PK\x06\x07":
        (record_offset,) = struct.unpack_from("<Q", tail, at - 12)
        reader.seek(record_offset)
        record = reader.read(56)
        if len(record) < 56 or record[:4] != b"PK\x06\x06":
            return None
        directory_size, directory_offset = struct.unpack_from("<QQ", record, 40)
    return directory_offset, directory_size


def _zip_entries_over(reader: _FrontierHasher, size: int, limit: int) -> bool:
    """Whether the central directory holds more than ``limit`` entries, walking its 46-byte
    headers (APPNOTE 4.3.12) a chunk at a time. An unreadable directory is zipfile's to report."""
    found = _zip_directory(reader, size)
    if found is None:
        return False
    position, end = found[0], min(size, found[0] + found[1])
    reader.seek(position)
    buffer, offset, count = b"", 0, 0  # buffer starts at position - offset
    while position < end:
        if len(buffer) - offset < 46:
            buffer, offset = buffer[offset:] + reader.read(min(CHUNK, end - position - (len(buffer) - offset))), 0
            if len(buffer) < 46:
                return False
        if buffer[offset : offset + 4] != b"PK\x01\x02":
            return False
        name, extra, comment = struct.unpack_from("<HHH", buffer, offset + 28)
        count += 1
        if count > limit:
            return True
        length = 46 + name + extra + comment
        position += length
        offset += length
        if offset > len(buffer):  # the entry ran past what is buffered: continue after it
            reader.seek(position)
            buffer, offset = b"", 0
    return False


def _scan_zip(key: str, job: _Scan) -> ScanResult:
    size, limits = job.size, job.limits
    ranged = storage.RangedReader(key, size)
    reader = _FrontierHasher(ranged)
    result = ScanResult(format="zip")
    try:
        # zipfile holds the whole central directory and an object per entry in memory: count the
        # entries first, a chunk at a time, so that millions of them stop at the limit.
        if _zip_entries_over(reader, size, limits.max_entries):
            raise ArchiveRejected(
                "too_many_entries",
                gettext_noop("The archive has more than %(limit)s entries, this instance's limit; reading stopped."),
                {"limit": limits.max_entries},
            )
        try:
            archive = zipfile.ZipFile(reader)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError) as exc:
            raise ArchiveRejected(
                "corrupt", gettext_noop("The zip archive is corrupt or truncated (%(reason)s)."), {"reason": str(exc)}
            ) from None
        infos = sorted(archive.infolist(), key=lambda info: info.header_offset)
        if len(infos) > limits.max_entries:
            raise ArchiveRejected(
                "too_many_entries",
                gettext_noop("The archive has %(count)s entries; this instance's limit is %(limit)s."),
                {"count": len(infos), "limit": limits.max_entries},
            )
        # The central directory declares every member's sizes before any is unpacked: judge each
        # member's ratio, then the whole archive's, as the gzip reader does as it goes. Many members
        # each under the grace, or members that overlap and share one compressed kernel (Fifield's
        # non-recursive bomb), expand far beyond what any one member shows.
        for info in infos:
            if info.file_size > RATIO_GRACE_BYTES and info.file_size > limits.max_compression_ratio * max(
                1, info.compress_size
            ):
                raise ArchiveRejected(
                    "compression_ratio",
                    gettext_noop(
                        "'%(path)s' expands more than %(ratio)s times: refused as a possible zip bomb before "
                        "unpacking it."
                    ),
                    {"path": info.filename, "ratio": limits.max_compression_ratio},
                    info.filename,
                )
        declared = sum(info.file_size for info in infos)
        if declared > RATIO_GRACE_BYTES and declared > limits.max_compression_ratio * max(1, size):
            raise ArchiveRejected(
                "compression_ratio",
                gettext_noop(
                    "The archive expands more than %(ratio)s times (%(declared)s bytes declared by its members from "
                    "%(size)s): refused as a possible zip bomb before unpacking anything."
                ),
                {"ratio": limits.max_compression_ratio, "declared": declared, "size": size},
            )
        entries = _Entries(limits, job.findings)
        for info in infos:
            path = entries.admit(info.filename, kind=_zip_kind(info), size=info.file_size)
            if path is None:
                continue
            if info.flag_bits & 0x1:
                job.findings.error(
                    path,
                    "encrypted",
                    gettext_noop("'%(path)s' is encrypted; archives must be readable as uploaded."),
                    {"path": path},
                )
                continue
            reader.fill_to(info.header_offset)
            try:
                with archive.open(info) as member:
                    row = job.inspect(MemberReader(member, path), info.file_size)
            except (zipfile.BadZipFile, EOFError, NotImplementedError, zlib.error) as exc:
                raise ArchiveRejected(
                    "corrupt",
                    gettext_noop("'%(path)s' cannot be read: %(reason)s."),
                    {"path": path, "reason": str(exc)},
                    path,
                ) from None
            result.files.append(row)
            job.progress(reader.frontier)
        reader.fill_to(size)
    finally:
        ranged.close()
    result.archive_sha256, result.archive_size = reader.hexdigest(), reader.frontier
    job.inspector.finish(result.files)
    return result
