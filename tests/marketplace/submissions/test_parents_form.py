"""Lineage on the submission page: the parents field takes one dataset version per line (page
address, slug or id, then the version) and saves them through provenance.lineage.set_parents."""

from __future__ import annotations

import pytest
from django.test import Client

from marketplace.catalog.references import dataset_key
from marketplace.models import Membership
from marketplace.organizations.services import approve_organization
from marketplace.submissions import drafts
from tests.factories import organization, published_dataset

pytestmark = pytest.mark.django_db


def test_dataset_references_from_addresses_slugs_and_ids() -> None:
    assert dataset_key("https://data.example.org/datasets/valley-speech/") == "valley-speech"
    assert dataset_key("https://data.example.org/datasets/valley-speech/versions/2/changes/1/") == "valley-speech"
    assert dataset_key("/datasets/valley-speech") == "valley-speech"
    assert dataset_key("  cabc123  ") == "cabc123"


def test_a_contributor_declares_parents_in_the_form_with_clear_errors(client: Client, make_user) -> None:  # type: ignore[no-untyped-def]
    org = approve_organization(organization=organization("speech-co"))
    parent = published_dataset("valley-speech", org=org, name="Valley Speech")
    other = published_dataset("harbor-notes", org=organization("harbor"), name="Harbor Notes")
    hidden = published_dataset("hidden", org=organization("other-co"), visibility="private")
    author = make_user()
    Membership.objects.create(organization=org, user=author, role="member")
    draft = drafts.create_submission(user=author, name="Derived Speech")
    client.force_login(author)
    url = f"/submissions/{draft.id}/parents/"

    saved = client.post(url, {"parents": f"https://data.example.org/datasets/valley-speech/ v1\n{other.id}, 1\n"})
    assert saved.status_code == 302 and saved["Location"].endswith("#lineage")
    assert {v.dataset_id for v in draft.parents.all()} == {parent.id, other.id}
    page = client.get(f"/submissions/{draft.id}/").content.decode()
    assert 'id="declared-parents"' in page and "Valley Speech" in page
    assert "valley-speech 1" in page  # the field shows what is saved

    no_version = client.post(url, {"parents": "valley-speech"})
    assert no_version.status_code == 400
    assert "Line 1 (“valley-speech”): give the dataset, then the version number" in no_version.content.decode()
    unknown = client.post(url, {"parents": f"{hidden.id} 1"})
    assert unknown.status_code == 400
    assert f"no published version 1 of a dataset &#x27;{hidden.id}&#x27; you can see" in unknown.content.decode()
    assert draft.parents.count() == 2  # refusals change nothing

    assert client.post(url, {"parents": ""}).status_code == 302
    assert draft.parents.count() == 0
