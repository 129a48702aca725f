"""Croissant 1.1 JSON-LD of a published version, checked by MLCommons' own library."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import mlcroissant  # type: ignore[import-untyped]  # ships no py.typed
import pandas as pd
import pytest
import requests
from django.test import Client
from mlcroissant._src.core import constants as croissant_constants  # type: ignore[import-untyped]
from mlcroissant._src.operation_graph.operations import extract  # type: ignore[import-untyped]

from licensing.access import grants
from licensing.models import DownloadRecord
from marketplace.models import Dataset, Membership, ParquetExport, User
from marketplace.viewer import exports
from tests.archive_builders import wav_bytes

pytestmark = pytest.mark.django_db(transaction=True)


# mlcroissant 1.1.1 builds its graph with rdflib's deprecated ConjunctiveGraph: their warning, not ours.
@pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")
def test_croissant_describes_the_archive_files_columns_and_consent(publish_real: Any) -> None:
    published = publish_real("Valley Speech", restrictions="No voice cloning.")
    version = published.version
    url = f"/api/v1/datasets/{version.dataset_id}/versions/1/croissant"

    response = Client().get(url)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/ld+json")
    document = response.json()
    files = {item["@id"]: item for item in document["distribution"]}
    archive = files["archive"]
    assert archive["sha256"] == version.sha256
    assert archive["contentUrl"].endswith(f"/api/v1/datasets/{version.dataset_id}/versions/1/files/archive/download")
    assert archive["encodingFormat"] == ["application/x-tar", "application/gzip"]
    assert files["train.tsv"]["encodingFormat"] == "text/tab-separated-values"
    assert files["train.tsv"]["containedIn"] == {"@id": "archive"}
    assert {path: files[path]["sha256"] for path in published.members} == {
        path: hashlib.sha256(data).hexdigest() for path, data in published.members.items()
    }
    [records] = document["recordSet"]
    assert [field["name"] for field in records["field"]] == ["path", "sentence"]
    assert document["rai:dataCollectionTimeframe"] == ["2025-01-01", "2025-06-30"]
    assert "My recordings may train speech models." in document["rai:dataCollection"]
    assert document["rai:dataLimitations"] == "No voice cloning."
    assert document["rai:dataUseCases"] == "ASR."

    # Loads the metadata only (no record is read, so nothing is downloaded); raises on any error.
    dataset = mlcroissant.Dataset(jsonld=document)
    assert dataset.metadata.name == "Valley Speech"
    assert [rs.name for rs in dataset.metadata.record_sets] == ["train.tsv/records"]


def test_croissant_of_a_private_dataset_is_hidden_from_other_organizations(publish_real: Any, make_user: Any) -> None:
    version = publish_real("Secret Speech").version
    Dataset.objects.filter(id=version.dataset_id).update(visibility=Dataset.Visibility.PRIVATE)
    url = f"/api/v1/datasets/{version.dataset_id}/versions/1/croissant"
    outsider, member = Client(), Client()
    outsider.force_login(make_user("outsider"))
    member.force_login(Membership.objects.filter(organization=version.dataset.organization).first().user)

    assert Client().get(url).status_code == 404
    gone = outsider.get(url)
    assert gone.status_code == 404 and set(gone.json()) >= {"error", "message"}
    assert member.get(url).json()["name"] == "Secret Speech"
    assert isinstance(User.objects.get(username="outsider"), User)


CSV_MEMBERS = {
    "metadata.csv": b"path,sentence,speaker\nclips/a.wav,bore da,s-1\nclips/b.wav,nos da,s-2\n",
    "clips/a.wav": b"",  # replaced below: a real WAV, as validation wants
    "README.md": b"# Farm Speech\n",
}


def _licensee_key(version: Any, bearer: Any) -> tuple[User, str]:
    """A user outside the organization who accepted the current terms, and a download key."""
    user, key = bearer("download", "read")
    dataset = Dataset.objects.get(id=version.dataset_id)  # as published: its current version set
    terms = grants.terms_for(dataset=dataset, version=version)
    grants.accept_terms(user=user, dataset=dataset, terms_sha256=terms.sha256, source="api")
    return user, key


def _croissant(published: Any) -> dict[str, Any]:
    """The document as a client reads it from the running server (its URLs name that server)."""
    url = f"{published.base_url}/api/v1/datasets/{published.version.dataset_id}/versions/1/croissant"
    answer = requests.get(url, timeout=30)
    answer.raise_for_status()
    document: dict[str, Any] = answer.json()
    return document


def _publish_csv(publish_real: Any) -> Any:
    members = {**CSV_MEMBERS, "clips/a.wav": wav_bytes(), "clips/b.wav": wav_bytes()}
    return publish_real("Farm Speech", members=members, format="CSV, WAV")


def test_content_url_answers_the_archive_bytes_to_a_plain_get_with_a_key(publish_real: Any, bearer: Any) -> None:
    published = _publish_csv(publish_real)
    version = published.version
    document = _croissant(published)
    content_url = next(item for item in document["distribution"] if item["@id"] == "archive")["contentUrl"]
    user, key = _licensee_key(version, bearer)

    answer = requests.get(content_url, headers={"Authorization": f"Bearer {key}"}, timeout=30)
    basic = requests.get(content_url, auth=("key", key), timeout=30)

    assert answer.status_code == 200 and basic.status_code == 200
    assert hashlib.sha256(answer.content).hexdigest() == version.sha256 == document["distribution"][0]["sha256"]
    assert hashlib.sha256(basic.content).hexdigest() == version.sha256
    assert answer.history[0].status_code == 302 and "X-Amz-Signature" in answer.history[0].headers["Location"]
    # Each GET is a download, recorded with the key as the POST route records it.
    assert DownloadRecord.objects.filter(user=user, version=version, kind="archive", basis="grant").count() == 2


def test_content_url_refuses_without_a_key_and_without_accepted_terms(
    publish_real: Any, bearer: Any, make_user: Any
) -> None:
    version = _publish_csv(publish_real).version
    url = f"/api/v1/datasets/{version.dataset_id}/versions/1/files/archive/download"
    _, stranger_key = bearer("download")
    session = Client()
    session.force_login(make_user("browser-user"))

    nobody = Client().get(url)
    no_terms = Client().get(url, HTTP_AUTHORIZATION=f"Bearer {stranger_key}")
    wrong_password = Client().get(url, HTTP_AUTHORIZATION="Basic a2V5Om5vdC1hLWtleQ==")  # key:not-a-key
    signed_in = session.get(url)

    assert nobody.status_code == 401
    assert no_terms.status_code == 403 and "accept" in no_terms.json()["message"]
    assert wrong_password.status_code == 401
    # A browser's session is no key: another site's link must not record downloads in its name.
    assert signed_in.status_code == 401
    assert not DownloadRecord.objects.filter(version=version).exists()


# mlcroissant 1.1.1 builds its graph with rdflib's deprecated ConjunctiveGraph: their warning, not ours.
@pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")
def test_mlcroissant_iterates_the_records_of_a_csv_inside_the_archive(
    publish_real: Any, bearer: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    published = _publish_csv(publish_real)
    version = published.version
    _, key = _licensee_key(version, bearer)
    # mlcroissant caches by URL under ~/.cache/croissant: a test's own, so no earlier run answers.
    monkeypatch.setattr(croissant_constants, "DOWNLOAD_PATH", tmp_path / "download")
    monkeypatch.setattr(extract, "EXTRACT_PATH", tmp_path / "extract")
    monkeypatch.setenv("CROISSANT_BASIC_AUTH_USERNAME", "key")
    monkeypatch.setenv("CROISSANT_BASIC_AUTH_PASSWORD", key)
    document = _croissant(published)

    dataset = mlcroissant.Dataset(jsonld=document)
    records = list(dataset.records(record_set="metadata.csv/records"))

    assert [{name.rsplit("/", 1)[-1]: value.decode() for name, value in record.items()} for record in records] == [
        {"path": "clips/a.wav", "sentence": "bore da", "speaker": "s-1"},
        {"path": "clips/b.wav", "sentence": "nos da", "speaker": "s-2"},
    ]
    assert DownloadRecord.objects.filter(version=version, kind="archive").count() == 1


TABLE_MEMBERS = {
    "ratings.csv": b"id,score,ok,label\n1,0.5,true,bore da\n2,1.25,false,nos da\n",
    "README.md": b"# Ratings\n",
}


def _publish_exported(publish_real: Any) -> Any:
    """A CSV dataset whose archive's tables the worker has converted to Parquet."""
    published = publish_real("Ratings", members=TABLE_MEMBERS, format="CSV", task="NLP", intendedUsage="Scoring.")
    exports.export_version(version_id=published.version.id)
    archive, _ = exports.version_uploads(published.version)
    assert ParquetExport.objects.get(upload=archive).status == ParquetExport.Status.READY
    return published


# mlcroissant 1.1.1 builds its graph with rdflib's deprecated ConjunctiveGraph, and reads Parquet with
# pandas' deprecated reset_index(inplace=True): their warnings, not ours.
@pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")
@pytest.mark.filterwarnings("ignore:The inplace keyword in DataFrame.reset_index is deprecated")
def test_mlcroissant_iterates_the_records_of_the_parquet_export(
    publish_real: Any, bearer: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    published = _publish_exported(publish_real)
    version = published.version
    _, key = _licensee_key(version, bearer)
    monkeypatch.setattr(croissant_constants, "DOWNLOAD_PATH", tmp_path / "download")
    monkeypatch.setattr(extract, "EXTRACT_PATH", tmp_path / "extract")
    monkeypatch.setenv("CROISSANT_BASIC_AUTH_USERNAME", "key")
    monkeypatch.setenv("CROISSANT_BASIC_AUTH_PASSWORD", key)
    document = _croissant(published)
    files = {item["@id"]: item for item in document["distribution"]}
    parquet = files["parquet/train-00000.parquet"]
    record_sets = {record_set["@id"]: record_set for record_set in document["recordSet"]}
    fields = record_sets["parquet/train-00000.parquet/records"]["field"]

    assert parquet["encodingFormat"] == "application/x-parquet"
    assert (
        parquet["contentUrl"]
        == f"{published.base_url}/api/v1/datasets/{version.dataset_id}/versions/1/viewer/parquet/0"
    )
    assert {field["name"]: field["dataType"] for field in fields} == {
        "id": "sc:Integer", "score": "sc:Float", "ok": "sc:Boolean", "label": "sc:Text",
    }  # fmt: skip
    # The archive's CSV record set stays as it was: text columns read from inside the archive.
    assert [field["dataType"] for field in record_sets["ratings.csv/records"]["field"]] == ["sc:Text"] * 4
    fetched = requests.get(parquet["contentUrl"], auth=("key", key), timeout=30)
    assert fetched.status_code == 200 and fetched.history[0].status_code == 302
    assert hashlib.sha256(fetched.content).hexdigest() == parquet["sha256"]

    dataset = mlcroissant.Dataset(jsonld=document)
    records = list(dataset.records(record_set="parquet/train-00000.parquet/records"))

    assert [{name.rsplit("/", 1)[-1]: value for name, value in record.items()} for record in records] == [
        {"id": 1, "score": 0.5, "ok": True, "label": b"bore da"},
        {"id": 2, "score": 1.25, "ok": False, "label": b"nos da"},
    ]


def test_parquet_content_url_decides_access_as_the_viewer_does(
    publish_real: Any,
    bearer: Any,
    make_user: Any,
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    version = _publish_exported(publish_real).version
    url = f"/api/v1/datasets/{version.dataset_id}/versions/1/viewer/parquet/0"
    _, stranger_key = bearer("read")
    _, licensee_key = _licensee_key(version, bearer)

    # A free public dataset's tables are open to everyone in the viewer, so its Parquet files too.
    assert Client().get(url).status_code == 302
    licensee = Client().get(url, HTTP_AUTHORIZATION=f"Bearer {licensee_key}")
    assert licensee.status_code == 302 and "X-Amz-Signature" in licensee["Location"]
    assert licensee["Cache-Control"] == "no-store"
    assert Client().get(url.replace("/parquet/0", "/parquet/1")).status_code == 404
    # Restricted: the archive's tables only for those approved; others see the sample at most. (Saved
    # as the dataset's settings save it: what the viewer kept of the version goes once it commits.)
    gated = Dataset.objects.get(id=version.dataset_id)
    gated.visibility = Dataset.Visibility.RESTRICTED
    with django_capture_on_commit_callbacks(execute=True):
        gated.save(update_fields=["visibility"])
    refused = Client().get(url, HTTP_AUTHORIZATION=f"Bearer {stranger_key}")

    assert refused.status_code == 403 and set(refused.json()) >= {"error", "message"}
    assert Client().get(url).status_code == 403


def test_pandas_reads_a_csv_datasets_table_from_its_content_url_in_one_call(publish_real: Any, bearer: Any) -> None:
    """What works where the SDK's load_dataset cannot (it asks a schema registry on GitHub first):
    the Parquet file's stable URL, read by pandas with the key, in one call."""
    published = _publish_exported(publish_real)
    _, key = _licensee_key(published.version, bearer)
    url = f"{published.base_url}/api/v1/datasets/{published.version.dataset_id}/versions/1/viewer/parquet/0"

    frame = pd.read_parquet(url, storage_options={"Authorization": f"Bearer {key}"})

    assert frame.to_dict("records") == [
        {"id": 1, "score": 0.5, "ok": True, "label": "bore da"},
        {"id": 2, "score": 1.25, "ok": False, "label": "nos da"},
    ]
