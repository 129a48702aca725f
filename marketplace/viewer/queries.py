"""Reads of a split's Parquet files with DuckDB: pages of rows, full-text search over the string
columns, filters in the predicate language (``marketplace.viewer.predicates``), with an order.

DuckDB reads HTTP(S) and S3 only through its ``httpfs`` extension, which it downloads at run time;
this instance may have no internet, so the files are read from a local cache instead: fetched
from storage on first use (``storage.download_to``), checked against the SHA-256 the export
recorded, named by it (so versions that share a table share a copy), and the least recently
used evicted once the cache passes ``VIEWER_CACHE_MIB``.
"""

from __future__ import annotations

import base64
import datetime
import decimal
import hashlib
import logging
import math
import os
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from config.lazy_modules import on_first_use

if TYPE_CHECKING:
    import duckdb
    import numpy as np
    import pyarrow as pa  # type: ignore[import-untyped]
    import pyarrow.parquet as pq  # type: ignore[import-untyped]
else:
    duckdb = on_first_use("duckdb")
    np = on_first_use("numpy")
    pa = on_first_use("pyarrow")
    pq = on_first_use("pyarrow.parquet")
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext

from marketplace import storage
from marketplace.viewer import filter_database, predicates, search_index, tables

logger = logging.getLogger(__name__)

MAX_LENGTH = 100
# DuckDB's refusal of a number compared with a text column names the first value of the column
# it could not read as a number, which one depends on the threads' order: the person is told
# instead what to write.
TEXT_COMPARED_WITH_A_NUMBER = re.compile(r"Could not convert string .* when casting from source column (.+)$")


@dataclass(frozen=True)
class Page:
    features: list[dict[str, Any]]
    rows: list[dict[str, Any]]
    offset: int
    total: int


# --- The local cache -----------------------------------------------------------------------------


def _cache_dir() -> Path:
    path = Path(settings.VIEWER_CACHE_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def local_copy(table: dict[str, Any]) -> Path:
    """The local file of one exported table, fetched and checked if it is not cached yet."""
    return _local(str(table["key"]), str(table["sha256"]), ".parquet")


def local_index(table: dict[str, Any]) -> Path | None:
    """The local file of a table's search index (``search_index``), fetched and checked if it is
    not cached yet; None when the export has none (older exports, tables without text) or when
    the stored file is not the one the export recorded: the search then reads the table."""
    return _derived(table, "index", ".index.parquet")


def local_database(table: dict[str, Any]) -> Path | None:
    """The local file of a table's DuckDB database (``filter_database``), fetched and checked if it
    is not cached yet; None when there is none yet (the index job has not run) or when the stored
    file is not the one recorded: the queries then read the Parquet file."""
    return _derived(table, "database", ".duckdb")


def _derived(table: dict[str, Any], name: str, suffix: str) -> Path | None:
    entry = table.get(name)
    if not entry:
        return None
    try:
        return _local(str(entry["key"]), str(entry["sha256"]), suffix)
    except storage.StorageError as exc:
        logger.warning("%s of %s not used: %s", name, table["key"], exc)
        return None


def _local(key: str, sha256: str, suffix: str) -> Path:
    target = _cache_dir() / f"{sha256}{suffix}"
    if target.exists():
        os.utime(target)  # recently used
        return target
    incoming = target.with_name(f".incoming-{uuid.uuid4().hex}")
    try:
        storage.download_to(key, str(incoming))
        digest = hashlib.sha256()
        with incoming.open("rb") as stream:
            while piece := stream.read(1024 * 1024):
                digest.update(piece)
        if digest.hexdigest() != sha256:
            raise storage.StorageError(f"{key} does not hold the exported bytes (SHA-256 differs).")
        os.replace(incoming, target)
    finally:
        incoming.unlink(missing_ok=True)
    _evict(keep=target)
    return target


def _evict(*, keep: Path) -> None:
    limit = settings.VIEWER_CACHE_MIB * 1024 * 1024
    files = []
    for path in [*_cache_dir().glob("*.parquet"), *_cache_dir().glob("*.duckdb")]:
        try:
            stat = path.stat()
        except FileNotFoundError:
            continue  # another process evicted it
        files.append((stat.st_mtime, stat.st_size, path))
    total = sum(size for _, size, _ in files)
    for _, size, path in sorted(files):
        if total <= limit:
            break
        if path != keep:
            path.unlink(missing_ok=True)
            total -= size


# --- Queries -------------------------------------------------------------------------------------


SHAPES_KEPT = 256
ROW_NUMBER = "file_row_number"  # DuckDB's row number within a Parquet file
ROW_ID = "rowid"  # and within a table of a DuckDB database
FILE_NAME = "filename"  # and the file's path


@dataclass(frozen=True)
class _Shape:
    features: list[dict[str, Any]]
    columns: list[str]
    cells: tuple[Callable[[Any], Any] | None, ...]  # per column: what makes its cells JSON (None: nothing)
    rows: int  # the split's total, the answer of a page in table order


# Column types whose cells DuckDB already gives as JSON's own values (int, bool, str), so a page's
# rows are built without looking at each cell; a float may be NaN (null in JSON), anything else is
# converted by ``_json``.
AS_THEY_ARE = re.compile(r"(U?(TINY|SMALL|BIG|HUGE)?INT(EGER)?|BOOLEAN|VARCHAR)")
FLOATS = {"FLOAT", "DOUBLE"}


def _cells(type_name: str) -> Callable[[Any], Any] | None:
    if AS_THEY_ARE.fullmatch(type_name):
        return None
    return _finite if type_name in FLOATS else _json


_shapes: dict[tuple[str, ...], _Shape] = {}


def _shape(paths: tuple[str, ...], connection: duckdb.DuckDBPyConnection, source: str) -> _Shape:
    """The split's columns and rows, kept per process: a cached file is named by its SHA-256, so
    what it holds never changes."""
    shape = _shapes.get(paths)
    if shape is None:
        described = connection.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()  # noqa: S608 (our paths)
        shape = _Shape(
            features=[{"feature_idx": i, "name": row[0], "type": row[1]} for i, row in enumerate(described)],
            columns=[row[0] for row in described],
            cells=tuple(_cells(row[1]) for row in described),
            rows=_count(connection, source, "", []),
        )
        if len(_shapes) >= SHAPES_KEPT:
            _shapes.pop(next(iter(_shapes)))
        _shapes[paths] = shape
    return shape


def reader_of(tables: list[dict[str, Any]]) -> SplitReader:
    """A reader of a split's exported tables, with their search indexes and (for a split of one
    table) its database, where the index job made them."""
    files, indexes = [local_copy(table) for table in tables], [local_index(table) for table in tables]
    return SplitReader(files, indexes, [local_database(tables[0])] if len(tables) == 1 else None)


def _listed(paths: tuple[str, ...]) -> str:
    return ", ".join("'" + path.replace("'", "''") + "'" for path in paths)


def refusal(exc: duckdb.Error) -> str:
    """What the person is told when a value of their filter does not fit its column's type."""
    first = str(exc).strip().splitlines()[0]
    text_column = TEXT_COMPARED_WITH_A_NUMBER.search(first)
    if text_column:
        return gettext(
            "The column “%(column)s” holds text: put the value you compare it with in quotes, as in %(column)s = '5'."
        ) % {"column": text_column.group(1)}
    return gettext("A value does not fit its column's type: %(first)s") % {"first": first}


class SplitReader:
    """One split: the union (by column name) of its tables' local Parquet copies. A page in file
    order stops reading at its last row; a page in another order is one top-N query that counts
    the matches on the way (a window), since it reads every match anyway.

    A split of one table whose DuckDB database has been made (``filter_database``, ``databases``)
    is read from the database instead, several times faster to scan; the search index and the
    table's shape still come from the Parquet file, and so do the answers to what the database
    refuses (its refusals would name its own types)."""

    def __init__(
        self, files: list[Path], indexes: list[Path | None] | None = None, databases: list[Path | None] | None = None
    ) -> None:
        self.connection = tables.reads()
        self.files, self.indexes = files, indexes or [None] * len(files)
        paths = tuple(str(path) for path in files)
        self.source = f"read_parquet([{_listed(paths)}], union_by_name = true)"
        # Row numbers, and which file when there are several (a column of text in every row).
        self.numbered = f"read_parquet([{_listed(paths)}], union_by_name = true, file_row_number = true"
        self.numbered += ", filename = true)" if len(paths) > 1 else ")"
        self.shape = _shape(paths, self.connection, self.source)
        self.features, self.columns = self.shape.features, self.shape.columns
        self.database = self._attached(databases[0]) if databases and len(databases) == len(files) == 1 else None

    def _attached(self, path: Path | None) -> str | None:
        """The database's table as the queries name it; None when there is none, when a column
        named ``rowid`` would hide DuckDB's row ids, or when DuckDB cannot open it (a file made by
        a newer DuckDB): the Parquet file then answers."""
        if path is None or ROW_ID in {column.lower() for column in self.columns}:
            return None
        try:
            return f"{tables.attached(path)}.{filter_database.TABLE}"
        except duckdb.Error as exc:
            logger.warning("database %s not used: %s", path.name, exc)
            return None

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> SplitReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _page(self, where: str, values: list[Any], order: str, offset: int, length: int) -> Page:
        condition = f" WHERE {where}" if where else ""
        ordering = f" ORDER BY {order}" if order else ""
        if self.database is not None:
            try:
                return self._database_page(self.database, condition, ordering, values, offset, length)
            except duckdb.Error as exc:
                # Asked again of the Parquet file, whose refusal users read (a comparison of a
                # number with an ENUM column would name every value of the ENUM).
                logger.debug("the database refused %r: %s", condition, exc)
        try:
            if order and not {ROW_NUMBER, FILE_NAME} & set(self.columns):
                return self._ordered(condition, ordering, values, offset, length)
            if order:
                # One scan: the top-N reads every row that matches anyway, so it counts them too.
                rows = self.connection.execute(
                    f"SELECT *, count(*) OVER () FROM {self.source}{condition}{ordering} LIMIT ? OFFSET ?",  # noqa: S608
                    [*values, length, offset],
                ).fetchall()
                total = int(rows[0][-1]) if rows else 0
                if not rows and offset:
                    total = self._count(self.source, condition, values)
                return self._answer([row[:-1] for row in rows], offset, total)
            total = self._count(self.source, condition, values) if condition else self.shape.rows
            rows = self.connection.execute(
                f"SELECT * FROM {self.source}{condition} LIMIT ? OFFSET ?",  # noqa: S608
                [*values, length, offset],
            ).fetchall()
        except (duckdb.ConversionException, duckdb.BinderException, duckdb.InvalidInputException) as exc:
            raise ValidationError(refusal(exc)) from exc
        return self._answer(rows, offset, total)

    def _ordered(self, condition: str, ordering: str, values: list[Any], offset: int, length: int) -> Page:
        """An ordered page in two steps: one scan of the columns the condition and the order read
        finds the page's rows (file and row number) and counts the matches on the way (the top-N
        reads every match anyway), then only those rows are read whole, from the row groups and
        pages that hold them. Reading every column of every match for the top-N would read most
        of the table's text."""
        named = FILE_NAME if len(self.files) > 1 else "NULL"
        located = self.connection.execute(
            f"SELECT {named}, {ROW_NUMBER}, count(*) OVER () FROM {self.numbered}{condition}{ordering} "  # noqa: S608
            "LIMIT ? OFFSET ?",
            [*values, length, offset],
        ).fetchall()
        if len(self.files) == 1:
            located = [(str(self.files[0]), row, count) for _, row, count in located]
        total = int(located[0][-1]) if located else 0
        if not located and offset:
            total = self._count(self.source, condition, values)
        by_file: dict[str, list[int]] = {}
        for name, row, _ in located:
            by_file.setdefault(name, []).append(row)
        found: dict[tuple[str, int], tuple[Any, ...]] = {}
        for name, rows in by_file.items():
            chosen = np.array(sorted(rows), np.int64)
            found.update(zip(((name, int(row)) for row in chosen), self._rows_at(Path(name), chosen), strict=True))
        return self._answer([found[(name, row)] for name, row, _ in located], offset, total)

    def _database_page(
        self, source: str, condition: str, ordering: str, values: list[Any], offset: int, length: int
    ) -> Page:
        """A page read from the table's database: in table order, the rows up to the page's last;
        in another order, as ``_ordered`` reads the Parquet file, the page's row ids found and the
        matches counted in one scan of the columns the condition and the order name, then only
        those rows read whole."""
        if not ordering and not condition:
            # A page in table order: its rows by their ids (the database holds the table's rows in
            # its order, ids from 0), which DuckDB finds by the row groups' ranges instead of
            # counting through the rows before the offset; the total is the split's (``_shape``).
            rows = self.connection.execute(
                f"SELECT * FROM {source} WHERE {ROW_ID} >= ? AND {ROW_ID} < ? ORDER BY {ROW_ID}",  # noqa: S608 (our names)
                [offset, offset + length],
            ).fetchall()
            return self._answer(rows, offset, self.shape.rows)
        if not ordering:
            total = self._count(source, condition, values)
            rows = self.connection.execute(
                f"SELECT * FROM {source}{condition} LIMIT ? OFFSET ?",  # noqa: S608 (checked columns, placeholders)
                [*values, length, offset],
            ).fetchall()
            return self._answer(rows, offset, total)
        located = self.connection.execute(
            f"SELECT {ROW_ID}, count(*) OVER () FROM {source}{condition}{ordering} LIMIT ? OFFSET ?",  # noqa: S608
            [*values, length, offset],
        ).fetchall()
        total = int(located[0][-1]) if located else 0
        if not located and offset:
            total = self._count(source, condition, values)
        return self._answer(self._rows_by_id(source, [int(row_id) for row_id, _ in located]), offset, total)

    def _rows_by_id(self, source: str, ids: list[int]) -> list[tuple[Any, ...]]:
        """The rows of the database's table with these ids, in the order given: a join, which
        DuckDB answers from the row groups holding the ids (an IN list is a filter on every row:
        ten times slower)."""
        if not ids:
            return []
        read = self.connection.execute(
            f"SELECT t.{ROW_ID}, t.* FROM {source} t "  # noqa: S608 (our names)
            f"SEMI JOIN (SELECT unnest(?::BIGINT[]) AS id) ids ON t.{ROW_ID} = ids.id",
            [ids],
        )
        found = {int(row[0]): row[1:] for row in read.fetchall()}
        return [found[row_id] for row_id in ids]

    def _count(self, source: str, condition: str, values: list[Any]) -> int:
        return _count(self.connection, source, condition, values)

    def _answer(self, rows: list[tuple[Any, ...]], offset: int, total: int) -> Page:
        columns, cells = self.columns, self.shape.cells
        if any(cells):
            rows = [tuple(v if c is None else c(v) for c, v in zip(cells, row, strict=True)) for row in rows]
        return Page(
            features=self.features,
            rows=[
                {"row_idx": offset + i, "row": dict(zip(columns, row, strict=True)), "truncated_cells": []}
                for i, row in enumerate(rows)
            ],
            offset=offset,
            total=total,
        )

    def _indexed_search(self, query: str, strings: list[str], offset: int, length: int) -> Page | None:
        """A search answered from the tables' indexes (``search_index``), with the scan's answers;
        None when some table has no index or its text columns are not the ones the index holds (a
        column that is text in the split but numbers in this file): the caller then scans."""
        indexes = [index for index in self.indexes if index is not None]
        if len(indexes) != len(self.files) or ROW_NUMBER in self.columns:
            return None
        schemas = [pq.read_schema(path) for path in self.files]
        if any(set(search_index.string_columns(schema)) != set(strings) & set(schema.names) for schema in schemas):
            return None
        lowered = str(self.connection.execute("SELECT lower(?)", [query]).fetchall()[0][0])
        pieces = search_index.pieces(lowered)
        if not pieces:
            return None  # only whitespace: every word would be a candidate
        exact = pieces == [lowered]
        found: list[np.ndarray] = []
        for path, index in zip(self.files, indexes, strict=True):
            rows = search_index.rows_with(index, pieces[0])
            for piece in pieces[1:]:
                rows = np.intersect1d(rows, search_index.rows_with(index, piece), assume_unique=True)
            if not exact and len(rows):
                rows = self._containing(path, rows, query, strings)
            found.append(rows)
        total = sum(len(rows) for rows in found)
        page: list[tuple[Any, ...]] = []
        skip, wanted = offset, length
        for path, rows in zip(self.files, found, strict=True):
            if wanted <= 0:
                break
            if skip >= len(rows):
                skip -= len(rows)
                continue
            chosen = rows[skip : skip + wanted]
            skip = 0
            wanted -= len(chosen)
            if self.database is not None:  # one file, whose row numbers are its database's ids
                page += self._rows_by_id(self.database, [int(row) for row in chosen])
            else:
                page += self._rows_at(path, chosen)
        return self._answer(page, offset, total)

    def _file_columns(self, path: Path) -> str:
        """The split's columns as this file gives them: its own cast to the split's type, NULL for
        those it lacks (what ``union_by_name`` reads)."""
        names = set(pq.read_schema(path).names)
        return ", ".join(
            f"CAST({predicates.quote_identifier(f['name'])} AS {f['type']})" if f["name"] in names
            else f"CAST(NULL AS {f['type']})"
            for f in self.features
        )  # fmt: skip

    def _rows_at(self, path: Path, rows: np.ndarray) -> list[tuple[Any, ...]]:
        """The rows at these ascending row numbers of one file, read from the row groups that hold them."""
        if not len(rows):
            return []
        listed = ", ".join(str(int(row)) for row in rows)
        source = f"read_parquet('{_sql_path(path)}', file_row_number = true)"
        return self.connection.execute(
            f"SELECT {self._file_columns(path)} FROM {source} WHERE {ROW_NUMBER} BETWEEN ? AND ? "  # noqa: S608 (quoted names, numbers, our path)
            f"AND {ROW_NUMBER} IN ({listed}) ORDER BY {ROW_NUMBER}",
            [int(rows[0]), int(rows[-1])],
        ).fetchall()

    def _containing(self, path: Path, rows: np.ndarray, query: str, strings: list[str]) -> np.ndarray:
        """Those of the candidate rows of one file whose text cells contain ``query`` (ILIKE)."""
        names = [name for name in strings if name in set(pq.read_schema(path).names)]
        pattern = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        found = " OR ".join(f"{predicates.quote_identifier(name)} ILIKE ? ESCAPE '\\'" for name in names)
        candidates = pa.table({"row": pa.array(rows, pa.int64())})
        self.connection.register("candidates", candidates)
        try:
            kept = self.connection.execute(
                f"SELECT {ROW_NUMBER} FROM read_parquet('{_sql_path(path)}', file_row_number = true) "  # noqa: S608 (quoted names, our path)
                f"WHERE {ROW_NUMBER} BETWEEN ? AND ? AND {ROW_NUMBER} IN (SELECT row FROM candidates) AND ({found}) "
                f"ORDER BY 1",
                [int(rows[0]), int(rows[-1]), *([pattern] * len(names))],
            ).fetchall()
        finally:
            self.connection.unregister("candidates")
        return np.array([row[0] for row in kept], np.int64)

    def rows(self, *, offset: int, length: int) -> Page:
        return self._page("", [], "", offset, length)

    def search(self, *, query: str, offset: int, length: int) -> Page:
        return self.select(query=query, offset=offset, length=length)

    def filter(self, *, where: str, orderby: str, offset: int, length: int) -> Page:
        return self.select(where=where, orderby=orderby, offset=offset, length=length)

    def select(self, *, query: str = "", where: str = "", orderby: str = "", offset: int, length: int) -> Page:
        """Rows matching ``where`` whose text columns contain ``query`` (both when both are given),
        in ``orderby``'s order: the search and the filter of the API, and the page's viewer, which
        combines them."""
        try:
            condition, values = predicates.to_sql(predicates.parse_where(where, self.columns)) if where else ("", [])
            order = predicates.order_sql(predicates.parse_orderby(orderby, self.columns)) if orderby else ""
        except predicates.PredicateError as exc:
            field = "where" if where and not _parses(where, self.columns) else "orderby"
            raise ValidationError({field: [str(exc)]}) from exc
        if query:
            strings = [f["name"] for f in self.features if f["type"] == "VARCHAR"]
            if not strings:
                return Page(features=self.features, rows=[], offset=offset, total=0)
            if not where and not orderby:
                indexed = self._indexed_search(query, strings, offset, length)
                if indexed is not None:
                    return indexed
            pattern = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            found = " OR ".join(f"{predicates.quote_identifier(name)} ILIKE ? ESCAPE '\\'" for name in strings)
            condition = f"({condition}) AND ({found})" if condition else found
            values = [*values, *([pattern] * len(strings))]
        return self._page(condition, values, order, offset, length)


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def _parses(where: str, columns: list[str]) -> bool:
    try:
        predicates.parse_where(where, columns)
    except predicates.PredicateError:
        return False
    return True


def _count(connection: duckdb.DuckDBPyConnection, source: str, condition: str, values: list[Any]) -> int:
    found = connection.execute(f"SELECT count(*) FROM {source}{condition}", values).fetchone()  # noqa: S608 (built from checked columns and placeholders)
    return int(found[0]) if found else 0


def _finite(value: Any) -> Any:
    """A float cell as JSON: NaN and infinities as null."""
    return value if value is None or math.isfinite(value) else None


def _json(value: Any) -> Any:
    """A cell as JSON: dates as ISO 8601, decimals as numbers, bytes as base64, NaN and infinities
    as null (JSON has none)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, decimal.Decimal):
        return _json(float(value))
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, list | tuple):
        return [_json(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _json(item) for key, item in value.items()}
    if isinstance(value, uuid.UUID):
        return str(value)
    return value
