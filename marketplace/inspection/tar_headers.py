"""Tar headers read from a forward-only stream: POSIX ustar with pax extended headers, and GNU
long names (the formats GNU tar, bsdtar and Python's tarfile write).

Validation only needs each entry's name, type and size, and must read every byte anyway, so this
reads the 512-byte header blocks itself: the standard library's tarfile builds a full TarInfo for
each entry and spends about four times as long on it, which dominated archives of many small
files. Anything unusual is refused rather than guessed at: a bad checksum, an extended header
over 1 MiB, malformed pax records, negative sizes.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from django.utils.translation import gettext_noop

from marketplace.inspection.texts import Params, english

BLOCK = 512
ZERO_BLOCK = bytes(BLOCK)
MAX_EXTENDED_HEADER = 1024 * 1024
# Type flags (POSIX.1-2001 ustar, plus GNU's): what validation makes of each.
KINDS = {b"0": "file", b"\x00": "file", b"7": "file", b"5": "dir", b"1": "link", b"2": "link",
         b"3": "device", b"4": "device", b"6": "device"}  # fmt: skip
EXTENDED = {b"x", b"g", b"L", b"K"}  # pax (per entry, global), GNU long name, GNU long link target


class TarFormatError(Exception):
    def __init__(self, code: str, template: str, params: Params | None = None) -> None:
        self.template, self.params = template, dict(params or {})
        self.code, self.message = code, english(template, self.params)
        super().__init__(self.message)


class ForwardStream(Protocol):
    def read(self, n: int) -> bytes:
        """Up to ``n`` bytes; fewer only at the end of the stream."""

    def tell(self) -> int: ...

    def seek(self, position: int) -> int:
        """Move forward to ``position`` (reading and discarding)."""


@dataclass(frozen=True)
class TarEntry:
    name: str
    kind: str  # file, dir, link, device, other
    size: int
    offset: int  # of its header block
    name_problem: str | None = None  # a sentence template with %(path)s, as archives.safe_path gives
    # The entry's header blocks as read (extended ones first), and its pax records: what a rewriter
    # needs to copy the entry with all its metadata (marketplace/inspection/rewrite.py).
    header: bytes = b""
    pax: Mapping[str, bytes] = field(default_factory=dict)


def parse_number(field: bytes, offset: int) -> int:
    """An octal number padded with NULs or spaces, or GNU's base-256 (for sizes past 8 GiB)."""
    if field[:1] == b"\x80":
        return int.from_bytes(field[1:], "big")
    if field[:1] == b"\xff":
        raise TarFormatError(
            "corrupt", gettext_noop("The tar header at byte %(offset)s has a negative number."), {"offset": offset}
        )
    text = field.split(b"\x00", 1)[0].strip()
    try:
        return int(text, 8) if text else 0
    except ValueError:
        raise TarFormatError(
            "corrupt", gettext_noop("The tar header at byte %(offset)s is unreadable."), {"offset": offset}
        ) from None


def _checksum_ok(block: bytes, offset: int) -> bool:
    try:
        stored = parse_number(block[148:156], offset)
    except TarFormatError:
        return False
    unsigned = sum(block) - sum(block[148:156]) + 8 * 0x20  # the field itself counts as spaces
    return stored == unsigned or stored == sum(struct.unpack_from("148b8x356b", block)) + 8 * 0x20


def _pax_records(data: bytes, offset: int) -> dict[str, bytes]:
    """``"<length> <key>=<value>\\n"`` records (POSIX.1-2001, pax extended header)."""
    records: dict[str, bytes] = {}
    position = 0
    while position < len(data) and data[position] != 0:
        space = data.find(b" ", position)
        try:
            length = int(data[position:space])
        except ValueError:
            length = 0
        record = data[space + 1 : position + length]
        if space < 0 or length <= 0 or not record.endswith(b"\n") or b"=" not in record:
            raise TarFormatError(
                "corrupt", gettext_noop("The pax header at byte %(offset)s is malformed."), {"offset": offset}
            )
        key, value = record[:-1].split(b"=", 1)
        records[key.decode("utf-8", "replace")] = value
        position += length
    return records


def _decode(raw: bytes) -> tuple[str, str | None]:
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError:
        return raw.decode("utf-8", "replace"), gettext_noop("'%(path)s' is not valid UTF-8.")


def read_entries(stream: ForwardStream) -> Iterator[TarEntry]:
    """Yield each entry. The caller may read up to ``entry.size`` bytes of a file's data from
    ``stream`` before the next step; the rest and the padding are skipped here. Returns at the
    end-of-archive marker; raises TarFormatError on a truncated or corrupt archive."""
    pax: dict[str, bytes] = {}
    long_name: bytes | None = None
    blocks: list[bytes] = []
    while True:
        offset = stream.tell()
        block = stream.read(BLOCK)
        if len(block) < BLOCK:
            raise TarFormatError(
                "truncated", gettext_noop("The archive ends without tar's end-of-archive marker: it is truncated.")
            )
        if block == ZERO_BLOCK:
            return
        if not _checksum_ok(block, offset):
            if offset == 0 and block[257:262] != b"ustar":  # no tar magic either: not a tar at all
                raise TarFormatError(
                    "not_an_archive",
                    gettext_noop(
                        "The file is not a .tar.gz, .tar or .zip archive (its first bytes match none of them)."
                    ),
                )
            raise TarFormatError(
                "corrupt",
                gettext_noop("The tar header at byte %(offset)s is damaged (bad checksum)."),
                {"offset": offset},
            )
        flag = block[156:157]
        size = parse_number(block[124:136], offset)
        data_start = stream.tell()
        padded = -(-size // BLOCK) * BLOCK
        if flag in EXTENDED:
            if size > MAX_EXTENDED_HEADER:
                raise TarFormatError(
                    "unsupported_entry",
                    gettext_noop("The extended header at byte %(offset)s is over %(limit)s bytes."),
                    {"offset": offset, "limit": MAX_EXTENDED_HEADER},
                )
            data = stream.read(padded)
            if len(data) < padded:
                raise TarFormatError("truncated", gettext_noop("The archive ends inside a header: it is truncated."))
            blocks += (block, data)
            if flag == b"x":
                pax = _pax_records(data[:size], offset)
            elif flag == b"L":
                long_name = data[:size].split(b"\x00", 1)[0]
            continue  # 'g' (global: git archive's commit id) and 'K' (a link's target) name nothing
        raw = block[:100].split(b"\x00", 1)[0]
        if block[257:263] == b"ustar\x00":  # POSIX ustar: a prefix field holds the leading folders
            prefix = block[345:500].split(b"\x00", 1)[0]
            if prefix:
                raw = prefix + b"/" + raw
        if long_name is not None:
            raw = long_name
        if "path" in pax:
            raw = pax["path"]
        name, problem = _decode(raw)
        if "size" in pax:
            size = _pax_size(pax["size"], offset)
            padded = -(-size // BLOCK) * BLOCK
        kind = KINDS.get(flag, "other")
        if kind == "file" and any(key.startswith("GNU.sparse") for key in pax):
            kind = "other"
        has_data = kind == "file" or flag not in KINDS  # as tar does: links, folders, devices carry none
        blocks.append(block)
        header, records = b"".join(blocks), pax
        pax, long_name, blocks = {}, None, []
        yield TarEntry(name=name, kind=kind, size=size, offset=offset, name_problem=problem, header=header, pax=records)
        end = data_start + (padded if has_data else 0)
        if stream.tell() > end:
            raise TarFormatError(
                "corrupt", gettext_noop("The entry at byte %(offset)s was read past its end."), {"offset": offset}
            )
        if stream.seek(end) < end:
            raise TarFormatError(
                "truncated", gettext_noop("The archive ends inside '%(path)s': it is truncated."), {"path": name}
            )


def _pax_size(value: bytes, offset: int) -> int:
    try:
        size = int(value)
    except ValueError:
        raise TarFormatError(
            "corrupt", gettext_noop("The pax header at byte %(offset)s has an unreadable size."), {"offset": offset}
        ) from None
    if size < 0:
        raise TarFormatError(
            "corrupt", gettext_noop("The pax header at byte %(offset)s has a negative size."), {"offset": offset}
        )
    return size
