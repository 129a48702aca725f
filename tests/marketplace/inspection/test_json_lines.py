"""JSON Lines checks (marketplace/inspection/contents.py): msgspec reads whole chunks of lines for
speed, but Python's json module stays the judge of each line, so the findings and the row count are
what checking every line with json.loads gives, whatever the lines hold."""

from __future__ import annotations

import io
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from marketplace.inspection.archives import Findings, MemberReader
from marketplace.inspection.contents import MAX_PROBLEMS_PER_FILE, ContentInspector

# Lines json and msgspec may disagree on, or that sit at the edges of JSON's grammar.
EDGES = [
    b'{"id": 1, "text": "plain"}',
    b'{"text": "caf\xc3\xa9 \xec\x95\x88\xeb\x85\x95"}',  # UTF-8
    b'{"text": "\xff"}',  # not UTF-8
    b'{"text": "\xed\xa0\x80"}',  # an encoded surrogate: json reads it (surrogatepass)
    b'{"x": NaN}',
    b"-Infinity",
    b'"\\ud800"',  # a lone surrogate escape: json reads it
    b"\xef\xbb\xbf{}",  # a byte order mark: json reads it
    b"1e400",
    b"01",
    b"[1,]",
    b'{"a": 1,}',
    b"1 2",
    b'"tab\there"',  # a raw control character in a string
    b"[" * 50 + b"]" * 50,
    b"  3  \r",
    b"",
    b"   ",
    b"\r",
    b"\x0c{}",  # a form feed is not JSON whitespace
    b"\x00",
    b"null",
    b"tru",
]

line = st.one_of(
    st.sampled_from(EDGES),
    st.binary(max_size=12).filter(lambda raw: b"\n" not in raw),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
        max_leaves=6,
    ).map(lambda value: json.dumps(value, ensure_ascii=False).encode()),
)


def check(data: bytes) -> tuple[int | None, list[dict[str, Any]], list[dict[str, Any]]]:
    findings = Findings()
    inspector = ContentInspector(findings=findings, declared_format="", declared_task="", max_references=100)
    inspected = inspector.inspect(MemberReader(io.BytesIO(data), "data/lines.jsonl"), len(data))
    return inspected.rows, findings.errors, findings.warnings


def by_json(lines: list[bytes]) -> tuple[int, int, list[str]]:
    """What checking each line with json.loads says: non-blank lines, records, problems."""
    count = records = 0
    problems = []
    for number, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        count += 1
        try:
            json.loads(raw)
            records += 1
        except ValueError as exc:
            problems.append(f"line {number} is not valid JSON ({exc})")
    return count, records, problems


@settings(max_examples=300, deadline=None)
@given(st.lists(line, max_size=30), st.booleans())
def test_every_line_is_judged_as_json_loads_judges_it(lines: list[bytes], final_newline: bool) -> None:
    # A first line that no magic number matches: the file is read as JSON Lines whatever follows.
    data = b"\n".join([b"{}", *lines]) + (b"\n" if final_newline else b"")
    rows, errors, warnings = check(data)
    lines = data.split(b"\n")
    if data.endswith(b"\n"):
        lines.pop()
    count, records, problems = by_json(lines)
    assert rows == count
    if problems:
        assert len(errors) == 1
        listed = "; ".join(problems[:MAX_PROBLEMS_PER_FILE])
        assert errors[0]["params"]["lines"] == listed
        assert errors[0]["params"]["more"] == len(problems) - min(len(problems), MAX_PROBLEMS_PER_FILE)
    else:
        assert errors == []
    assert records >= 1 and warnings == []


def test_a_large_file_of_valid_lines_is_counted_across_chunks() -> None:
    """Lines cut by the reads' chunk boundaries, in ASCII and not, are joined and all counted."""
    lines = [json.dumps({"id": number, "text": "é" * (number % 7)}, ensure_ascii=False) for number in range(120_000)]
    data = ("\n".join(lines) + "\n").encode()
    assert len(data) > 3 * 1024 * 1024
    assert check(data) == (120_000, [], [])
    broken = data.replace(b'{"id": 100000,', b'{"id": 100000', 1)
    rows, errors, _ = check(broken)
    assert rows == 120_000
    assert errors[0]["params"]["lines"].startswith("line 100001 is not valid JSON (Expecting ',' delimiter")


def test_lines_that_are_json_only_together_are_each_refused() -> None:
    """A chunk is judged in one go (as an array of its lines, and as an object's member values):
    values cut across lines, two values on a line, or a string across lines are still each line's
    error, as json.loads line by line says."""
    cases = [
        [b"[1", b"2]"],
        [b'{"a": 1', b'"b": 2}'],
        [b'{"a": 1', b"2}"],
        [b'{"a": {}', b"{}}"],
        [b'{"a": [{}', b"{}]}"],
        [b'"abc', b'def"'],
        [b"1, 2"],
        [b'{}, "k": 1'],
        [b"{} {}"],
        [b'{"a": [{}', b"{}]}", b"{}, {}"],
    ]
    for lines in cases:
        data = b"\n".join([b"{}", *lines, b"{}"]) + b"\n"
        rows, errors, _ = check(data)
        count, records, problems = by_json(data.split(b"\n")[:-1])
        assert problems, lines
        assert rows == count
        assert errors[0]["params"]["lines"] == "; ".join(problems[:MAX_PROBLEMS_PER_FILE]), lines
