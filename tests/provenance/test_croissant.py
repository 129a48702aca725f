"""Croissant 1.1 JSON-LD of a published version, checked by MLCommons' own library."""

from __future__ import annotations

import hashlib
from typing import Any

import mlcroissant  # type: ignore[import-untyped]  # ships no py.typed
import pytest
from django.test import Client

from marketplace.models import Dataset, Membership, User

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
