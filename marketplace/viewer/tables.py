"""One tabular member of an archive (CSV, TSV, JSON Lines, Parquet) to a Parquet file, with its
column types and statistics. Pure: streams and local files in, a ``Converted`` out; no models,
no storage.

Memory stays bounded whatever the table's size: pyarrow parses CSV, TSV and JSON Lines in blocks
as the member streams past (``open_csv``, ``open_json``: the parse overlaps the archive's read),
the bytes are spooled to a local file on the way, Parquet members are spooled and read back
(``iter_batches``), and a ``ParquetWriter`` writes one row group per block with zstd at its
fastest level, in a thread of its own while the next block is parsed; the statistics are DuckDB
aggregates over the written file, one scan for every column's, under a memory limit (DuckDB
spills what does not fit).

Types come from pyarrow's inference on the first block; a later block that does not fit them (a
column of numbers with a word far down) makes the conversion start over with every column read
as text, so a table is never refused for its types.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import math
import os
import re
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol

from config.lazy_modules import on_first_use

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa  # type: ignore[import-untyped]
    import pyarrow.compute as pc  # type: ignore[import-untyped]
    import pyarrow.csv as pa_csv  # type: ignore[import-untyped]
    import pyarrow.json as pa_json  # type: ignore[import-untyped]
    import pyarrow.parquet as pq  # type: ignore[import-untyped]
else:
    duckdb = on_first_use("duckdb")
    pa = on_first_use("pyarrow")
    pc = on_first_use("pyarrow.compute")
    pa_csv = on_first_use("pyarrow.csv")
    pa_json = on_first_use("pyarrow.json")
    pq = on_first_use("pyarrow.parquet")

CSV = "text/csv"
TSV = "text/tab-separated-values"
JSONL = "application/jsonl"
PARQUET = "application/vnd.apache.parquet"
CONVERTIBLE = (CSV, TSV, JSONL, PARQUET)

BLOCK_BYTES = 8 * 1024 * 1024  # pyarrow's read block: also about one row group of the output
SPOOL_CHUNK = 1024 * 1024
TOP_VALUES = 10
ZSTD_LEVEL = 1  # the fastest level: about the ratio of level 3 on tables, at twice the speed
# Small pages, with their index: a page of a search or of an ordered filter reads its rows from a
# few pages of each row group rather than whole column chunks (about twice as fast), same size.
PAGE_BYTES = 64 * 1024
IN_FLIGHT = 2  # parsed batches waiting for the Parquet writer
DUCKDB_MEMORY = "256MB"


class Readable(Protocol):
    def read(self, n: int = ..., /) -> bytes: ...


class ConversionFailed(Exception):
    """The member could not be read as the table its type says; the message says why."""


@dataclass
class Converted:
    rows: int
    columns: list[dict[str, Any]] = field(default_factory=list)


# --- Splits, from file names (the Hugging Face Hub's convention) ------------------------------------

SPLIT_WORDS = {"train": "train", "training": "train", "validation": "validation", "valid": "validation",
               "val": "validation", "dev": "validation", "test": "test", "testing": "test"}  # fmt: skip


def split_from_name(path: str) -> str | None:
    """``train``, ``validation`` or ``test`` when a word of the path names it (``data/train-00.csv``,
    Common Voice's ``dev.tsv``), else None. The file's own name wins over its folders'."""
    parts = path.lower().split("/")
    for part in reversed(parts):
        stem = part.rsplit(".", 1)[0] if "." in part else part
        for word in re.split(r"[^a-z0-9]+", stem):
            if word in SPLIT_WORDS:
                return SPLIT_WORDS[word]
    return None


def assign_splits(paths: list[str]) -> dict[str, str]:
    """Each table's split: named by its file when any file names one (the others then form a
    split named for their file, as ``validated`` for ``validated.tsv``), else all ``train``."""
    named = {path: split_from_name(path) for path in paths}
    if not any(named.values()):
        return dict.fromkeys(paths, "train")
    result = {}
    for path, split in named.items():
        if split is None:
            stem = path.rsplit("/", 1)[-1].split(".", 1)[0].lower()
            split = re.sub(r"[^a-z0-9_]+", "_", stem).strip("_") or "other"
        result[path] = split
    return result


# --- Conversion ----------------------------------------------------------------------------------


def spool(reader: Readable, target: Path) -> int:
    """Copy a stream to a local file in bounded memory; returns the bytes written."""
    written = 0
    with target.open("wb") as out:
        while piece := reader.read(SPOOL_CHUNK):
            out.write(piece)
            written += len(piece)
    return written


class _Tee(io.RawIOBase):
    """The member's bytes as pyarrow reads them, copied to the spool as they pass: the parse
    overlaps the archive's read (pyarrow reads ahead in a thread of its own while its parser
    threads work), and the spool is there for a second reading if the first one's types fail."""

    def __init__(self, reader: Readable, spool: BinaryIO) -> None:
        super().__init__()
        self.reader, self.spool = reader, spool

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        piece = self.reader.read(len(buffer))
        self.spool.write(piece)
        buffer[: len(piece)] = piece
        return len(piece)

    def finish(self) -> None:
        """Copy what pyarrow did not read (after a failure) so that the spool holds the member."""
        while piece := self.reader.read(SPOOL_CHUNK):
            self.spool.write(piece)


def _nothing() -> None:
    return None


def convert_stream(reader: Readable, media_type: str, target: Path, spool_path: Path) -> Converted:
    """``convert_file`` on a stream (an archive's member): ``write_stream``, then ``describe``."""
    return describe(target, write_stream(reader, media_type, target, spool_path))


def write_stream(
    reader: Readable, media_type: str, target: Path, spool_path: Path, *, restarting: Callable[[], None] = _nothing
) -> Aggregates | None:
    """Write a stream of ``media_type`` to ``target`` as Parquet, parsing CSV, TSV and JSON Lines as
    the bytes arrive instead of after a copy to disk. The bytes are spooled on the way all the same,
    so that a table whose types change far down is read a second time, as text, from the spool;
    Parquet, which is read from its end, is spooled first. Returns the aggregates of its columns
    for ``describe`` (None if they could not be computed on the way). ``restarting`` is called
    before ``target`` is written again from its start (what was written of it is dropped): a
    reader of the file as it grows starts over or gives up."""
    if media_type not in (CSV, TSV, JSONL):
        spool(reader, spool_path)
        return write_file(spool_path, media_type, target, restarting=restarting)
    with spool_path.open("wb") as out:
        tee = _Tee(reader, out)
        try:
            if media_type == JSONL:
                return _write(_json_batches(tee), target)
            return _write(_csv_batches(tee, media_type, text_only=False), target)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as exc:
            target.unlink(missing_ok=True)
            if media_type == JSONL:
                raise ConversionFailed(_arrow_sentence(exc)) from exc
            tee.finish()
    restarting()
    return write_file(spool_path, media_type, target, typed=False)


def convert_file(source: Path, media_type: str, target: Path) -> Converted:
    """Write ``source`` (a table of ``media_type``) to ``target`` as Parquet and describe it."""
    return describe(target, write_file(source, media_type, target))


def write_file(
    source: Path, media_type: str, target: Path, *, typed: bool = True, restarting: Callable[[], None] = _nothing
) -> Aggregates | None:
    """Write ``source`` (a table of ``media_type``) to ``target`` as Parquet; ``typed=False`` reads
    CSV and TSV as text without trying their types first. Returns the aggregates of its columns
    for ``describe`` (None if they could not be computed on the way); ``restarting`` as for
    ``write_stream``."""
    if media_type not in CONVERTIBLE:
        raise ConversionFailed(f"'{media_type}' is not a table the viewer reads.")
    try:
        if media_type in (CSV, TSV):
            if typed:
                try:
                    return _write(_csv_batches(source, media_type, text_only=False), target)
                except pa.ArrowInvalid:
                    restarting()
            return _write(_csv_batches(source, media_type, text_only=True), target)
        if media_type == JSONL:
            return _write(_json_batches(source), target)
        return _write(_parquet_batches(source), target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as exc:
        target.unlink(missing_ok=True)
        raise ConversionFailed(_arrow_sentence(exc)) from exc


def _arrow_sentence(exc: Exception) -> str:
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f"It could not be read as a table: {first}"


def _write(batches: tuple[pa.Schema, Iterator[pa.RecordBatch]], target: Path) -> Aggregates | None:
    """Write the batches as Parquet in one thread while the next are parsed in this one, and their
    columns' aggregates computed in a third (all work outside the GIL), at most ``IN_FLIGHT``
    batches ahead. Returns the aggregates (None if DuckDB could not compute them)."""
    schema, stream = batches
    first = next((batch for batch in stream if batch.num_rows), None)
    dictionary = _dictionary_columns(first) if first is not None else True
    aggregates = _StreamAggregates(schema)
    try:
        with (
            pq.ParquetWriter(target, schema, compression="zstd", compression_level=ZSTD_LEVEL,
                             use_dictionary=dictionary, data_page_size=PAGE_BYTES, write_page_index=True) as writer,
            ThreadPoolExecutor(max_workers=1) as encoder,
        ):  # fmt: skip
            pending: deque[Future[None]] = deque()
            for batch in itertools.chain([first] if first is not None else [], stream):
                if batch.num_rows:
                    pending.append(encoder.submit(writer.write_batch, batch))  # one row group per block
                    aggregates.add(batch)
                while len(pending) > IN_FLIGHT or (pending and pending[0].done()):
                    pending.popleft().result()
            while pending:
                pending.popleft().result()
    except BaseException:
        aggregates.abandon()
        raise
    return aggregates.result()


def _dictionary_columns(batch: pa.RecordBatch) -> list[str]:
    """The columns worth dictionary-encoding, judged on the first batch: those whose values mostly
    repeat. For the others (ids, measurements, free text) the writer would build a dictionary in
    every row group only to give it up."""
    chosen = []
    for name, column in zip(batch.schema.names, batch.columns, strict=True):
        try:
            distinct = pc.count_distinct(column).as_py()
        except pa.ArrowNotImplementedError:
            continue  # nested types: written plain
        if distinct <= len(column) // 2:
            chosen.append(name)
    return chosen


def _csv_batches(
    source: Path | io.RawIOBase, media_type: str, *, text_only: bool
) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
    tsv = media_type == TSV
    # TSV is read unquoted, one row per line, as validation and the rewriter read it (Common Voice's
    # sentences hold quotes); CSV follows RFC 4180, quoted values may hold newlines when text_only.
    parse = pa_csv.ParseOptions(delimiter="\t" if tsv else ",", quote_char=False if tsv else '"',
                                newlines_in_values=text_only and not tsv)  # fmt: skip
    read = pa_csv.ReadOptions(block_size=BLOCK_BYTES)
    convert = pa_csv.ConvertOptions(strings_can_be_null=True)
    if text_only:
        with pa_csv.open_csv(source, read_options=read, parse_options=parse) as probe:
            names = probe.schema.names
        convert = pa_csv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=True)
    reader = pa_csv.open_csv(source, read_options=read, parse_options=parse, convert_options=convert)
    return reader.schema, _closing(reader)


def _json_batches(source: Path | io.RawIOBase) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
    reader = pa_json.open_json(source, read_options=pa_json.ReadOptions(block_size=BLOCK_BYTES))
    return reader.schema, _closing(reader)


def _parquet_batches(source: Path) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
    parquet = pq.ParquetFile(source)
    return parquet.schema_arrow, parquet.iter_batches(batch_size=128 * 1024)


def _closing(reader: Any) -> Iterator[pa.RecordBatch]:
    try:
        yield from reader
    finally:
        reader.close()


# --- Statistics ----------------------------------------------------------------------------------


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def connect() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB that never reaches the network (no extension is loaded or installed)."""
    connection = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    connection.execute(f"SET memory_limit = '{DUCKDB_MEMORY}'")
    connection.execute("SET threads = 2")
    connection.execute("SET enable_progress_bar = false")  # a long scan would draw one on the worker's output
    return connection


ATTACHED_KEPT = 16  # database files a process keeps attached (``attached``)


@dataclass
class _Reads:
    pid: int
    database: duckdb.DuckDBPyConnection
    attached: OrderedDict[str, str] = field(default_factory=OrderedDict)  # path -> name


_reads: _Reads | None = None
_reads_lock = threading.Lock()


def _reads_database() -> _Reads:
    global _reads
    if _reads is None or _reads.pid != os.getpid():
        database = connect()
        database.execute("SET enable_object_cache = true")
        _reads = _Reads(os.getpid(), database)
    return _reads


def reads() -> duckdb.DuckDBPyConnection:
    """A connection of its own to this process's one in-memory DuckDB for the viewer's reads.

    Opening a database costs about 30 ms (more than a page of rows takes to read); a cursor on an
    open one, under a millisecond. The requests of a process share its memory limit and threads
    (so eight threads of a web worker cannot each take 256 MB) and its cache of Parquet footers
    and statistics (``enable_object_cache``), so a page does not re-read the file's metadata.
    Opened in the process that reads (a fork does not inherit it)."""
    with _reads_lock:
        return _reads_database().database.cursor()


def attached(path: Path) -> str:
    """The name under which the database file at ``path`` (never written: a cached file named by
    its SHA-256) is attached, read-only, to this process's DuckDB for the viewer's reads (the
    cursors of ``reads`` see it), attaching it if it is not. Attaching costs a few milliseconds, so
    a process keeps the ``ATTACHED_KEPT`` most recently used attached and detaches the others (a
    query reading one meanwhile finishes; a reader that still names it is refused, and asks the
    Parquet file instead)."""
    key = str(path)
    with _reads_lock:
        reads = _reads_database()
        name = reads.attached.get(key)
        if name is not None:
            reads.attached.move_to_end(key)
            return name
        name = "table_" + hashlib.sha256(key.encode()).hexdigest()[:24]
        reads.database.execute(f"ATTACH '{_sql_path(path)}' AS {name} (READ_ONLY)")
        reads.attached[key] = name
        while len(reads.attached) > ATTACHED_KEPT:
            _, evicted = reads.attached.popitem(last=False)
            reads.database.execute(f"DETACH {evicted}")
        return name


def _kind(arrow_type: pa.DataType) -> str:
    if pa.types.is_boolean(arrow_type):
        return "bool"
    if pa.types.is_integer(arrow_type) or pa.types.is_floating(arrow_type) or pa.types.is_decimal(arrow_type):
        return "number"
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return "string"
    if pa.types.is_temporal(arrow_type):
        return "temporal"
    return "other"


def describe(parquet_path: Path, found: Aggregates | None = None) -> Converted:
    """Rows, and for each column its type and statistics: count and nulls; min, max and mean of
    numbers; min and max of dates and times; distinct values (approximate) and the most frequent
    values of strings; true and false counts of booleans.

    One scan computes every column's aggregates (``found``, when ``write_stream`` or
    ``write_file`` computed them on the batches as they were written; else a scan of the file);
    the most frequent values of a string column take one more (a GROUP BY), except where most
    values are distinct: there a grouping would hold every value for counts of one or two, so the
    candidates come from DuckDB's approximate top-k and their counts from an exact count of those
    few values."""
    schema = pq.read_schema(parquet_path)
    rows = pq.ParquetFile(parquet_path).metadata.num_rows
    source = f"read_parquet('{_sql_path(parquet_path)}')"
    if found is not None and (_kinds(found.schema) != _kinds(schema) or found.rows != rows):
        found = None  # not this file's (never expected): scan the file
    plan, aggregates = _plan(schema, candidates=False)
    columns: list[dict[str, Any]] = []
    with connect() as connection:
        values: tuple[Any, ...] = ()
        if found is not None:
            # The file's columns (their types as stored), where the aggregates of the batches are.
            plan = [(column, kind, at) for column, (_, kind, at) in zip(schema, found.plan, strict=True)]
            values = found.values
        elif aggregates:
            values = connection.execute(f"SELECT {', '.join(aggregates)} FROM {source}").fetchone() or ()  # noqa: S608 (names quoted, path ours)
        for column, kind, at in plan:
            count = int(values[at]) if values else 0
            statistics: dict[str, Any] = {"count": count, "nulls": rows - count}
            if kind == "number":
                statistics.update(min=_plain(values[at + 1]), max=_plain(values[at + 2]), mean=_plain(values[at + 3]))
            elif kind == "temporal":
                statistics.update(min=values[at + 1], max=values[at + 2])
            elif kind == "string":
                distinct = min(int(values[at + 1]), count)  # an estimate: never more than the values
                candidates = values[at + 2] if found is not None and values else None
                top = _top_values(connection, source, quote_identifier(column.name),
                                  many=distinct > count // 2 > 0, candidates=candidates)  # fmt: skip
                statistics.update(distinct=distinct, top=[{"value": value, "count": n} for value, n in top])
            elif kind == "bool":
                statistics.update(true=int(values[at + 1]), false=count - int(values[at + 1]))
            columns.append({"name": column.name, "type": str(column.type), "statistics": statistics})
    return Converted(rows=rows, columns=columns)


def _kinds(schema: pa.Schema) -> list[tuple[str, str]]:
    """Names and kinds: what the aggregates depend on (the file may store a type a little
    differently from the batches, as timestamps in seconds, written in milliseconds)."""
    return [(column.name, _kind(column.type)) for column in schema]


Plan = list[tuple["pa.Field", str, int]]  # (column, kind, where its aggregates start)


def _plan(schema: pa.Schema, *, candidates: bool) -> tuple[Plan, list[str]]:
    """The aggregates that give every column's statistics, in one scan, and where each column's
    start; ``candidates`` adds the approximate top-k of string columns (for a scan of the batches,
    which cannot wait to know whether a column is mostly distinct)."""
    aggregates: list[str] = []
    plan: Plan = []
    for column in schema:
        kind = _kind(column.type)
        name = quote_identifier(column.name)
        plan.append((column, kind, len(aggregates)))
        aggregates.append(f"count({name})")
        if kind == "number":
            aggregates += [f"min({name})", f"max({name})", f"avg({name})"]
        elif kind == "temporal":
            aggregates += [f"min({name})::VARCHAR", f"max({name})::VARCHAR"]
        elif kind == "string":
            aggregates += [f"approx_count_distinct({name})"]
            if candidates:
                aggregates += [f"approx_top_k({name}, {TOP_VALUES})"]
        elif kind == "bool":
            aggregates += [f"count_if({name})"]
    return plan, aggregates


def _top_values(
    connection: duckdb.DuckDBPyConnection, source: str, name: str, *, many: bool, candidates: list[Any] | None = None
) -> list[Any]:
    """The column's most frequent values with their counts, most frequent first (``candidates``:
    the approximate top-k already computed, for a mostly distinct column)."""
    within = ""
    values: list[Any] = []
    if many:
        if candidates is None:
            found = connection.execute(f"SELECT approx_top_k({name}, {TOP_VALUES}) FROM {source}").fetchone()  # noqa: S608
            candidates = found[0] if found and found[0] else []
        values = [value for value in candidates or [] if value is not None]
        if not values:
            return []
        within = f" AND {name} IN ({', '.join('?' * len(values))})"
    return connection.execute(
        f"SELECT {name}, count(*) AS n FROM {source} WHERE {name} IS NOT NULL{within} "  # noqa: S608
        f"GROUP BY 1 ORDER BY n DESC, 1 LIMIT {TOP_VALUES}",
        values,
    ).fetchall()


@dataclass
class Aggregates:
    """The aggregates of every column (``_plan``'s, with candidates), computed by DuckDB on the
    batches as they were written."""

    schema: pa.Schema
    rows: int
    plan: Plan
    values: tuple[Any, ...]


class _StreamAggregates:
    """DuckDB's aggregates over the batches handed to ``add``, in a thread of its own while they are
    written (DuckDB scans the Arrow batches in memory: no second reading of the file, nor its
    decoding). At most ``IN_FLIGHT`` batches wait for it. ``result`` is None if DuckDB could not
    compute them (a type its Arrow scan does not take): ``describe`` then scans the file."""

    def __init__(self, schema: pa.Schema) -> None:
        self.schema = schema
        self.plan, self.aggregates = _plan(schema, candidates=True)
        self.rows = 0
        self._batches: deque[pa.RecordBatch | None] = deque()
        self._changed = threading.Condition()
        self._stopped = False  # the scan ended (or failed): add() no longer waits for it
        self._abandoned = False
        self._values: tuple[Any, ...] | None = None
        self._thread = threading.Thread(target=self._run, name="table-statistics", daemon=True)
        self._thread.start()

    def add(self, batch: pa.RecordBatch) -> None:
        self.rows += batch.num_rows
        self._put(batch)

    def _put(self, item: pa.RecordBatch | None) -> None:
        with self._changed:
            while len(self._batches) >= IN_FLIGHT and not self._stopped:
                self._changed.wait()
            if not self._stopped:
                self._batches.append(item)
                self._changed.notify_all()

    def _stream(self) -> Iterator[pa.RecordBatch]:
        while True:
            with self._changed:
                while not self._batches:
                    self._changed.wait()
                item = self._batches.popleft()
                self._changed.notify_all()
            if item is None:
                if self._abandoned:
                    raise ConversionFailed("abandoned")  # ends DuckDB's scan
                return
            yield item

    def _run(self) -> None:
        try:
            if not self.aggregates:
                for _ in self._stream():
                    pass
                self._values = ()
                return
            batches = pa.RecordBatchReader.from_batches(self.schema, self._stream())
            with connect() as connection:
                connection.register("batches", batches)
                self._values = connection.execute(f"SELECT {', '.join(self.aggregates)} FROM batches").fetchone()  # noqa: S608 (names quoted)
        except Exception:  # noqa: BLE001 - describe() scans the file instead
            self._values = None
        finally:
            with self._changed:
                self._stopped = True
                self._batches.clear()
                self._changed.notify_all()

    def result(self) -> Aggregates | None:
        """Wait for the aggregates of every batch added."""
        self._put(None)
        self._thread.join()
        if self._values is None:
            return None
        return Aggregates(self.schema, self.rows, self.plan, self._values)

    def abandon(self) -> None:
        self._abandoned = True
        self._put(None)
        self._thread.join()


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def _plain(value: Any) -> Any:
    """JSON-ready: Decimals and numpy-like numbers as floats or ints."""
    if value is None or isinstance(value, int):
        return value
    number = float(value)
    return number if math.isfinite(number) else None
