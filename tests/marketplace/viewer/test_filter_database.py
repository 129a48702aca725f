"""marketplace/viewer/filter_database.py: a table's DuckDB database gives the answers of its Parquet
file to every filter, order and search, refusals included; the index job makes it for the tables
that lack it, and the viewer reads the Parquet file until it is there."""

from __future__ import annotations

import datetime
import decimal
import json
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]
import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from rest_framework.renderers import JSONRenderer

from marketplace.models import DatasetVersion, ParquetExport
from marketplace.viewer import api, exports, filter_database, queries, search_index
from tests.world import World

ROWS = 3000
LABELS = ["b", "a", "", "it's", "Zeta", "ä", "a b", None]  # few values: an ENUM in the database


def table(path: Path) -> Path:
    """A table with a column of each kind the choices touch: few-valued text (with the empty text,
    a quote, capitals, non-ASCII and nulls), text of many values, doubles with many significant
    digits (ALP-RD's kind, turned off), integers and dates, each with nulls."""
    pq.write_table(
        pa.table(
            {
                "id": list(range(ROWS)),
                "label": [LABELS[(i * 7) % len(LABELS)] for i in range(ROWS)],
                "text": [None if i % 97 == 0 else f"sentence {i * 7919 % 1000} of row {i}" for i in range(ROWS)],
                "score": [None if i % 89 == 0 else (i * 2654435761 % 10007) / 7.3 for i in range(ROWS)],
                "day": [datetime.date(2020, 1, 1) + datetime.timedelta(days=i % 400) for i in range(ROWS)],
            }
        ),
        path,
        row_group_size=700,
    )
    return path


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    parquet = table(tmp_path / "table.parquet")
    database = tmp_path / "table.duckdb"
    filter_database.build(parquet, database)
    return parquet, database


def answer(reader: queries.SplitReader, method: str, **asked: Any) -> tuple[int, list[dict[str, Any]]] | str:
    try:
        page = getattr(reader, method)(**asked)
    except ValidationError as exc:
        return f"refused: {exc.messages}"
    return page.total, page.rows


CASES = [
    ("label = 'a'", "id DESC", 0),
    ("label = 'not one of them'", "", 0),
    ("label < 'a b' OR label > 'it'", "label DESC, id", 5),
    ("label >= 'Zeta' AND score > 100", "score DESC, id", 0),
    ("label IS NULL", "id", 30),
    ("NOT (label = '' OR label = 'it''s')", "label, score DESC, id", 1200),
    ("score > 700.5 AND label != 'ä'", "score, id", 40),
    ("score IS NULL OR text IS NULL", "text DESC, id", 0),
    ("text = 'sentence 7 of row 1'", "", 0),
    ("text > 'sentence 9'", "text, id", 10),
    ("day >= '2020-12-01'", "day DESC, id", 100),
    ("id < 100", "", 20),
    ("id > 5000", "id", 0),
    ("id > 10", "label DESC, id", 5000),  # past the last match
]
REFUSED = ["label = 5", "label > 5", "score = 'high'", "day > 'yesterday'", "id = 'x'"]


def test_the_database_answers_every_filter_order_and_search_as_the_parquet_file(files: tuple[Path, Path]) -> None:
    parquet, database = files
    with queries.SplitReader([parquet]) as plain, queries.SplitReader([parquet], [None], [database]) as fast:
        assert fast.database is not None and plain.database is None
        for where, orderby, offset in CASES:
            for length in (1, 37):
                asked = {"where": where, "orderby": orderby, "offset": offset, "length": length}
                assert answer(fast, "filter", **asked) == answer(plain, "filter", **asked), asked
        for orderby in ("label, id", "label DESC, id", "score DESC, id", "text, id", "day, id"):  # no filter
            asked = {"where": "", "orderby": orderby, "offset": 3, "length": 50}
            assert answer(fast, "filter", **asked) == answer(plain, "filter", **asked), asked
        # Pages in table order, read by their rows' ids from the database: across the Parquet
        # file's row groups (700 rows), the last rows, past the end.
        for offset in (0, 1234, 695, ROWS - 10, ROWS, ROWS + 5):
            for length in (1, 20, 100):
                page = answer(fast, "rows", offset=offset, length=length)
                assert page == answer(plain, "rows", offset=offset, length=length), (offset, length)
                assert not isinstance(page, str), page
                ids = list(range(offset, min(offset + length, ROWS)))
                assert page[0] == ROWS and [row["row"]["id"] for row in page[1]] == ids
        for query, where in (("a", ""), ("row 1", "label = 'b'"), ("zzz", ""), ("IT'S", "score > 10")):
            asked = {"query": query, "where": where, "orderby": "id", "offset": 0, "length": 25}
            assert answer(fast, "select", **asked) == answer(plain, "select", **asked), asked
        for where in REFUSED:  # the Parquet file's refusal, not one naming the database's types
            asked = {"where": where, "orderby": "", "offset": 0, "length": 5}
            expected = answer(plain, "filter", **asked)
            assert isinstance(expected, str) and "ENUM" not in expected
            assert answer(fast, "filter", **asked) == expected
        # Which of the column's values DuckDB fails on first depends on its threads: the person is
        # told what to write instead, the same every time.
        asked = {"where": "label = 5", "orderby": "", "offset": 0, "length": 5}
        assert (
            answer(plain, "filter", **asked)
            == answer(fast, "filter", **asked)
            == (
                'refused: ["The column “label” holds text: put the value you compare it with in quotes,'
                " as in label = '5'.\"]"
            )
        )


def test_a_search_from_the_index_reads_its_rows_from_the_database_as_from_the_parquet_file(
    files: tuple[Path, Path], tmp_path: Path
) -> None:
    """The search index finds the rows (their numbers in the file, the database's ids); the rows
    themselves are read from the database when the split has one, else from the Parquet file:
    the same pages, the same totals, and what a scan without the index answers."""
    parquet, database = files
    index = tmp_path / "table.index.parquet"
    assert search_index.build(parquet, index)
    with (
        queries.SplitReader([parquet], [index], [database]) as fast,
        queries.SplitReader([parquet], [index]) as from_parquet,
        queries.SplitReader([parquet]) as scan,
    ):
        for query in ("sentence 7", "row 29", "ROW 2999", "of", "zzz", "it's"):
            for offset, length in ((0, 100), (3, 7), (ROWS - 5, 10)):
                asked = {"query": query, "offset": offset, "length": length}
                found = answer(fast, "search", **asked)
                assert found == answer(from_parquet, "search", **asked) == answer(scan, "search", **asked), asked
        total, rows = answer(fast, "search", query="row 2999", offset=0, length=5)  # type: ignore[misc]
        assert total == 1 and [row["row"]["id"] for row in rows] == [2999]


def test_few_valued_text_is_an_enum_in_text_order_and_the_rest_keeps_its_type(files: tuple[Path, Path]) -> None:
    _, database = files
    with duckdb.connect(str(database), read_only=True) as connection:
        types = dict(connection.execute("SELECT column_name, data_type FROM information_schema.columns "
                                        "WHERE table_name = ?", [filter_database.TABLE]).fetchall())  # fmt: skip
        values = connection.execute(
            f"SELECT enum_range(label) FROM {filter_database.TABLE} WHERE label IS NOT NULL LIMIT 1"  # noqa: S608
        ).fetchone()
        listed = connection.execute(
            f"SELECT DISTINCT label::VARCHAR FROM {filter_database.TABLE} ORDER BY label"  # noqa: S608 (the test's own)
        ).fetchall()
    assert types["label"].startswith("ENUM(")
    assert types["text"] == "VARCHAR" and types["score"] == "DOUBLE" and types["day"] == "DATE"
    assert values is not None and values[0] == sorted({v for v in LABELS if v is not None}, key=str.encode)
    assert [row[0] for row in listed] == [*sorted({v for v in LABELS if v is not None}, key=str.encode), None]


def test_a_table_with_a_column_named_rowid_is_read_from_its_parquet_file(tmp_path: Path) -> None:
    parquet = tmp_path / "rowid.parquet"
    pq.write_table(pa.table({"RowId": [3, 1, 2], "v": ["x", "y", "z"]}), parquet)
    database = tmp_path / "rowid.duckdb"
    filter_database.build(parquet, database)
    with queries.SplitReader([parquet], [None], [database]) as reader:
        assert reader.database is None
        page = reader.filter(where="RowId > 1", orderby="RowId DESC", offset=0, length=10)
    assert page.total == 2 and [row["row"]["v"] for row in page.rows] == ["x", "z"]


def current(world: World) -> DatasetVersion:
    """valley-speech's current version (its first was withdrawn)."""
    return DatasetVersion.objects.filter(dataset=world.datasets["valley-speech"]).latest("number")


def filtered(world: World, where: str, orderby: str) -> dict[str, Any]:
    """A filter of valley-speech's train split (one table: ``train.tsv``)."""
    version = current(world)
    reply = Client().get(f"/api/v1/datasets/{version.dataset_id}/versions/{version.number}/viewer/filter",
                         {"split": "train", "where": where, "orderby": orderby})  # fmt: skip
    assert reply.status_code in (200, 400), reply.content
    body: dict[str, Any] = reply.json()
    return body


@pytest.mark.django_db
def test_the_index_job_makes_the_databases_an_export_lacks_and_the_viewer_answers_the_same_before(
    world: World, settings: Any, tmp_path: Path
) -> None:
    settings.VIEWER_CACHE_DIR = str(tmp_path / "cache")
    export = ParquetExport.objects.get(upload__submission__version=current(world), upload__kind="archive")
    made = {table["key"]: table["database"] for table in export.tables}
    assert made and all(entry["key"].endswith(".duckdb") for entry in made.values())  # the world ran the job
    asked = [("sentence > 'sentence 0'", "sentence DESC"), ("contributor_id != 'c-1'", ""), ("sentence = 1", "")]
    with_database = [filtered(world, where, orderby) for where, orderby in asked]
    assert with_database[0]["num_rows_total"] > 0 and with_database[1]["num_rows_total"] > 0
    assert "“sentence” holds text" in with_database[2]["message"]
    assert list((tmp_path / "cache").glob("*.duckdb"))  # read from the database
    # An export whose index job ran before databases existed: the Parquet file answers, the
    # sweeper's query finds it, and the job makes the databases only.
    indexes = {table["key"]: table["index"] for table in export.tables}
    ParquetExport.objects.filter(pk=export.pk).update(
        tables=[{k: v for k, v in table.items() if k != "database"} for table in export.tables]
    )
    assert ParquetExport.objects.filter(exports.UNINDEXED, pk=export.pk).exists()
    assert [filtered(world, where, orderby) for where, orderby in asked] == with_database
    assert exports.index_upload(upload_id=export.upload_id) == f"indexed: {len(made)} tables"
    export.refresh_from_db()
    assert {table["key"]: table["index"] for table in export.tables} == indexes  # kept, not rebuilt
    assert {table["key"]: table["database"]["key"] for table in export.tables} == {
        key: entry["key"] for key, entry in made.items()
    }
    assert not ParquetExport.objects.filter(exports.UNINDEXED, pk=export.pk).exists()
    assert [filtered(world, where, orderby) for where, orderby in asked] == with_database


def test_a_pages_cells_are_json_of_every_type_from_the_parquet_file_and_the_database(tmp_path: Path) -> None:
    """Only cells whose column's type needs it are converted (``queries._cells``) and the page is
    written by msgspec (``viewer.api.ROWS_JSON``): the JSON is what converting every cell and
    writing with DRF's renderer gives, for columns of every kind, read from either file."""
    utc = datetime.UTC
    parquet = tmp_path / "kinds.parquet"
    pq.write_table(
        pa.table({
            "id": pa.array([1, 2, None], pa.int64()),
            "small": pa.array([1, -2, 3], pa.int8()),
            "flag": [True, None, False],
            "text": ["é\u2028 \"quoted\"", None, "<b>"],
            "score": [float("nan"), float("inf"), 0.1],
            "ratio": pa.array([1.5, None, float("-inf")], pa.float32()),
            "amount": pa.array([decimal.Decimal("12.30"), None, decimal.Decimal("-0.05")], pa.decimal128(10, 2)),
            "day": [datetime.date(2024, 2, 29), None, datetime.date(1999, 12, 31)],
            # Without a time zone (pyarrow writes the UTC time), and with one.
            "at": pa.array([datetime.datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=utc), None,
                            datetime.datetime(2000, 1, 1, tzinfo=utc)], pa.timestamp("us")),
            "at_utc": pa.array([datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=utc), None, None],
                               pa.timestamp("us", "UTC")),
            "blob": [b"\x00\xff", None, b""],
            "scores": [[1.0, float("nan")], None, []],
            "speaker": [{"name": "a", "age": 3}, None, {"name": None, "age": None}],
            "label": ["x", "y", "x"],
        }),
        parquet,
    )  # fmt: skip
    database = tmp_path / "kinds.duckdb"
    filter_database.build(parquet, database)
    with queries.SplitReader([parquet]) as plain, queries.SplitReader([parquet], [None], [database]) as fast:
        for reader in (plain, fast):
            page = reader.rows(offset=0, length=10)
            every_cell = [{**row, "row": {k: queries._json(v) for k, v in row["row"].items()}} for row in page.rows]
            assert page.rows == every_cell  # what the dataset page shows too (a NaN left would differ)
            written = json.loads(api.ROWS_JSON.encode(page.rows))
            assert written == json.loads(JSONRenderer().render(every_cell))
            first, second, third = (row["row"] for row in written)
            assert first["score"] is None and second["score"] is None and third["score"] == 0.1
            assert third["ratio"] is None and first["scores"] == [1.0, None]
            assert first["amount"] == 12.3 and third["amount"] == -0.05
            assert first["day"] == "2024-02-29" and first["at"] == "2024-01-02T03:04:05.600000"
            assert first["at_utc"].startswith("2024-01-02") and first["blob"] == "AP8="
            assert first["text"] == 'é\u2028 "quoted"' and first["small"] == 1 and second["flag"] is None
            assert first["speaker"] == {"name": "a", "age": 3} and third["label"] == "x"
