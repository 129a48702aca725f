"""marketplace/viewer/tables.py and predicates.py: conversion to Parquet with types and statistics,
splits from names, and the predicate language, on real files (pure: no database, no storage)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pyarrow.parquet as pq  # type: ignore[import-untyped]
import pytest

from marketplace.viewer import predicates, tables
from marketplace.viewer.predicates import PredicateError


def convert(tmp_path: Path, name: str, data: bytes, media_type: str) -> tuple[tables.Converted, Path]:
    source, target = tmp_path / name, tmp_path / f"{name}.parquet"
    source.write_bytes(data)
    return tables.convert_file(source, media_type, target), target


def column(converted: tables.Converted, name: str) -> dict:  # type: ignore[type-arg]
    return next(c for c in converted.columns if c["name"] == name)


def test_csv_gets_types_and_statistics(tmp_path: Path) -> None:
    data = b'id,name,score\n1,ann,2.5\n2,bob,\n3,"ann",7\n'
    converted, target = convert(tmp_path, "t.csv", data, tables.CSV)
    assert converted.rows == 3 == pq.read_table(target).num_rows
    assert column(converted, "id")["type"] == "int64"
    assert column(converted, "score")["statistics"] == {"count": 2, "nulls": 1, "min": 2.5, "max": 7.0, "mean": 4.75}
    name = column(converted, "name")["statistics"]
    assert name["top"][0] == {"value": "ann", "count": 2} and name["distinct"] == 2


def test_tsv_is_read_unquoted_and_jsonl_line_by_line(tmp_path: Path) -> None:
    converted, target = convert(tmp_path, "t.tsv", b'path\tsentence\na.wav\tshe said "hi\nb.wav\tok\n', tables.TSV)
    assert pq.read_table(target).column("sentence").to_pylist() == ['she said "hi', "ok"]
    converted, _ = convert(tmp_path, "t.jsonl", b'{"x": 1, "t": "a"}\n{"x": 2.5, "t": null}\n', tables.JSONL)
    assert column(converted, "x")["type"] == "double"
    assert column(converted, "t")["statistics"]["nulls"] == 1


def test_a_column_that_changes_type_far_down_falls_back_to_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tables, "BLOCK_BYTES", 64)  # the first block sees numbers only
    data = b"n\n" + b"".join(b"%d\n" % i for i in range(100)) + b"many\n"
    converted, target = convert(tmp_path, "t.csv", data, tables.CSV)
    assert converted.rows == 101
    assert column(converted, "n")["type"] == "string"
    assert pq.read_table(target).column("n").to_pylist()[-1] == "many"


def test_a_broken_table_says_why(tmp_path: Path) -> None:
    with pytest.raises(tables.ConversionFailed, match="could not be read"):
        convert(tmp_path, "t.jsonl", b'{"x": 1}\nnot json\n', tables.JSONL)


def test_splits_come_from_file_names() -> None:
    assert tables.assign_splits(["cv/train.tsv", "cv/dev.tsv", "cv/test.tsv", "cv/validated.tsv"]) == {
        "cv/train.tsv": "train", "cv/dev.tsv": "validation", "cv/test.tsv": "test", "cv/validated.tsv": "validated",
    }  # fmt: skip
    assert tables.assign_splits(["data/train-00001.parquet", "data/test-00001.parquet"]) == {
        "data/train-00001.parquet": "train", "data/test-00001.parquet": "test",
    }  # fmt: skip
    assert tables.assign_splits(["notes.jsonl", "labels.csv"]) == {"notes.jsonl": "train", "labels.csv": "train"}
    assert tables.split_from_name("contest/notes.csv") is None  # a word, not a substring


COLUMNS = ["a", "b", "name", "odd col"]


@pytest.mark.parametrize(
    ("where", "sql", "values"),
    [
        ("a = 1", '"a" = ?', [1]),
        ("a >= -2.5 AND b != 'x'", '("a" >= ? AND "b" <> ?)', [-2.5, "x"]),
        ("NOT (a < 1 OR b IS NULL)", '(NOT ("a" < ? OR "b" IS NULL))', [1]),
        ("name = 'O''Brien'", '"name" = ?', ["O'Brien"]),
        ('"odd col" is not null', '"odd col" IS NOT NULL', []),
        ("name = 'x; DROP TABLE t; --'", '"name" = ?', ["x; DROP TABLE t; --"]),
        ("a = 1 or b = 2 and name = 'z'", '("a" = ? OR ("b" = ? AND "name" = ?))', [1, 2, "z"]),
    ],
)
def test_good_predicates_become_sql_with_bound_values(where: str, sql: str, values: list) -> None:  # type: ignore[type-arg]
    assert predicates.to_sql(predicates.parse_where(where, COLUMNS)) == (sql, values)


@pytest.mark.parametrize(
    ("where", "message", "position"),
    [
        ("a = 1; DROP TABLE x", "Unexpected character ';'", 6),
        ("a = 1 DROP TABLE x", "Expected AND, OR or the end, found 'DROP'", 7),
        ("nope = 1", "No column 'nope'", 1),
        ("name = 'open", "never closed", 8),
        ("(a = 1", "Expected ')' to close the '(' at character 1", 7),
        ("a = b", "Expected a number or a 'quoted' text after =", 5),
        ("a", "Expected an operator", 2),
        ("a IS 1", "Expected NULL after IS", 6),
        ("", "empty", 1),
        ('"a"" = 1 --" = 1', "No column 'a\" = 1 --'", 1),
    ],
)
def test_bad_predicates_say_what_and_where(where: str, message: str, position: int) -> None:
    with pytest.raises(PredicateError) as raised:
        predicates.parse_where(where, COLUMNS)
    assert message in str(raised.value)
    assert raised.value.position == position


def test_orderby() -> None:
    assert predicates.parse_orderby("a desc, b", COLUMNS) == [("a", True), ("b", False)]
    assert predicates.order_sql([("a", True)]) == '"a" DESC NULLS LAST'
    with pytest.raises(PredicateError, match="No column 'a; DROP'"):
        predicates.parse_orderby('"a; DROP"', COLUMNS)


def test_a_streamed_member_is_parsed_as_it_arrives_and_read_again_as_text_if_its_types_fail(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    monkeypatch.setattr(tables, "BLOCK_BYTES", 64)  # the first block sees numbers only
    data = b"n,t\n" + b"".join(b"%d,x%d\n" % (i, i) for i in range(100)) + b"many,y\n"
    target, spool = tmp_path / "t.parquet", tmp_path / "spool"
    converted = tables.convert_stream(io.BytesIO(data), tables.CSV, target, spool)
    assert converted.rows == 101 and spool.read_bytes() == data
    assert column(converted, "n")["type"] == "string"
    assert pq.read_table(target).column("n").to_pylist()[-1] == "many"
    typed = tables.convert_stream(io.BytesIO(data[: -len(b"many,y\n")]), tables.CSV, target, spool)
    assert column(typed, "n")["type"] == "int64" and typed.rows == 100
    with pytest.raises(tables.ConversionFailed, match="could not be read"):
        tables.convert_stream(io.BytesIO(b'{"x": 1}\nnot json\n'), tables.JSONL, target, spool)


def test_a_mostly_distinct_column_still_names_its_most_frequent_values(tmp_path: Path) -> None:
    data = b"name\n" + b"".join(b"n%d\n" % i for i in range(200)) + b"again\n" * 3
    converted, _ = convert(tmp_path, "t.csv", data, tables.CSV)
    name = column(converted, "name")["statistics"]
    assert name["count"] == 203 and name["top"][0] == {"value": "again", "count": 3}
    assert all(item["count"] == 1 for item in name["top"][1:])


def test_the_distinct_estimate_never_exceeds_the_values(tmp_path: Path) -> None:
    # DuckDB's approx_count_distinct (HyperLogLog) estimates 33 for these 32 different words: the
    # page read "32 values, about 33 distinct".
    data = b"word\n" + b"".join(b"w%d\n" % i for i in range(32))
    converted, _ = convert(tmp_path, "t.csv", data, tables.CSV)
    word = column(converted, "word")["statistics"]
    assert (word["count"], word["distinct"]) == (32, 32)


def test_statistics_computed_as_the_table_is_written_are_those_of_the_written_file(tmp_path: Path) -> None:
    """``write_file`` and ``write_stream`` compute the aggregates on the batches as they are written
    (no second reading of the file); ``describe`` gives with them what a scan of the file gives."""
    import io

    rows = [b"%d,%s,%s,%s,2024-01-%02d,2024-01-02 03:04:%02d,%s" % (
        i, b"" if i % 5 == 0 else b"%d.25" % i, [b"true", b"false"][i % 3 == 0], b"c%d" % (i % 4), 1 + i % 28,
        i % 60, b"again" if i < 3 else b"w%d" % i) for i in range(200)]  # fmt: skip
    data = b"id,score,flag,category,day,at,text\n" + b"\n".join(rows) + b"\n"
    source, target = tmp_path / "t.csv", tmp_path / "t.parquet"
    source.write_bytes(data)
    found = tables.write_file(source, tables.CSV, target)
    assert found is not None and found.rows == 200
    streamed, scanned = tables.describe(target, found), tables.describe(target)
    assert streamed == scanned
    assert [c["type"] for c in streamed.columns] == ["int64", "double", "bool", "string", "date32[day]",
                                                      "timestamp[ms]", "string"]  # fmt: skip
    assert column(streamed, "score")["statistics"]["nulls"] == 40
    assert column(streamed, "at")["statistics"]["max"] == "2024-01-02 03:04:59"
    assert column(streamed, "text")["statistics"]["top"][0] == {"value": "again", "count": 3}
    assert column(streamed, "category")["statistics"]["distinct"] == 4
    again = tables.write_stream(io.BytesIO(data), tables.CSV, target, tmp_path / "spool")
    assert again is not None and tables.describe(target, again) == scanned
    # What describe answers comes from the aggregates given, not from a scan of the file.
    doctored = dataclasses.replace(found, values=(199, *found.values[1:]))
    assert column(tables.describe(target, doctored), "id")["statistics"]["nulls"] == 1


def test_aggregates_of_another_file_are_not_used(tmp_path: Path) -> None:
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    first.write_bytes(b"x\n1\n2\n")
    second.write_bytes(b"x\n5\n6\n7\n")
    found = tables.write_file(first, tables.CSV, tmp_path / "a.parquet")
    tables.write_file(second, tables.CSV, tmp_path / "b.parquet")
    described = tables.describe(tmp_path / "b.parquet", found)
    assert described.rows == 3 and column(described, "x")["statistics"]["max"] == 7
