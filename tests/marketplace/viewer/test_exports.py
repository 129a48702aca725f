"""marketplace/viewer/exports.py's inspector: each table's Parquet file is stored while it is being
written (parts of a multipart upload as it grows, one PUT when it is small), and what is recorded
(SHA-256, size, statistics) is the stored file's; a table read again as text is stored as text."""

from __future__ import annotations

import hashlib
import io
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pyarrow.parquet as pq  # type: ignore[import-untyped]
import pytest

from marketplace import storage
from marketplace.inspection.archives import MemberReader
from marketplace.viewer import exports, tables

PART = storage.MIN_PART_BYTES  # the smallest part storage takes


def stored(key: str) -> bytes:
    body = storage.open_stream(key)
    try:
        return bytes(body.read())
    finally:
        body.close()


def test_a_growing_file_is_stored_in_parts_as_it_is_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(exports, "PART_BYTES", PART)
    path, key = tmp_path / "table.parquet", "tests/exports/growing.parquet"
    pieces = [bytes([n]) * (PART // 2 + 1234) for n in range(5)]  # two full parts and a short last one
    store = exports._StoreAsWritten(path, key)
    sent_before_the_end = threading.Event()
    with path.open("wb") as out:
        for piece in pieces:
            out.write(piece)
            out.flush()
        for _ in range(200):  # the first parts go while the writer still holds the file open
            if store._parts:
                sent_before_the_end.set()
                break
            time.sleep(0.05)
    sha256, size = store.finish()
    data = b"".join(pieces)
    assert sent_before_the_end.is_set()
    assert (sha256, size) == (hashlib.sha256(data).hexdigest(), len(data))
    assert stored(key) == data
    assert str((storage.head(key) or {})["ETag"]).strip('"').endswith("-3")  # a multipart upload of three parts
    storage.delete(key)


def test_a_small_file_is_stored_in_one_put_and_a_restarted_one_as_rewritten(tmp_path: Path) -> None:
    path, key = tmp_path / "table.parquet", "tests/exports/small.parquet"
    path.write_bytes(b"PAR1 small")
    store = exports._StoreAsWritten(path, key)
    assert store.finish() == (hashlib.sha256(b"PAR1 small").hexdigest(), 10)
    assert stored(key) == b"PAR1 small"

    path.write_bytes(b"first attempt")
    store = exports._StoreAsWritten(path, key)
    store.give_up()  # the writer starts the file over
    path.write_bytes(b"second attempt, as text")
    assert store.finish() == (hashlib.sha256(b"second attempt, as text").hexdigest(), 23)
    assert stored(key) == b"second attempt, as text"
    storage.delete(key)


def test_the_exporter_records_the_stored_file_and_a_table_read_again_as_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tables, "BLOCK_BYTES", 64)  # the first block sees numbers only
    data = b"n,t\n" + b"".join(b"%d,x%d\n" % (i, i % 7) for i in range(300)) + b"many,y\n"
    upload = SimpleNamespace(submission_id="tests", kind="archive", id="exports")
    exporter = exports._Exporter(upload, {"data/train.csv": tables.CSV}, tmp_path)  # type: ignore[arg-type]
    exporter.inspect(MemberReader(io.BytesIO(data), "data/train.csv"), len(data))
    [table] = exporter.tables
    content = stored(table["key"])
    assert (table["sha256"], table["size"]) == (hashlib.sha256(content).hexdigest(), len(content))
    (tmp_path / "stored.parquet").write_bytes(content)
    parquet = pq.read_table(tmp_path / "stored.parquet")
    assert parquet.schema.field("n").type == "string" and parquet.column("n").to_pylist()[-1] == "many"
    assert table["rows"] == 301
    assert {"name": "n", "type": "string"} == {k: v for k, v in table["columns"][0].items() if k != "statistics"}
    assert table["columns"][1]["statistics"]["top"][0] == {"value": "x0", "count": 43}
    assert {p.name for p in tmp_path.iterdir()} == {"stored.parquet"}  # the member and the table removed
    storage.delete(table["key"])


def test_a_table_that_cannot_be_read_is_left_out_with_why_and_nothing_stored(tmp_path: Path) -> None:
    data = b'{"x": 1}\n' * 50 + b"not json\n"
    upload = SimpleNamespace(submission_id="tests", kind="archive", id="broken")
    exporter = exports._Exporter(upload, {"data/train.jsonl": tables.JSONL}, tmp_path)  # type: ignore[arg-type]
    exporter.inspect(MemberReader(io.BytesIO(data), "data/train.jsonl"), len(data))
    assert exporter.tables == []
    [problem] = exporter.problems
    assert problem["path"] == "data/train.jsonl" and "could not be read" in problem["message"]
    assert storage.head(exports.parquet_key(upload, 0)) is None  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


def test_giving_up_after_parts_were_sent_aborts_the_upload(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(exports, "PART_BYTES", PART)
    path, key = tmp_path / "table.parquet", "tests/exports/abandoned.parquet"
    store = exports._StoreAsWritten(path, key)
    path.write_bytes(b"x" * (PART + 1))
    for _ in range(200):
        if store._parts:
            break
        time.sleep(0.05)
    assert store._parts and store._upload_id is not None
    upload_id = store._upload_id
    store.give_up()
    assert storage.head(key) is None
    with pytest.raises(Exception, match="NoSuchUpload"):
        storage.list_parts(key, upload_id=upload_id)
