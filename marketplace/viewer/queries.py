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
import math
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext

from marketplace import storage
from marketplace.viewer import predicates, tables

MAX_LENGTH = 100


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
    sha256 = str(table["sha256"])
    target = _cache_dir() / f"{sha256}.parquet"
    if target.exists():
        os.utime(target)  # recently used
        return target
    incoming = target.with_name(f".incoming-{uuid.uuid4().hex}")
    try:
        storage.download_to(str(table["key"]), str(incoming))
        digest = hashlib.sha256()
        with incoming.open("rb") as stream:
            while piece := stream.read(1024 * 1024):
                digest.update(piece)
        if digest.hexdigest() != sha256:
            raise storage.StorageError(f"{table['key']} does not hold the exported bytes (SHA-256 differs).")
        os.replace(incoming, target)
    finally:
        incoming.unlink(missing_ok=True)
    _evict(keep=target)
    return target


def _evict(*, keep: Path) -> None:
    limit = settings.VIEWER_CACHE_MIB * 1024 * 1024
    files = []
    for path in _cache_dir().glob("*.parquet"):
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


@dataclass(frozen=True)
class _Shape:
    features: list[dict[str, Any]]
    columns: list[str]


_shapes: dict[tuple[str, ...], _Shape] = {}


def _shape(paths: tuple[str, ...], connection: duckdb.DuckDBPyConnection, source: str) -> _Shape:
    """The split's columns, kept per process: a cached file is named by its SHA-256, so what it
    holds never changes."""
    shape = _shapes.get(paths)
    if shape is None:
        described = connection.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()  # noqa: S608 (our paths)
        shape = _Shape(
            features=[{"feature_idx": i, "name": row[0], "type": row[1]} for i, row in enumerate(described)],
            columns=[row[0] for row in described],
        )
        if len(_shapes) >= SHAPES_KEPT:
            _shapes.pop(next(iter(_shapes)))
        _shapes[paths] = shape
    return shape


def _listed(paths: tuple[str, ...]) -> str:
    return ", ".join("'" + path.replace("'", "''") + "'" for path in paths)


class SplitReader:
    """One split: the union (by column name) of its tables' local Parquet copies. A page in file
    order stops reading at its last row; a page in another order is one top-N query that counts
    the matches on the way (a window), since it reads every match anyway."""

    def __init__(self, files: list[Path]) -> None:
        self.connection = tables.reads()
        paths = tuple(str(path) for path in files)
        self.source = f"read_parquet([{_listed(paths)}], union_by_name = true)"
        shape = _shape(paths, self.connection, self.source)
        self.features, self.columns = shape.features, shape.columns

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> SplitReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _page(self, where: str, values: list[Any], order: str, offset: int, length: int) -> Page:
        condition = f" WHERE {where}" if where else ""
        ordering = f" ORDER BY {order}" if order else ""
        try:
            if order:
                # One scan: the top-N reads every row that matches anyway, so it counts them too.
                rows = self.connection.execute(
                    f"SELECT *, count(*) OVER () FROM {self.source}{condition}{ordering} LIMIT ? OFFSET ?",  # noqa: S608
                    [*values, length, offset],
                ).fetchall()
                total = int(rows[0][-1]) if rows else 0
                if not rows and offset:
                    total = self._count(condition, values)
                return self._answer([row[:-1] for row in rows], offset, total)
            total = self._count(condition, values)
            rows = self.connection.execute(
                f"SELECT * FROM {self.source}{condition} LIMIT ? OFFSET ?",  # noqa: S608
                [*values, length, offset],
            ).fetchall()
        except (duckdb.ConversionException, duckdb.BinderException, duckdb.InvalidInputException) as exc:
            first = str(exc).strip().splitlines()[0]
            raise ValidationError(
                gettext("A value does not fit its column's type: %(first)s") % {"first": first}
            ) from exc
        return self._answer(rows, offset, total)

    def _count(self, condition: str, values: list[Any]) -> int:
        found = self.connection.execute(f"SELECT count(*) FROM {self.source}{condition}", values).fetchone()  # noqa: S608 (built from checked columns and placeholders)
        return int(found[0]) if found else 0

    def _answer(self, rows: list[tuple[Any, ...]], offset: int, total: int) -> Page:
        return Page(
            features=self.features,
            rows=[
                {
                    "row_idx": offset + i,
                    "row": {name: _json(value) for name, value in zip(self.columns, row, strict=True)},
                    "truncated_cells": [],
                }
                for i, row in enumerate(rows)
            ],  # fmt: skip
            offset=offset,
            total=total,
        )

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
            pattern = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            found = " OR ".join(f"{predicates.quote_identifier(name)} ILIKE ? ESCAPE '\\'" for name in strings)
            condition = f"({condition}) AND ({found})" if condition else found
            values = [*values, *([pattern] * len(strings))]
        return self._page(condition, values, order, offset, length)


def _parses(where: str, columns: list[str]) -> bool:
    try:
        predicates.parse_where(where, columns)
    except predicates.PredicateError:
        return False
    return True


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
