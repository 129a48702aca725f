"""marketplace/viewer/search_index.py: the search index gives the answers of a scan of the text
(ILIKE) on tricky text, and the viewer refuses an index that is not the one the export recorded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]
import pytest
from django.test import Client

from marketplace import storage
from marketplace.models import ParquetExport
from marketplace.viewer import exports, queries, search_index
from tests.world import World

CELLS = [
    "안녕하세요 세계",
    "Hello, World!",
    "hello-world",
    "",
    None,
    "  leading and trailing  ",
    "tab\tseparated\nlines",
    "no\u00a0break\u3000ideographic",
    "STRASSE Straße İstanbul",
    "100% sure_thing",
    "back\\slash",
    "emoji 🙂 here",
    "word word word",
    "안녕",
    "HELLO hello HeLLo",
]
QUERIES = ["hello", "HELLO", "world", "o, w", "lo, Wo", "안녕", "하세", "세계", "세", "!", ",", "-", "%", "_", "e_t",
           "100%", "\\", "straße", "STRASSE", "istanbul", "i̇stanbul", "İstanbul", "🙂", "word word", "d w", "ng an",
           "tab", "separated\nlines", "d\tl", "break", "break\u3000ideo", "no break", " ", "\t", "zzz", "o", "l",
           "hello world", "trailing  ", "  leading"]  # fmt: skip


def write(path: Path, columns: dict[str, list[Any]]) -> Path:
    pq.write_table(pa.table(columns), path)
    return path


@pytest.fixture(params=[search_index.ROWS_PER_BUCKET, 4], ids=["one bucket", "spilled to buckets"])
def split(
    tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> tuple[list[Path], list[Path | None]]:
    """Two files of one split, by column name: text in two columns of the first, one of the second,
    and a column of numbers the search does not read; indexed in one piece, or tokenized a few rows
    at a time, spilled to buckets and merged a few postings at a time as a large table is."""
    monkeypatch.setattr(search_index, "ROWS_PER_BUCKET", request.param)
    monkeypatch.setattr(search_index, "BATCH_ROWS", 2048 if request.param > 4 else 3)
    # Spilled, the merges put a few postings in order at a time: a token's rows over several steps.
    monkeypatch.setattr(search_index, "GATHER_VALUES", 10**6 if request.param > 4 else 5)
    first = write(tmp_path / "a.parquet", {"id": list(range(len(CELLS))), "text": CELLS,
                                           "note": [c.upper() if c else c for c in reversed(CELLS)]})  # fmt: skip
    second = write(tmp_path / "b.parquet", {"text": [c for c in CELLS if c] * 3, "n": list(range(3 * 13))})
    indexes: list[Path | None] = []
    for path in (first, second):
        index = path.with_suffix(".index.parquet")
        assert search_index.build(path, index)
        indexes.append(index)
    return [first, second], indexes


def answer(page: queries.Page) -> tuple[int, list[dict[str, Any]]]:
    return page.total, page.rows


def test_the_index_answers_every_search_as_the_scan_does(
    split: tuple[list[Path], list[Path | None]], monkeypatch: pytest.MonkeyPatch
) -> None:
    files, indexes = split
    looked_up: list[str] = []
    real = search_index.rows_with

    def spy(path: Path, piece: str) -> Any:
        looked_up.append(piece)
        return real(path, piece)

    monkeypatch.setattr(search_index, "rows_with", spy)
    with queries.SplitReader(files) as scan, queries.SplitReader(files, indexes) as indexed:
        for query in QUERIES:
            for offset, length in ((0, 100), (0, 3), (2, 5), (14, 4), (40, 10), (500, 10)):
                expected = answer(scan.search(query=query, offset=offset, length=length))
                assert answer(indexed.search(query=query, offset=offset, length=length)) == expected, (query, offset)
        # Rows, not words: three cells in each text column of the first file, three in each copy.
        assert scan.search(query="hello", offset=0, length=100).total == 3 + 3 + 3 * 3
    assert looked_up  # the index answered


def test_a_split_without_an_index_or_with_a_text_column_of_numbers_elsewhere_is_scanned(tmp_path: Path) -> None:
    strings = write(tmp_path / "a.parquet", {"code": ["a12", "b3"]})
    numbers = write(tmp_path / "b.parquet", {"code": [12, 7]})  # text in the split, numbers in this file
    index = tmp_path / "a.index.parquet"
    search_index.build(strings, index)
    assert not search_index.build(numbers, tmp_path / "b.index.parquet")  # nothing to index
    with queries.SplitReader([strings, numbers], [index, None]) as reader:
        page = reader.search(query="12", offset=0, length=10)
    assert page.total == 2 and [row["row"]["code"] for row in page.rows] == ["a12", "12"]


def search(world: World, query: str) -> dict[str, Any]:
    dataset = world.datasets["north-corpus"]
    answer = Client().get(f"/api/v1/datasets/{dataset.id}/versions/1/viewer/search",
                          {"split": "train", "query": query})  # fmt: skip
    assert answer.status_code == 200, answer.content
    body: dict[str, Any] = answer.json()
    return body


def archive_export(world: World) -> ParquetExport:
    return ParquetExport.objects.get(upload__submission__version__dataset=world.datasets["north-corpus"],
                                     upload__kind="archive")  # fmt: skip


@pytest.mark.django_db
def test_exports_store_an_index_checked_like_the_parquet_and_the_viewer_answers_without_one(
    world: World, settings: Any, tmp_path: Path
) -> None:
    settings.VIEWER_CACHE_DIR = str(tmp_path / "cache")
    export = archive_export(world)
    assert all(table["index"]["key"].endswith(".index.parquet") for table in export.tables)
    with_index = [search(world, query) for query in ("note", "NOTE 3", "of web", "zzz")]
    assert [body["num_rows_total"] for body in with_index] == [5, 1, 5, 0]
    # An export made before indexes existed: the same answers, from a scan.
    ParquetExport.objects.filter(pk=export.pk).update(
        tables=[{k: v for k, v in table.items() if k != "index"} for table in export.tables]
    )
    assert [search(world, query) for query in ("note", "NOTE 3", "of web", "zzz")] == with_index


@pytest.mark.django_db
def test_an_index_that_is_not_the_exported_one_is_refused_and_the_search_still_answers(
    world: World, settings: Any, tmp_path: Path
) -> None:
    settings.VIEWER_CACHE_DIR = str(tmp_path / "cache")
    table = next(t for t in archive_export(world).tables if t["path"] == "notes.jsonl")
    expected = search(world, "note 2")
    settings.VIEWER_CACHE_DIR = str(tmp_path / "fresh")
    stored = tmp_path / "stored.index.parquet"
    storage.download_to(table["index"]["key"], str(stored))
    # The index of another table, stored under this one's key: a valid file, the wrong bytes.
    other = write(tmp_path / "other.parquet", {"text": ["note 2 of web"] * 50})
    search_index.build(other, tmp_path / "other.index.parquet")
    storage.put_bytes(table["index"]["key"], (tmp_path / "other.index.parquet").read_bytes())
    try:
        assert queries.local_index(table) is None
        assert search(world, "note 2") == expected
        assert not list((tmp_path / "fresh").glob(f"{table['index']['sha256']}*"))  # not kept
    finally:
        storage.put_bytes(table["index"]["key"], stored.read_bytes())
    assert queries.local_index(table) is not None


def test_an_ordered_filter_reads_only_its_pages_rows_and_answers_as_one_query(tmp_path: Path) -> None:
    """The ordered page finds its rows (file, row number) first, then reads them: the same rows,
    in the same order, with the same count, as the plain query, across files of one split."""
    first = write(tmp_path / "a.parquet", {"id": list(range(0, 300, 2)), "text": [f"t{i}" for i in range(150)]})
    second = write(tmp_path / "b.parquet", {"id": list(range(1, 300, 2)), "score": [i / 7 for i in range(150)]})
    plain = duckdb.connect()
    source = f"read_parquet(['{first}', '{second}'], union_by_name = true)"
    with queries.SplitReader([first, second]) as reader:
        cases = [("id > 17", "id DESC", 0), ("id > 17", "id", 40), ("score IS NULL", "id DESC", 3),
                 ("id < 290", "score DESC, id", 100), ("id > 1000", "id", 0)]  # fmt: skip
        for where, orderby, offset in cases:
            page = reader.filter(where=where, orderby=orderby, offset=offset, length=20)
            expected = plain.execute(f"SELECT id, text, score FROM {source} WHERE {where} ORDER BY {orderby} "  # noqa: S608 (the test's own)
                                     f"LIMIT 20 OFFSET {offset}").fetchall()  # fmt: skip
            count = plain.execute(f"SELECT count(*) FROM {source} WHERE {where}").fetchall()[0][0]  # noqa: S608
            assert [(r["row"]["id"], r["row"]["text"], r["row"]["score"]) for r in page.rows] == expected
            assert page.total == count and [r["row_idx"] for r in page.rows] == list(
                range(offset, offset + len(expected))
            )


@pytest.mark.django_db
def test_the_index_job_indexes_what_a_ready_export_lacks_and_only_that(world: World) -> None:
    """Indexes are built by a job of their own after the export (``exports.index_upload``); the
    sweeper finds ready exports with a table never indexed (``UNINDEXED``), such as exports made
    before indexes existed, and the job indexes those tables once."""
    export = archive_export(world)
    before = {table["key"]: table["index"] for table in export.tables}
    assert before and all(before.values())  # the world's export ran the job in process
    assert not ParquetExport.objects.filter(exports.UNINDEXED, pk=export.pk).exists()
    ParquetExport.objects.filter(pk=export.pk).update(
        tables=[{k: v for k, v in table.items() if k != "index"} for table in export.tables]
    )
    assert ParquetExport.objects.filter(exports.UNINDEXED, pk=export.pk).exists()
    assert exports.index_upload(upload_id=export.upload_id) == f"indexed: {len(before)} tables"
    after = {table["key"]: table["index"] for table in archive_export(world).tables}
    assert {key: entry["key"] for key, entry in after.items()} == {key: entry["key"] for key, entry in before.items()}
    assert not ParquetExport.objects.filter(exports.UNINDEXED, pk=export.pk).exists()
    assert exports.index_upload(upload_id=export.upload_id) == "indexed: 0 tables"  # nothing left to do
    assert search(world, "NOTE 3")["num_rows_total"] == 1
