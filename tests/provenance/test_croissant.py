"""Croissant 1.1 JSON-LD of a published version, checked by MLCommons' own library."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import mlcroissant  # type: ignore[import-untyped]  # ships no py.typed
import pytest
import requests
from django.test import Client
from mlcroissant._src.core import constants as croissant_constants  # type: ignore[import-untyped]
from mlcroissant._src.operation_graph.operations import extract  # type: ignore[import-untyped]

from licensing.access import grants
from licensing.models import DownloadRecord
from marketplace.models import Dataset, Membership, User
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
