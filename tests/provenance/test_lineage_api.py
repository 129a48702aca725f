"""Lineage through the API (``PUT /api/v1/submissions/{id}/parents``) and on the dataset page."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from marketplace.models import Membership, Organization, Submission
from marketplace.submissions import drafts
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


def test_parents_api_sets_by_slug_and_refuses_unknown_private_and_self(publish_real: Any, bearer: Any) -> None:
    parent = publish_real("Valley Speech").version
    hidden = factories.published_dataset("hidden-notes", org=factories.organization("other-co"), visibility="private")
    author, key = bearer("upload")
    Membership.objects.create(organization=Organization.objects.get(slug="speech-co"), user=author, role="member")
    draft = drafts.create_submission(user=author, name="Derived Speech")
    client = APIClient(HTTP_AUTHORIZATION=f"Bearer {key}")
    url = f"/api/v1/submissions/{draft.id}/parents"

    def put(parents: Any) -> Any:
        return client.put(url, {"parents": parents}, format="json")

    done = put([{"dataset": parent.dataset.slug, "version": 1}])
    assert done.status_code == 200, done.content
    expected = {"dataset": parent.dataset_id, "slug": parent.dataset.slug, "name": "Valley Speech", "version": 1,
                "archiveSha256": parent.sha256}  # fmt: skip
    assert done.json()["parents"] == [expected]
    assert list(draft.parents.all()) == [parent]

    unknown = put([{"dataset": "nope", "version": 1}])
    private = put([{"dataset": hidden.id, "version": 1}])
    for refused, key_text in ((unknown, "'nope'"), (private, f"'{hidden.id}'")):
        assert refused.status_code == 400
        assert refused.json()["message"] == f"parent 1: no published version 1 of a dataset {key_text} you can see."
        assert refused.json()["error"]
    assert put([{"dataset": parent.dataset_id, "version": 2}]).status_code == 400
    assert "listed twice" in put([{"dataset": parent.dataset_id, "version": 1}] * 2).json()["message"]
    assert "give {" in put(["Valley Speech"]).json()["message"]

    Submission.objects.filter(id=draft.id).update(dataset=parent.dataset)  # a new version of the parent itself
    itself = put([{"dataset": parent.dataset_id, "version": 1}])
    assert itself.status_code == 400 and "cannot be its own parent" in itself.json()["message"]
    assert list(draft.parents.all()) == [parent]  # refusals change nothing


def test_dataset_page_draws_parents_and_children(publish_real: Any) -> None:
    parent = publish_real("Valley Speech").version
    child = publish_real("Valley Speech Cleaned", parents=[{"dataset": parent.dataset_id, "version": 1}]).version

    parent_page = Client().get(f"/datasets/{parent.dataset.slug}/").content.decode()
    child_page = Client().get(f"/datasets/{child.dataset.slug}/").content.decode()

    child_link = f'<a href="/datasets/{child.dataset.slug}/">Valley Speech Cleaned</a> v1'
    parent_link = f'<a href="/datasets/{parent.dataset.slug}/">Valley Speech</a> v1'
    assert child_link in parent_page and parent_link not in parent_page.split('id="lineage"')[1]
    assert parent_link in child_page and "No dataset derives from it yet." in child_page
    assert "<script>" not in child_page.split('id="lineage"')[1]
