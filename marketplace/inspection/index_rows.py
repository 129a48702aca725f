"""Rows of index files (CSV, TSV, JSON Lines) that a consent withdrawal removes, decided line by
line; kept lines are written back byte for byte (line endings, quoting, encoding untouched).

A row goes when its record-id value is withdrawn, when its contributor-id value is a contributor
who withdrew all their records, or when one of its values names a dropped member: the member's
path, or any part of it after a "/" (which covers a path relative to the index file's folder, and
Common Voice's TSVs naming "clip1.mp3" for "clips/clip1.mp3").

Lines are only parsed to read values. TSV has no quoting (IANA text/tab-separated-values): a row is
one line, split on tabs. CSV is RFC 4180: a quoted field may hold line breaks, so physical lines
are joined until the quotes balance, and the record is kept or dropped whole.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from django.utils.translation import gettext_noop

from marketplace.inspection.texts import Params, english

INDEX_SUFFIXES = (".csv", ".tsv", ".jsonl")
BOM = b"\xef\xbb\xbf"
MAX_RECORD_BYTES = 16 * 1024 * 1024  # one CSV record, quoted line breaks included; also the longest first line


class Writable(Protocol):
    def write(self, data: bytes, /) -> int: ...


class Readable(Protocol):
    def read(self, n: int, /) -> bytes: ...


class UnreadableIndex(Exception):
    """A line that cannot be read, so whether it is withdrawn cannot be told. Its sentence is a
    template (gettext_noop) and params, as a finding's is (``inspection.texts``)."""

    def __init__(self, template: str, params: Params | None = None) -> None:
        self.template, self.params = template, dict(params or {})
        self.message = english(template, self.params)
        super().__init__(self.message)


def is_index(path: str) -> bool:
    return path.lower().endswith(INDEX_SUFFIXES)


def names_of(paths: Iterable[str]) -> frozenset[str]:
    """Every value that names one of ``paths``: each path and each part of it after a "/"."""
    names: set[str] = set()
    for path in paths:
        parts = path.split("/")
        names.update("/".join(parts[i:]) for i in range(len(parts)))
    return frozenset(names)


@dataclass(frozen=True)
class RowRule:
    """What makes a row go: its value in ``column`` is one of ``records`` (when ``column`` is set),
    its value in ``contributor_column`` is one of ``contributors`` (a contributor who withdrew all
    their records), or any of its values is one of ``names``."""

    column: str
    records: frozenset[str]
    names: frozenset[str]
    contributor_column: str = ""
    contributors: frozenset[str] = frozenset()

    def can_drop(self) -> bool:
        return (
            bool(self.names)
            or bool(self.column and self.records)
            or bool(self.contributor_column and self.contributors)
        )


class Rows:
    """One index file's filter, made from its header; ``keep(line)`` for each later logical line."""

    def __init__(self, rule: RowRule, id_index: int | None, contributor_index: int | None = None) -> None:
        self.rule, self.id_index, self.contributor_index = rule, id_index, contributor_index
        self._records_bytes = frozenset(record.encode() for record in rule.records)
        self._contributors_bytes = frozenset(contributor.encode() for contributor in rule.contributors)
        self._names_bytes = frozenset(name.encode() for name in rule.names)

    def keep_tsv(self, line: bytes) -> bool:
        values = [value.strip(b'"') for value in line.rstrip(b"\r\n").split(b"\t")]
        if self.id_index is not None and self.id_index < len(values):
            if values[self.id_index] in self._records_bytes:
                return False
        if self.contributor_index is not None and self.contributor_index < len(values):
            if values[self.contributor_index] in self._contributors_bytes:
                return False
        return self._names_bytes.isdisjoint(values)

    def keep_csv(self, line: bytes) -> bool:
        try:
            row = next(csv.reader([line.decode("utf-8", "surrogateescape").rstrip("\r\n")]), [])
        except csv.Error as exc:
            raise UnreadableIndex("%(reason)s", {"reason": str(exc)}) from None  # the parser's words only
        if self.id_index is not None and self.id_index < len(row) and row[self.id_index] in self.rule.records:
            return False
        at = self.contributor_index
        if at is not None and at < len(row) and row[at] in self.rule.contributors:
            return False
        return self.rule.names.isdisjoint(row)

    def keep_jsonl(self, line: bytes) -> bool:
        try:
            record = json.loads(line)
        except ValueError as exc:
            raise UnreadableIndex(gettext_noop("not JSON (%(reason)s)"), {"reason": str(exc)}) from None
        if not isinstance(record, dict):
            raise UnreadableIndex(gettext_noop("not a JSON object"))
        if self.rule.column and _text(record.get(self.rule.column)) in self.rule.records:
            return False
        if self.rule.contributor_column and _text(record.get(self.rule.contributor_column)) in self.rule.contributors:
            return False
        return self.rule.names.isdisjoint(text for value in record.values() if (text := _text(value)) is not None)


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def rows_filter(path: str, first_line: bytes, rule: RowRule) -> Rows | None:
    """The filter for an index file with this first line, or None when none of its rows can go
    (copy it as it is): a record-id column is named and its header lacks it, or nothing is
    withdrawn that a row could hold."""
    if not rule.can_drop():
        return None
    kind = path.lower().rsplit(".", 1)[-1]
    header = first_line.removeprefix(BOM).rstrip(b"\r\n")
    if kind == "jsonl":
        try:
            record = json.loads(header)
        except ValueError:
            raise UnreadableIndex(gettext_noop("its first line is not JSON")) from None
        keys = list(record.keys()) if isinstance(record, dict) else []
        if not _filters(rule, keys):
            return None
        return Rows(rule, None)
    text = header.decode("utf-8", "surrogateescape")
    columns = text.split("\t") if kind == "tsv" else next(csv.reader([text]), [])
    columns = [column.strip().strip('"') if kind == "tsv" else column.strip() for column in columns]
    if not _filters(rule, columns):
        return None
    return Rows(
        rule,
        columns.index(rule.column) if rule.column in columns else None,
        columns.index(rule.contributor_column) if rule.contributor_column in columns else None,
    )


def _filters(rule: RowRule, columns: list[str]) -> bool:
    """Whether a file with these columns can lose rows: it holds the contributor column of
    withdrawn contributors, or (as before contributors could withdraw themselves) the record-id
    column when one is named, or any column when none is."""
    if rule.contributor_column and rule.contributors and rule.contributor_column in columns:
        return True
    return not rule.column or rule.column in columns


def filter_lines(path: str, rows: Rows, first_line: bytes, rest: Readable, out: Writable) -> int:
    """Write ``first_line`` (the header; for JSON Lines, the first record, kept or dropped like the
    rest) and the kept rows of ``rest`` to ``out``; the number of rows dropped. ``rest`` is read in
    pieces; one line at a time is held."""
    kind = path.lower().rsplit(".", 1)[-1]
    keep = {"tsv": rows.keep_tsv, "csv": rows.keep_csv, "jsonl": rows.keep_jsonl}[kind]
    dropped, number, pending, quotes = 0, 1, b"", 0

    def row(line: bytes) -> None:
        nonlocal dropped
        if not line.strip():
            out.write(line)
            return
        try:
            kept = keep(line)
        except UnreadableIndex as exc:
            raise UnreadableIndex(
                gettext_noop("line %(line)s of '%(path)s' cannot be read: %(reason)s"),
                {"line": number, "path": path, "reason": exc.message},
            ) from None
        if kept:
            out.write(line)
        else:
            dropped += 1

    if kind == "jsonl":  # JSON Lines has no header: its first line is a record like the others
        row(first_line)
    else:
        out.write(first_line)
    for line in _lines(rest):
        number += 1
        if kind != "csv":
            row(line)
            continue
        pending += line  # join physical lines until the record's quotes balance (RFC 4180)
        quotes += line.count(b'"')
        if len(pending) > MAX_RECORD_BYTES:
            raise UnreadableIndex(
                gettext_noop("line %(line)s of '%(path)s' ends a record over %(limit)s bytes: a quote is left open"),
                {"line": number, "path": path, "limit": MAX_RECORD_BYTES},
            )
        if quotes % 2 == 0:
            row(pending)
            pending, quotes = b"", 0
    if pending:
        row(pending)
    return dropped


def _lines(source: Readable, piece: int = 1024 * 1024) -> Iterable[bytes]:
    """Physical lines with their endings (the last may have none)."""
    tail = b""
    while data := source.read(piece):
        lines = (tail + data).split(b"\n")
        tail = lines.pop()
        for line in lines:
            yield line + b"\n"
    if tail:
        yield tail
