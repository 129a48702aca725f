"""What is inside an archive's files: type detection and content checks, read as streams.

Each member is checked while it streams past (see ``marketplace.archives``): CSV/TSV parse with a
header and one column count, JSON Lines parse line by line, Parquet's schema is read from its
footer (with pyarrow), audio files have a valid WAV, MP3, OGG or FLAC header. Tables are counted
as they are read (data rows of CSV/TSV, records of JSON Lines, Parquet's ``num_rows`` from the
footer), so the report can say how many rows each holds without a second pass. Once every member
is known, index files must name only paths that exist, an MDC ``schema.yaml`` must agree with the
contents, and the datasheet's declared format and task must match what the archive holds.
Every problem names the file (and the line, where there is one) and says what to fix.
"""

from __future__ import annotations

import csv
import json
import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from posixpath import basename, dirname, join, normpath, splitext
from typing import Any

import msgspec
import yaml
from django.utils.translation import gettext_noop

from marketplace.inspection.archives import CHUNK, Findings, Inspected, MemberReader
from marketplace.inspection.texts import Params

MAX_LINE_BYTES = 16 * 1024 * 1024
MAX_SMALL_FILE_BYTES = 16 * 1024 * 1024  # JSON documents and schema.yaml are parsed whole up to this
MAX_PROBLEMS_PER_FILE = 5
SNIFF_BYTES = 4096  # enough for every magic number; audio checks read further when they must
AUDIO_HEAD_BYTES = 64 * 1024
PARQUET_TAIL_BYTES = 8 * 1024 * 1024  # footers larger than this are reported as unchecked
INDEX_SAMPLE_ROWS = 100
# Column names that usually hold the path of a clip or file, as in Common Voice's TSVs.
PATH_COLUMNS = {"path", "audio_path", "audio", "file", "file_path", "filepath", "filename", "file_name",
                "audio_file", "audio_filepath", "wav", "wav_path", "image", "image_path"}  # fmt: skip
HAS_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,5}$")
# Reads one JSON value as msgspec.Raw: its grammar checked (RFC 8259, strictly: no NaN, no lone
# surrogates), no Python object built. It does not check UTF-8: see _utf8.
_JSON_GRAMMAR = msgspec.json.Decoder(msgspec.Raw)

EXTENSION_TYPES = {
    ".csv": "text/csv",
    ".tsv": "text/tab-separated-values",
    ".jsonl": "application/jsonl",
    ".ndjson": "application/jsonl",
    ".json": "application/json",
    ".parquet": "application/vnd.apache.parquet",
    ".wav": "audio/wav",
    ".mp3": "audio/mpeg",
    ".ogg": "audio/ogg",
    ".oga": "audio/ogg",
    ".opus": "audio/ogg",
    ".flac": "audio/flac",
    ".yaml": "application/yaml",
    ".yml": "application/yaml",
    ".txt": "text/plain",
    ".md": "text/markdown",
}
AUDIO_TYPES = {"audio/wav", "audio/mpeg", "audio/ogg", "audio/flac"}
# Words a datasheet's free-text format may use -> the types that must then be present.
DECLARED_FORMATS = {
    "csv": ("text/csv", "CSV", ".csv"),
    "tsv": ("text/tab-separated-values", "TSV", ".tsv"),
    "jsonl": ("application/jsonl", "JSON Lines", ".jsonl"),
    "ndjson": ("application/jsonl", "JSON Lines", ".jsonl"),
    "parquet": ("application/vnd.apache.parquet", "Parquet", ".parquet"),
    "wav": ("audio/wav", "WAV", ".wav"),
    "mp3": ("audio/mpeg", "MP3", ".mp3"),
    "ogg": ("audio/ogg", "OGG", ".ogg"),
    "opus": ("audio/ogg", "Opus", ".opus"),
    "flac": ("audio/flac", "FLAC", ".flac"),
}
AUDIO_TASKS = {"ASR", "TTS"}
SCHEMA_STRATEGIES = {"index", "multi_split", "multi_sections", "paired_glob", "glob"}


def sniff(head: bytes, path: str) -> str:
    """A media type from the first bytes, falling back on the extension for text formats."""
    if head[:4] in (b"RIFF", b"RF64") and head[8:12] == b"WAVE":
        return "audio/wav"
    if head[:4] == b"fLaC":
        return "audio/flac"
    if head[:4] == b"OggS":
        return "audio/ogg"
    if head[:3] == b"ID3" or (path.lower().endswith(".mp3") and _mpeg_frame(head, 0) is not None):
        return "audio/mpeg"
    if head[:4] == b"PAR1":
        return "application/vnd.apache.parquet"
    for magic, kind in ((b"\x89PNG", "image/png"), (b"\xff\xd8\xff", "image/jpeg"), (b"%PDF", "application/pdf"),
                        (b"\x1f\x8b", "application/gzip"), (b"PK\x03\x04", "application/zip")):  # fmt: skip
        if head.startswith(magic):
            return kind
    by_extension = EXTENSION_TYPES.get(splitext(path.lower())[1])
    if by_extension and not by_extension.startswith(("audio/", "application/vnd.apache")):
        return by_extension
    if b"\x00" in head:
        return "application/octet-stream"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # a multi-byte character cut by the peek is still text
            return "application/octet-stream"
    return "text/plain"


def _mpeg_frame(data: bytes, at: int) -> tuple[int, int] | None:
    """(version bits, sample rate index) of a valid MPEG audio frame header at ``at``, else None."""
    if len(data) < at + 4 or data[at] != 0xFF or data[at + 1] & 0xE0 != 0xE0:
        return None
    version, layer = (data[at + 1] >> 3) & 0x3, (data[at + 1] >> 1) & 0x3
    bitrate, rate = data[at + 2] >> 4, (data[at + 2] >> 2) & 0x3
    if version == 1 or layer == 0 or bitrate == 0xF or rate == 0x3:
        return None
    return version, rate


@dataclass
class TableInfo:
    """What the end-of-archive checks need from a CSV/TSV: its header and the paths it names."""

    header: list[str]
    path_column: str | None = None
    unresolved: list[tuple[int, str]] = field(default_factory=list)
    references: int = 0
    overflow: bool = False


class ContentInspector:
    """Checks each member as it streams, then the archive as a whole (``finish``)."""

    def __init__(self, *, findings: Findings, declared_format: str, declared_task: str, max_references: int) -> None:
        self.findings = findings
        self.declared_format, self.declared_task = declared_format or "", declared_task or ""
        self.max_references = max_references
        self.tables: dict[str, TableInfo] = {}
        self.schemas: dict[str, Any] = {}
        self.pending_references = 0

    # -- per member ---------------------------------------------------------------------------

    def inspect(self, reader: MemberReader, declared_size: int) -> Inspected:
        path = reader.path
        head = reader.peek(SNIFF_BYTES)
        detected = sniff(head, path)
        extension = splitext(path.lower())[1]
        expected = EXTENSION_TYPES.get(extension)
        if expected in AUDIO_TYPES or expected == "application/vnd.apache.parquet":
            if detected != expected:
                self.findings.error(
                    path, "type_mismatch",
                    gettext_noop("'%(path)s' is named %(extension)s but its bytes are not %(kind)s (they look like "
                                 "%(detected)s)."),
                    {"path": path, "extension": extension, "kind": expected.split("/")[-1].upper(),
                     "detected": detected},
                )  # fmt: skip
                return Inspected(detected)
        rows: int | None = None
        if detected in AUDIO_TYPES:
            self._check_audio(reader, detected, head, declared_size)
        elif detected == "application/vnd.apache.parquet":
            rows = self._check_parquet(reader)
        elif extension in (".csv", ".tsv"):
            rows = self._check_table(reader, delimiter="," if extension == ".csv" else "\t")
        elif extension in (".jsonl", ".ndjson"):
            rows = self._check_json_lines(reader)
        elif extension == ".json":
            self._check_json(reader, declared_size)
        elif basename(path) in ("schema.yaml", "schema.yml"):
            self._read_schema(reader, declared_size)
        return Inspected(detected, rows)

    def _line_blocks(self, reader: MemberReader) -> Iterator[tuple[int, int, bytes]]:
        """Whole lines a chunk at a time: (number of the first, how many, the lines joined by their
        newlines, without the last one), in bounded memory; an over-long line is an error."""
        carry: list[bytes] = []
        carried = 0
        number = 0
        while chunk := reader.read(CHUNK):
            end = chunk.rfind(b"\n")
            if end >= 0:
                block = chunk[:end]
                if carry:
                    carry.append(block)
                    block, carry, carried = b"".join(carry), [], 0
                count = block.count(b"\n") + 1
                yield number + 1, count, block
                number += count
                chunk = chunk[end + 1 :]
            if chunk:
                carry.append(chunk)
                carried += len(chunk)
                if carried > MAX_LINE_BYTES:
                    raise _LineTooLong(number + 1)
        if carry:
            yield number + 1, 1, b"".join(carry)

    def _line_batches(self, reader: MemberReader) -> Iterator[tuple[int, list[bytes]]]:
        """The lines of each chunk read, without their newlines: (number of the first, lines)."""
        for first, _, block in self._line_blocks(reader):
            yield first, block.split(b"\n")

    def _lines(self, reader: MemberReader) -> Iterator[tuple[int, bytes]]:
        """(line number, line without its newline), in bounded memory: an over-long line is an error."""
        for first, lines in self._line_batches(reader):
            yield from enumerate(lines, first)

    def _decoded(self, reader: MemberReader, problems: _Problems) -> Iterator[str]:
        for number, raw in self._lines(reader):
            if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                problems.add(number, f"is not valid UTF-8 (byte {exc.start + 1}); save the file as UTF-8")
                text = raw.decode("utf-8", errors="replace")
            yield text.rstrip("\r") + "\n"

    def _check_table(self, reader: MemberReader, *, delimiter: str) -> int | None:
        """The number of data rows (the header and blank lines left out), or None when the table
        could not be read to its end."""
        path = reader.path
        problems = _Problems(self.findings, path, "table_rows")
        # TSVs (Common Voice) carry quotes inside sentences unescaped: read them as plain text.
        plain = delimiter == "\t"
        lines = self._decoded(reader, problems)
        rows = csv.reader(lines, delimiter=delimiter, quoting=csv.QUOTE_NONE if plain else csv.QUOTE_MINIMAL)
        try:
            header = next(rows, None)
            if not header or not any(cell.strip() for cell in header):
                self.findings.error(
                    path,
                    "table_header",
                    gettext_noop("'%(path)s' is empty or its first line is blank; it needs a header row."),
                    {"path": path},
                )
                return None
            names = [cell.strip() for cell in header]
            duplicates = sorted({name for name in names if names.count(name) > 1})
            if duplicates:
                self.findings.warning(
                    path,
                    "table_header",
                    gettext_noop("'%(path)s' repeats column name(s) %(names)s in its header."),
                    {"path": path, "names": ", ".join(duplicates)},
                )
            table = self.tables[path] = TableInfo(header=names)
            table.path_column = next((name for name in names if name.lower() in PATH_COLUMNS), None)
            column = names.index(table.path_column) if table.path_column else -1
            sample: list[tuple[int, str]] = []
            count = 0
            for row in rows:
                if not row:
                    continue  # blank lines (a trailing newline) are harmless
                count += 1
                if len(row) != len(names):
                    columns = f"{len(row)} column" + ("s" if len(row) != 1 else "")
                    problems.add(rows.line_num, f"has {columns}; the header has {len(names)}")
                    continue
                if column >= 0:
                    value = row[column].strip()
                    if len(sample) < INDEX_SAMPLE_ROWS:
                        sample.append((rows.line_num, value))
                        if len(sample) == INDEX_SAMPLE_ROWS:
                            column = self._take_references(table, sample, column)
                    else:
                        self._reference(table, rows.line_num, value)
            if 0 <= column and len(sample) < INDEX_SAMPLE_ROWS:
                self._take_references(table, sample, column)
        except _LineTooLong as exc:
            problems.add(exc.line, f"is longer than {MAX_LINE_BYTES} bytes; is the delimiter right?")
            return None
        except csv.Error as exc:
            problems.add(rows.line_num, f"cannot be parsed ({exc})")
            return None
        finally:
            problems.report(TABLE_RULE)
        return count

    def _take_references(self, table: TableInfo, sample: list[tuple[int, str]], column: int) -> int:
        """Decide from the first rows whether the path-like column holds file paths; if so, keep them."""
        values = [value for _, value in sample if value]
        if not values or sum(bool(HAS_EXTENSION.search(value)) for value in values) < 0.9 * len(values):
            table.path_column = None
            return -1
        for line, value in sample:
            self._reference(table, line, value)
        return column

    def _reference(self, table: TableInfo, line: int, value: str) -> None:
        if not value:
            return
        table.references += 1
        if self.pending_references >= self.max_references:
            table.overflow = True
            return
        table.unresolved.append((line, value))
        self.pending_references += 1

    def _check_json_lines(self, reader: MemberReader) -> int | None:
        """The number of records (non-blank lines), or None when a line was too long to read on.

        Python's json module is the judge, as it has always been; but it parses a few MB a second.
        msgspec checks a chunk's lines against JSON's grammar from C in two calls a chunk without
        building any object (``_json_lines``), and the chunk's UTF-8 in one: what passes, json
        reads too. json also
        takes some lines they refuse (NaN, a lone surrogate, a byte order mark), so a chunk with
        a line they refuse, or a blank one, is gone through line by line and json has the last
        word, and says what is wrong."""
        problems = _Problems(self.findings, reader.path, "json_lines")
        records = lines = 0
        try:
            for first, count, block in self._line_blocks(reader):
                if _json_lines(block):
                    records += count
                    lines += count
                    continue
                for number, raw in enumerate(block.split(b"\n"), first):
                    if not raw.strip():
                        continue
                    lines += 1
                    try:
                        _JSON_GRAMMAR.decode(raw)
                        _utf8(raw)
                    except (ValueError, RecursionError):
                        try:
                            json.loads(raw)
                        except ValueError as exc:
                            problems.add(number, f"is not valid JSON ({exc})")
                            continue
                    records += 1
        except _LineTooLong as exc:
            problems.add(exc.line, f"is longer than {MAX_LINE_BYTES} bytes")
            problems.report(JSON_LINES_RULE)
            return None
        if not records and not problems.count:
            self.findings.warning(
                reader.path, "empty_file", gettext_noop("'%(path)s' holds no JSON records."), {"path": reader.path}
            )
        problems.report(JSON_LINES_RULE)
        return lines

    def _check_json(self, reader: MemberReader, declared_size: int) -> None:
        if declared_size > MAX_SMALL_FILE_BYTES:
            self.findings.warning(
                reader.path, "not_checked",
                gettext_noop("'%(path)s' is larger than %(limit)s bytes and was not parsed; large JSON is better "
                             "shipped as JSON Lines."),
                {"path": reader.path, "limit": MAX_SMALL_FILE_BYTES},
            )  # fmt: skip
            return
        data = _read_all(reader)
        try:
            json.loads(data)
        except ValueError as exc:
            self.findings.error(
                reader.path,
                "json",
                gettext_noop("'%(path)s' is not valid JSON: %(reason)s."),
                {"path": reader.path, "reason": str(exc)},
            )

    def _check_parquet(self, reader: MemberReader) -> int | None:
        """The schema and the row count are in the footer: keep a bounded tail while the file
        streams past. The number of rows, or None when the footer could not be read."""
        tail = b""
        while chunk := reader.read(CHUNK):
            tail = (tail + chunk)[-PARQUET_TAIL_BYTES:]
        path = reader.path
        if len(tail) < 12 or tail[-4:] != b"PAR1":
            self.findings.error(
                path,
                "parquet",
                gettext_noop("'%(path)s' does not end with Parquet's PAR1 marker: it is truncated or not Parquet."),
                {"path": path},
            )
            return None
        footer = struct.unpack("<I", tail[-8:-4])[0]
        if footer + 8 > len(tail):
            self.findings.warning(
                path,
                "not_checked",
                gettext_noop("'%(path)s' has a footer over %(limit)s bytes; its schema was not read."),
                {"path": path, "limit": PARQUET_TAIL_BYTES},
            )
            return None
        # Imported here: only archives with Parquet pay for pyarrow's memory.
        import pyarrow as pa  # type: ignore[import-untyped]
        import pyarrow.parquet as pq  # type: ignore[import-untyped]

        try:
            parquet = pq.ParquetFile(pa.BufferReader(b"PAR1" + tail[-(footer + 8) :]))
            schema, rows = parquet.schema_arrow, int(parquet.metadata.num_rows)
        except (pa.ArrowException, OSError, ValueError) as exc:
            self.findings.error(
                path,
                "parquet",
                gettext_noop("'%(path)s' has an unreadable Parquet schema: %(reason)s."),
                {"path": path, "reason": str(exc)},
            )
            return None
        if len(schema) == 0:
            self.findings.error(
                path, "parquet", gettext_noop("'%(path)s' has a Parquet schema with no columns."), {"path": path}
            )
        else:
            self.tables[path] = TableInfo(header=list(schema.names))
        return rows

    def _check_audio(self, reader: MemberReader, kind: str, head: bytes, size: int) -> None:
        problem = AUDIO_CHECKS[kind](head, size)
        if problem and len(head) < size:  # a long tag or chunk before the audio: look further
            head = reader.peek(AUDIO_HEAD_BYTES if kind != "audio/mpeg" else MAX_SMALL_FILE_BYTES)
            problem = AUDIO_CHECKS[kind](head, size)
        if problem:
            name = kind.split("/")[1].replace("mpeg", "MP3").upper()
            self.findings.error(
                reader.path,
                "audio_header",
                gettext_noop("'%(path)s' has a broken %(kind)s header: %(problem)s."),
                {"path": reader.path, "kind": name, "problem": problem},
            )

    def _read_schema(self, reader: MemberReader, declared_size: int) -> None:
        if declared_size > MAX_SMALL_FILE_BYTES:
            self.findings.error(
                reader.path,
                "schema_yaml",
                gettext_noop("'%(path)s' is too large to be a schema."),
                {"path": reader.path},
            )
            return
        try:
            loaded = yaml.safe_load(_read_all(reader))
        except yaml.YAMLError as exc:
            self.findings.error(
                reader.path,
                "schema_yaml",
                gettext_noop("'%(path)s' is not valid YAML: %(reason)s."),
                {"path": reader.path, "reason": str(exc)},
            )
            return
        if not isinstance(loaded, dict):
            self.findings.error(
                reader.path,
                "schema_yaml",
                gettext_noop("'%(path)s' must be a YAML mapping of keys."),
                {"path": reader.path},
            )
            return
        self.schemas[reader.path] = loaded

    # -- whole archive ------------------------------------------------------------------------

    def finish(self, files: list[dict[str, Any]]) -> None:
        if not files:
            self.findings.error("", "empty_archive", gettext_noop("The archive holds no files."))
            return
        paths = {row["path"] for row in files}
        types = {row["type"] for row in files}
        schema_path, schema = self._root_schema()
        base_paths: list[str] = []
        if schema is not None:
            base = schema.get("base_audio_path")
            base_paths = [item for item in (base if isinstance(base, list) else [base]) if isinstance(item, str)]
            self._check_schema(schema_path, schema, paths)
        self._check_index_paths(paths, base_paths)
        self._check_declared(types)

    def _root_schema(self) -> tuple[str, dict[str, Any] | None]:
        if not self.schemas:
            return "", None
        path = min(self.schemas, key=lambda name: (name.count("/"), name))
        if len(self.schemas) > 1:
            self.findings.warning(
                path,
                "schema_yaml",
                gettext_noop("Several schema.yaml files; only the shallowest, '%(path)s', was checked."),
                {"path": path},
            )
        return path, self.schemas[path]

    def _check_index_paths(self, paths: set[str], base_paths: list[str]) -> None:
        for table_path, table in self.tables.items():
            if table.path_column is None or not table.references:
                continue
            folder = dirname(table_path)
            missing = [(line, value) for line, value in table.unresolved
                       if not _resolves(value, folder, base_paths, paths)]  # fmt: skip
            if missing:
                examples = "; ".join(f"line {line}: {value}" for line, value in missing[:MAX_PROBLEMS_PER_FILE])
                self.findings.error(
                    table_path, "index_missing_files",
                    gettext_noop("%(missing)s of %(total)s paths in column '%(column)s' of '%(path)s' are not in "
                                 "the archive (%(examples)s). Add the files or fix the paths, relative to the index's "
                                 "folder or its clips/ folder."),
                    {"missing": len(missing), "total": table.references, "column": table.path_column,
                     "path": table_path, "examples": examples},
                )  # fmt: skip
            if table.overflow:
                self.findings.warning(
                    table_path,
                    "not_checked",
                    gettext_noop(
                        "'%(path)s' names more paths than the archive has entries; only the first ones were checked."
                    ),
                    {"path": table_path},
                )

    def _check_declared(self, types: set[str]) -> None:
        words = set(re.findall(r"[a-z0-9]+", self.declared_format.lower()))
        for word in sorted(words & set(DECLARED_FORMATS)):
            kind, name, extension = DECLARED_FORMATS[word]
            if kind not in types:
                self.findings.error(
                    "", "declared_format",
                    gettext_noop("The datasheet's format says %(format)s, but the archive holds no %(format)s file "
                                 "(%(extension)s). Add them, or correct the format."),
                    {"format": name, "extension": extension},
                )  # fmt: skip
        if self.declared_task in AUDIO_TASKS:
            if not types & AUDIO_TYPES:
                self.findings.error(
                    "", "declared_task",
                    gettext_noop("An %(task)s dataset needs audio files (WAV, MP3, OGG or FLAC); the archive "
                                 "has none."),
                    {"task": self.declared_task},
                )  # fmt: skip
            elif not any(table.path_column for table in self.tables.values()):
                self.findings.warning(
                    "", "declared_task",
                    gettext_noop("No CSV/TSV index names the audio files (a column such as 'path'); %(task)s datasets "
                                 "pair each clip with its transcription in one."),
                    {"task": self.declared_task},
                )  # fmt: skip

    def _check_schema(self, where: str, schema: dict[str, Any], paths: set[str]) -> None:
        """The declarations of an MDC ``schema.yaml`` (SDK contract, section 5) against the contents."""

        def error(template: str, params: Params | None = None) -> None:
            """``template`` starts with ``%(where)s: ``, the schema's path."""
            self.findings.error(where, "schema_yaml", template, {"where": where, **(params or {})})

        if not schema.get("dataset_id"):
            self.findings.warning(
                where,
                "schema_yaml",
                gettext_noop("%(where)s: dataset_id is missing; the SDK requires it."),
                {"where": where},
            )
        strategy = schema.get("root_strategy")
        if strategy is None:
            self.findings.warning(
                where,
                "schema_yaml",
                gettext_noop("%(where)s: root_strategy is missing; load_dataset needs it."),
                {"where": where},
            )
            return
        if strategy not in SCHEMA_STRATEGIES:
            error(
                gettext_noop("%(where)s: root_strategy %(strategy)s is not one of %(choices)s."),
                {"strategy": repr(strategy), "choices": ", ".join(sorted(SCHEMA_STRATEGIES))},
            )
            return
        indexes: list[str] = []
        if strategy == "index":
            found = _find_index(schema.get("index_file"), paths, error)
            indexes = [found] if found else []
        elif strategy == "multi_split":
            splits, pattern = schema.get("splits"), schema.get("splits_file_pattern") or "**/*.tsv"
            if not isinstance(splits, list) or not splits:
                error(gettext_noop("%(where)s: multi_split needs 'splits', a list of split names."))
            else:
                matcher = glob_regex(str(pattern))
                for split in splits:
                    matches = sorted((p for p in paths if matcher.match(p) and splitext(basename(p))[0] == str(split)),
                                     key=lambda p: p.count("/"))  # fmt: skip
                    if not matches:
                        error(
                            gettext_noop(
                                "%(where)s: split '%(split)s' has no file matching '%(pattern)s' named %(split)s.*"
                            ),
                            {"split": str(split), "pattern": str(pattern)},
                        )
                    else:
                        indexes.append(matches[0])
        elif strategy == "multi_sections":
            sections, root, index = schema.get("sections"), schema.get("section_root"), schema.get("index_file")
            if not isinstance(sections, list) or not sections or not root or not index:
                error(
                    gettext_noop(
                        "%(where)s: multi_sections needs 'sections' (a list), 'section_root' and 'index_file'."
                    )
                )
            else:
                for section in sections:
                    candidate = normpath(join(str(root), str(section), str(index)))
                    if candidate in paths:
                        indexes.append(candidate)
                    else:
                        error(
                            gettext_noop("%(where)s: section '%(section)s' has no index file at '%(candidate)s'."),
                            {"section": str(section), "candidate": candidate},
                        )
        else:  # glob, paired_glob
            pattern = schema.get("file_pattern")
            if not pattern:
                error(gettext_noop("%(where)s: %(strategy)s needs 'file_pattern'."), {"strategy": str(strategy)})
                return
            matched = [p for p in paths if glob_regex(str(pattern)).match(p)]
            if not matched:
                error(
                    gettext_noop("%(where)s: file_pattern '%(pattern)s' matches no file in the archive."),
                    {"pattern": str(pattern)},
                )
            extension = schema.get("audio_extension")
            if strategy == "paired_glob" and extension and schema.get("format") != "json":
                suffix = "." + str(extension).lstrip(".")
                unpaired = [p for p in matched if splitext(p)[0] + suffix not in paths]
                if unpaired:
                    error(
                        gettext_noop(
                            "%(where)s: %(count)s file(s) have no %(suffix)s audio beside them, e.g. '%(example)s'."
                        ),
                        {"count": len(unpaired), "suffix": suffix, "example": unpaired[0]},
                    )
        self._check_schema_columns(where, schema, indexes)

    def _check_schema_columns(self, where: str, schema: dict[str, Any], indexes: list[str]) -> None:
        columns = schema.get("columns")
        if not isinstance(columns, dict):
            return
        for index in indexes:
            table = self.tables.get(index)
            if table is None:
                continue
            for name, spec in columns.items():
                spec = spec if isinstance(spec, dict) else {}
                source = spec.get("source_column", name)
                if source not in table.header and not spec.get("optional"):
                    self.findings.error(
                        index, "schema_yaml",
                        gettext_noop("%(where)s maps column '%(column)s' from '%(source)s', but '%(index)s' has "
                                     "no such column (it has %(columns)s)."),
                        {"where": where, "column": str(name), "source": str(source), "index": index,
                         "columns": ", ".join(table.header)},
                    )  # fmt: skip
                if spec.get("dtype") == "file_path" and source != table.path_column and source in table.header:
                    self.findings.warning(
                        index, "not_checked",
                        gettext_noop("The paths in column '%(source)s' of '%(index)s' were not checked against the "
                                     "archive (only columns named like 'path' are)."),
                        {"source": str(source), "index": index},
                    )  # fmt: skip
        task = str(schema.get("task") or "")
        expected = {"ASR": {"audio_path", "transcription"}, "TTS": {"audio_path", "transcription"}, "LLM": {"text"}}
        if task in expected and not expected[task] <= set(columns):
            self.findings.warning(
                where,
                "schema_yaml",
                gettext_noop("%(where)s: a %(task)s schema usually maps the columns %(columns)s."),
                {"where": where, "task": task, "columns": ", ".join(sorted(expected[task]))},
            )
        if task and self.declared_task and task != self.declared_task:
            self.findings.warning(
                where,
                "schema_yaml",
                gettext_noop("%(where)s: task %(task)s differs from the datasheet's task %(declared)s."),
                {"where": where, "task": task, "declared": self.declared_task},
            )


class _LineTooLong(Exception):
    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


class _Problems:
    """Line-numbered problems of one file: the first few in full, then how many more."""

    def __init__(self, findings: Findings, path: str, code: str) -> None:
        self.findings, self.path, self.code = findings, path, code
        self.count = 0
        self.lines: list[str] = []

    def add(self, line: int, problem: str) -> None:
        self.count += 1
        if len(self.lines) < MAX_PROBLEMS_PER_FILE:
            self.lines.append(f"line {line} {problem}")

    def report(self, rule: tuple[str, str]) -> None:
        """``rule``: the sentence templates without and with more lines than are listed. The listed
        lines are glued from parts (line numbers, parser errors) and go in as one param."""
        if not self.count:
            return
        params: Params = {"path": self.path, "lines": "; ".join(self.lines), "more": self.count - len(self.lines)}
        self.findings.error(self.path, self.code, rule[1] if self.count > len(self.lines) else rule[0], params)


TABLE_RULE = (
    gettext_noop("'%(path)s': %(lines)s. The rows must have as many columns as the header, in UTF-8."),
    gettext_noop(
        "'%(path)s': %(lines)s; and %(more)s more line(s). The rows must have as many columns as the header, in UTF-8."
    ),
)
JSON_LINES_RULE = (
    gettext_noop("'%(path)s': %(lines)s. Each line must be one JSON value (JSON Lines)."),
    gettext_noop("'%(path)s': %(lines)s; and %(more)s more line(s). Each line must be one JSON value (JSON Lines)."),
)


def _utf8(data: bytes) -> None:
    """Raise UnicodeDecodeError (a ValueError) unless ``data`` is UTF-8."""
    if not data.isascii():
        data.decode("utf-8")


def _json_lines(block: bytes) -> bool:
    """Whether each line of ``block`` (lines joined by newlines) is surely one JSON value that json
    reads: msgspec reads it and the block is UTF-8; when False, the lines are judged one by one.
    Two calls read the whole block, without a Python call or object per line (which cost more
    than the parsing): the lines as the elements of an array, ``[L1,L2,...]``, and as the values
    of an object's members, ``{"":L1,"":L2,...}``. msgspec reads both only if each line is one
    value (JSON's strings hold no raw newline, so every newline lies between tokens):

    - in the object, a line that ends inside a string would put the separator's ``"`` after a
      string, so no line does: each line is read alike in both, token for token;
    - a separator inside a bracket a line opened is wrong in one of them: inside ``[`` the
      object's ``"":`` is; inside ``{`` the array's ``,`` needs the next line to start with a key
      and ``:``, which the object's ``"":`` then reads as a value followed by ``:``; so every
      separator is at the top, and each line is whole;
    - at the top, a line of several values, ``V,W``, is elements in the array, but in the object
      ``W`` must be a key and ``:``, which the array refuses; a blank line makes ``,,``.
    """
    try:
        _JSON_GRAMMAR.decode(b"".join((b"[", block.replace(b"\n", b","), b"]")))
        _JSON_GRAMMAR.decode(b"".join((b'{"":', block.replace(b"\n", b',"":'), b"}")))
        _utf8(block)
    except (ValueError, RecursionError):
        return False
    return True


def _read_all(reader: MemberReader) -> bytes:
    pieces = []
    while chunk := reader.read(CHUNK):
        pieces.append(chunk)
    return b"".join(pieces)


def _resolves(value: str, folder: str, bases: list[str], paths: set[str]) -> bool:
    return resolve_index_path(value, folder=folder, bases=bases, paths=paths) is not None


def resolve_index_path(value: str, *, folder: str, bases: list[str], paths: set[str] | dict[str, Any]) -> str | None:
    """The archive member an index's ``value`` names, as validation looks for it: relative to the
    schema's base paths, the archive's root or its clips/ folder, from the index's folder or the
    root. None for an absolute path, one that climbs with '..', or one the archive does not hold."""
    if value.startswith("/") or ".." in value.split("/"):
        return None
    for base in [*bases, "", "clips"]:
        for root in (folder, ""):
            candidate = normpath(join(root, base, value))
            if candidate in paths:
                return candidate
    return None


def _find_index(index_file: Any, paths: set[str], error: Any) -> str | None:
    """The SDK's lookup: the literal path first, then the shallowest match by name anywhere."""
    if not index_file or not isinstance(index_file, str):
        error(gettext_noop("%(where)s: the index strategy needs 'index_file'."))
        return None
    literal = normpath(index_file)
    if literal in paths:
        return literal
    matches = [p for p in paths if p.endswith("/" + literal) or p == literal]
    if not matches:
        error(gettext_noop("%(where)s: index_file '%(index)s' is not in the archive."), {"index": index_file})
        return None
    depth = min(p.count("/") for p in matches)
    shallowest = [p for p in matches if p.count("/") == depth]
    if len(shallowest) > 1:
        error(
            gettext_noop("%(where)s: index_file '%(index)s' is ambiguous (%(matches)s); give its full path."),
            {"index": index_file, "matches": ", ".join(sorted(shallowest))},
        )
        return None
    return shallowest[0]


def glob_regex(pattern: str) -> re.Pattern[str]:
    """A glob with ``**`` (any folders, or none), ``*`` and ``?`` within one path component,
    matched from the archive's root; a pattern without '/' matches at any depth (like rglob)."""
    pattern = pattern.lstrip("./")
    if "/" not in pattern:
        pattern = "**/" + pattern
    out = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def _check_wav(head: bytes, size: int) -> str | None:
    if len(head) < 12:
        return "it is shorter than a RIFF header"
    position = 12
    while position + 8 <= len(head):
        chunk_id, length = head[position : position + 4], struct.unpack("<I", head[position + 4 : position + 8])[0]
        if chunk_id == b"fmt ":
            if length < 16 or position + 24 > len(head):
                return "its fmt chunk is too short"
            _, channels, rate, _, _, bits = struct.unpack("<HHIIHH", head[position + 8 : position + 24])
            if channels == 0 or rate == 0:
                return f"{channels} channels at {rate} Hz"
            if bits == 0:
                return "0 bits per sample"
            return None
        position += 8 + length + (length & 1)
    return "no fmt chunk in its first 64 KiB"


def _check_flac(head: bytes, size: int) -> str | None:
    if len(head) < 8 + 34 or head[4] & 0x7F != 0:
        return "its first metadata block is not STREAMINFO"
    info = head[8:42]
    rate = (info[10] << 12) | (info[11] << 4) | (info[12] >> 4)
    return "a sample rate of 0 Hz" if rate == 0 else None


def _check_ogg(head: bytes, size: int) -> str | None:
    if len(head) < 28 or head[4] != 0:
        return "its first page is not a version 0 Ogg page"
    segments = head[26]
    packet = head[27 + segments : 27 + segments + 16]
    if packet.startswith((b"\x01vorbis", b"OpusHead", b"\x7fFLAC", b"Speex   ")):
        return None
    return "its first packet is not Vorbis, Opus, FLAC or Speex"


def _check_mp3(head: bytes, size: int) -> str | None:
    position = 0
    if head[:3] == b"ID3":
        if len(head) < 10:
            return "its ID3 tag is cut short"
        tag = (head[6] << 21) | (head[7] << 14) | (head[8] << 7) | head[9]
        position = 10 + tag
        if position > size:
            return "its ID3 tag is longer than the file"
        if position >= len(head):
            # Not read far enough yet (the caller looks further); past 16 MiB of tag, accept it.
            return "its ID3 tag runs past the bytes read" if len(head) < min(size, MAX_SMALL_FILE_BYTES) else None
    for at in range(position, min(len(head) - 3, position + 4096)):
        if _mpeg_frame(head, at) is not None:
            return None
    return "no MPEG audio frame follows its start"


AUDIO_CHECKS = {"audio/wav": _check_wav, "audio/flac": _check_flac, "audio/ogg": _check_ogg, "audio/mpeg": _check_mp3}
