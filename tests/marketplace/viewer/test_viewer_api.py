"""The viewer API in the realistic world (tests/world.py): real exports in real storage, DuckDB
over them; who sees the archive and who the sample; and outside clients (pandas, Hugging Face
``datasets``, DuckDB) reading the Parquet links."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import duckdb
import pandas as pd
import pytest
import requests
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from licensing.consent.withdrawals import withdraw_consent
from licensing.revenue import payments
from marketplace.models import Dataset, ParquetExport
from marketplace.publishing import takedown_dataset
from tests.world import World

pytestmark = pytest.mark.django_db


def viewer(world: World, handle: str, route: str, person: str | None, query: str | dict[str, str] = "",
           number: int = 1) -> Any:  # fmt: skip
    dataset = world.datasets[handle]
    headers = {"Authorization": f"Bearer {world.key(person)}"} if person else {}
    encoded = urlencode(query) if isinstance(query, dict) else query
    url = f"/api/v1/datasets/{dataset.id}/versions/{number}/viewer/{route}" + (f"?{encoded}" if encoded else "")
    return Client().get(url, headers=headers)


def test_every_published_version_of_the_world_has_its_tables_exported(world: World) -> None:
    export = ParquetExport.objects.get(upload__submission__version__dataset=world.datasets["north-corpus"],
                                       upload__kind="archive")  # fmt: skip
    assert export.status == "ready"
    assert {t["path"] for t in export.tables} == {"notes.jsonl", "labels.csv"}
    notes = next(t for t in export.tables if t["path"] == "notes.jsonl")
    assert notes["rows"] == 5 and notes["split"] == "train"
    assert [(c["name"], c["type"]) for c in notes["columns"]] == [("id", "int64"), ("text", "string")]
    assert notes["columns"][0]["statistics"] == {"count": 5, "nulls": 0, "min": 0, "max": 4, "mean": 2.0}


def test_rows_page_through_a_free_public_dataset_for_anyone(world: World) -> None:
    answer = viewer(world, "north-corpus", "rows", None, "split=train&offset=2&length=2")
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["source"] == "archive" and body["num_rows_total"] == 7  # 5 notes and 2 labels, by column name
    assert [row["row_idx"] for row in body["rows"]] == [2, 3]
    whole = viewer(world, "north-corpus", "rows", None, "split=train").json()["rows"]
    assert [row["row"] for row in body["rows"]] == [row["row"] for row in whole[2:4]]
    assert sorted(row["row"]["text"] for row in whole if row["row"]["text"]) == [f"note {i} of web" for i in range(5)]
    assert {f["name"] for f in body["features"]} == {"id", "text", "label"}
    assert viewer(world, "north-corpus", "rows", None, "split=train&length=101").status_code == 400
    assert viewer(world, "north-corpus", "rows", None, "split=nope").json()["message"].startswith("No split 'nope'")


def test_search_filter_and_order(world: World) -> None:
    found = viewer(world, "north-corpus", "search", None, "split=train&query=NOTE 3").json()
    assert [row["row"]["id"] for row in found["rows"]] == [3] and found["num_rows_total"] == 1
    wild = viewer(world, "north-corpus", "search", None, "split=train&query=%25").json()
    assert wild["num_rows_total"] == 0  # % is a character to find, not a wildcard
    where = "(id >= 1 AND text IS NOT NULL) OR label = 'b'"
    page = viewer(world, "north-corpus", "filter", None, {"split": "train", "where": where, "orderby": "id DESC"})
    body = page.json()
    assert [row["row"]["id"] for row in body["rows"]] == [4, 3, 2, 1, 1]
    assert body["num_rows_total"] == 5
    # An ordered page counts its matches in its own scan; past the last match the count still holds.
    beyond = viewer(world, "north-corpus", "filter", None,
                    {"split": "train", "where": where, "orderby": "id DESC", "offset": "10"}).json()  # fmt: skip
    assert beyond["rows"] == [] and beyond["num_rows_total"] == 5
    one = {"split": "train", "where": where, "orderby": "id", "offset": "3", "length": "1"}
    second = viewer(world, "north-corpus", "filter", None, one).json()
    assert [row["row_idx"] for row in second["rows"]] == [3] and second["num_rows_total"] == 5


@pytest.mark.parametrize(
    ("where", "said"),
    [
        ("id = 1; DROP TABLE x", "Unexpected character ';' (at character 7)"),
        ("text = 'it''s' OR nope = 1", "No column 'nope'"),
        ("id = 'abc'", "does not fit"),
    ],
)
def test_a_bad_filter_is_a_400_in_the_users_words(world: World, where: str, said: str) -> None:
    answer = viewer(world, "north-corpus", "filter", None, {"split": "train", "where": where})
    assert answer.status_code == 400
    assert said in answer.json()["message"]


def test_statistics_and_splits(world: World) -> None:
    assert viewer(world, "valley-speech", "splits", None).status_code == 410  # consent withdrawn from version 1
    splits = viewer(world, "valley-speech", "splits", None, number=3).json()
    assert [(s["split"], s["num_rows"]) for s in splits["splits"]] == [("train", 6)]
    stats = viewer(world, "valley-speech", "statistics", None, "split=train", number=3).json()
    by_name = {s["column_name"]: s for s in stats["statistics"]}
    assert by_name["contributor_id"]["column_statistics"]["distinct"] == 6
    assert by_name["path"]["column_statistics"]["nulls"] == 0
    assert stats["num_examples"] == 6


def test_a_paid_dataset_shows_its_sample_until_paid(world: World) -> None:
    before = viewer(world, "north-paid", "rows", "licensee", "split=train").json()
    assert before["source"] == "sample", before
    assert {row["row"].get("text") for row in before["rows"]} >= {"note 0 of news-sample"}
    assert viewer(world, "north-paid", "rows", "north.member", "split=train").json()["source"] == "archive"
    assert viewer(world, "north-paid", "rows", None, "split=train").json()["source"] == "sample"
    invoice, _ = payments.open_invoice(user=world.people["licensee"], dataset=world.datasets["north-paid"])
    payments.record_payment(invoice_id=invoice.id, recorded_by=world.member("north", "admin"), reference="T-9")
    paid = viewer(world, "north-paid", "rows", "licensee", "split=train").json()
    assert paid["source"] == "archive"  # the payment carries the grant of the terms shown on the invoice
    assert {row["row"].get("text") for row in paid["rows"]} >= {"note 0 of news"}
    # A paid dataset without a sample refuses, saying why.
    refused = viewer(world, "valley-paid", "rows", "licensee", "split=train")
    assert refused.status_code == 403 and "no sample" in refused.json()["message"]
    assert viewer(world, "valley-paid", "rows", "buyer", "split=train").json()["source"] == "archive"


def test_a_page_asked_again_is_the_same_and_who_may_read_it_is_decided_each_time(
    world: World,
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    """A page read once is kept for the next who asks the same of the same tables (marketplace.viewer
    .api._answer); who may read it is not: a member's archive page is not a licensee's sample page,
    and a takedown refuses a page read a moment before (viewer.access keeps what it read of the
    version until the catalog changes, and the takedown changes it once it commits)."""
    asked = {"split": "train", "offset": "1", "length": "3"}
    member = viewer(world, "north-paid", "rows", "north.member", asked).json()
    assert member["source"] == "archive"
    assert viewer(world, "north-paid", "rows", "north.member", asked).json() == member
    licensee = viewer(world, "north-paid", "rows", "licensee", asked).json()
    assert licensee["source"] == "sample" and licensee["rows"] != member["rows"]
    sample_texts = {f"note {i} of news-sample" for i in range(9)} | {None}
    assert {row["row"].get("text") for row in licensee["rows"]} <= sample_texts

    searched = viewer(world, "north-corpus", "search", None, "split=train&query=note 3").json()
    assert [row["row"]["id"] for row in searched["rows"]] == [3]
    # A copy of its own: the world's objects are shared by the session's tests (the row is rolled back).
    corpus = Dataset.objects.get(id=world.datasets["north-corpus"].id)
    with django_capture_on_commit_callbacks(execute=True):
        takedown_dataset(dataset=corpus, reason="A court order.", by=world.people["staff"])
    gone = viewer(world, "north-corpus", "search", None, "split=train&query=note 3")
    assert gone.status_code == 410 and "court order" in gone.json()["message"].lower()


def test_what_the_viewer_read_of_a_version_is_kept_until_consent_to_it_is_withdrawn(
    world: World,
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    """What every caller's request reads first (the version, its dataset, whether it is withdrawn,
    its tables) is the same for everyone who may see it: read once, then kept until the catalog
    changes (viewer.access._published_to_everyone). A withdrawal of consent is such a change: the
    version is gone for the next request, the kept page of its rows included."""
    asked = "split=train&offset=0&length=2"
    first = viewer(world, "north-corpus", "rows", None, asked)
    assert first.status_code == 200, first.content
    with CaptureQueriesContext(connection) as queries:
        again = viewer(world, "north-corpus", "rows", "licensee", asked)
    assert again.json()["rows"] == first.json()["rows"]
    read = [q["sql"] for q in queries if "marketplace_datasetversion" in q["sql"]]
    assert read == [], "a signed-in caller's request did not read the version again"

    corpus = Dataset.objects.get(id=world.datasets["north-corpus"].id)
    with django_capture_on_commit_callbacks(execute=True):
        withdraw_consent(by=world.member("north", "owner"), dataset=corpus, version_number=1,
                         record_ids=["note-3"], reason="I no longer agree.")  # fmt: skip
    for person in (None, "licensee"):
        gone = viewer(world, "north-corpus", "rows", person, asked)
        assert gone.status_code == 410, (person, gone.content)
        assert "withdrawn" in gone.json()["message"].lower()


def test_private_datasets_stay_unknown_to_outsiders(world: World) -> None:
    assert viewer(world, "valley-private", "splits", "licensee").status_code == 404
    assert viewer(world, "valley-private", "splits", "valley.member").status_code == 200


def test_each_refusal_says_what_is_missing(world: World) -> None:
    """The viewer reads a version, its dataset and its export in two queries; what it cannot find
    is still told apart: a takedown, an unknown dataset, a version never published, a conversion
    still running or failed."""
    removed = viewer(world, "north-removed", "splits", None)
    assert removed.status_code == 410 and "court order" in removed.json()["message"]
    unknown = Client().get("/api/v1/datasets/nosuchdataset/versions/1/viewer/splits")
    assert unknown.status_code == 404 and "No dataset with id 'nosuchdataset'" in unknown.json()["message"]
    missing = viewer(world, "north-corpus", "splits", None, number=9)
    assert missing.status_code == 404 and "has no published version 9" in missing.json()["message"]
    export = ParquetExport.objects.get(upload__submission__version__dataset=world.datasets["north-corpus"],
                                       upload__kind="archive")  # fmt: skip
    ParquetExport.objects.filter(id=export.id).update(status="pending")
    pending = viewer(world, "north-corpus", "rows", None, "split=train")
    assert pending.status_code == 409 and "being converted" in pending.json()["message"]
    assert int(pending.headers["Retry-After"]) > 0
    ParquetExport.objects.filter(id=export.id).update(status="failed", error="The CSV has no header.")
    failed = viewer(world, "north-corpus", "rows", None, "split=train")
    assert failed.status_code == 404 and "could not be converted: The CSV has no header." in failed.json()["message"]


def test_pandas_datasets_and_duckdb_read_the_parquet_links(world: World, tmp_path: Path) -> None:
    answer = viewer(world, "north-corpus", "parquet", None)
    assert answer.status_code == 200
    files = answer.json()["parquet_files"]
    notes = next(f for f in files if f["path"] == "notes.jsonl")
    frame = pd.read_parquet(notes["url"])  # pandas fetches the presigned link itself (fsspec, HTTP)
    assert frame["text"].tolist() == [f"note {i} of web" for i in range(5)]
    local = tmp_path / notes["filename"]
    local.write_bytes(requests.get(notes["url"], timeout=30).content)
    import datasets  # type: ignore[import-untyped]

    loaded = datasets.load_dataset("parquet", data_files={"train": str(local)}, cache_dir=str(tmp_path / "hf"))
    assert loaded["train"].num_rows == 5 and loaded["train"][4]["text"] == "note 4 of web"
    # DuckDB reads HTTP only through its httpfs extension, downloaded at run time: the fetched file.
    assert duckdb.connect().execute("SELECT max(id) FROM read_parquet(?)", [str(local)]).fetchone() == (4,)
