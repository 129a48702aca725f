"""The API's one JSON parser: deep nesting and lone surrogates are a 400 that says what is wrong,
where they were a RecursionError and a UnicodeEncodeError at the INSERT (500s), and nothing is
written."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from licensing.models import AccessRequest
from marketplace.models import Dataset, Submission, User
from marketplace.organizations.services import approve_organization
from tests.factories import organization, published_dataset

pytestmark = pytest.mark.django_db


@pytest.fixture
def caller(bearer: Callable[..., tuple[User, str]]) -> tuple[User, APIClient]:
    user, key = bearer("read", "download", "upload")
    approve_organization(organization=organization("parser-lab", owner=user))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return user, client


def writes(dataset_id: str) -> list[tuple[str, str]]:
    return [
        ("post", "/api/submissions"),
        ("post", f"/api/v1/datasets/{dataset_id}/access-requests"),
        ("post", f"/api/v1/datasets/{dataset_id}/grants"),
        ("post", "/api/uploads"),
    ]


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_deep_nesting_is_refused_on_every_json_write(caller: tuple[User, APIClient], depth: int) -> None:
    _, client = caller
    gated = published_dataset("parser-gated", visibility=Dataset.Visibility.RESTRICTED)
    for body in ("[" * depth + "]" * depth, '{"name": ' + "[" * depth + "]" * depth + "}", "[" * depth):
        for method, path in writes(gated.id):
            response = getattr(client, method)(path, body, content_type="application/json")
            assert response.status_code == 400, (path, response.content[:200])
            assert "more than 32 levels deep" in response.json()["message"]
    assert not Submission.objects.exists() and not AccessRequest.objects.exists()


def test_brackets_inside_strings_do_not_count_as_nesting(caller: tuple[User, APIClient]) -> None:
    _, client = caller
    name = '[[[{{{"' * 25 + "\\ ]]]"
    response = client.post("/api/submissions", json.dumps({"name": name}), content_type="application/json")
    assert response.status_code == 200, response.content
    assert Submission.objects.get().name.startswith('[[[{{{"')


@pytest.mark.parametrize("escaped", ["\\ud800", "\\udfff", "x\\ud83d", "\\ude00y"])
def test_a_lone_surrogate_is_refused_with_a_clear_message(caller: tuple[User, APIClient], escaped: str) -> None:
    _, client = caller
    gated = published_dataset("parser-gated", visibility=Dataset.Visibility.RESTRICTED)
    response = client.post("/api/submissions", f'{{"name": "Speech {escaped}"}}', content_type="application/json")
    assert response.status_code == 400
    assert "surrogate pair without its other half" in response.json()["message"]
    body = f'{{"fullName": "Ada {escaped}", "organization": "Uni", "intendedUse": "Research."}}'
    response = client.post(f"/api/v1/datasets/{gated.id}/access-requests", body, content_type="application/json")
    assert response.status_code == 400
    # In a key too.
    response = client.post("/api/submissions", f'{{"name": "ok", "{escaped}": 1}}', content_type="application/json")
    assert response.status_code == 400
    assert not Submission.objects.exists() and not AccessRequest.objects.exists()


def test_a_whole_surrogate_pair_is_a_character_and_is_kept(caller: tuple[User, APIClient]) -> None:
    _, client = caller
    response = client.post("/api/submissions", '{"name": "Speech \\ud83d\\ude00"}', content_type="application/json")
    assert response.status_code == 200, response.content
    assert Submission.objects.get().name == "Speech \U0001f600"


def test_a_body_that_is_not_utf8_says_so(caller: tuple[User, APIClient]) -> None:
    _, client = caller
    response = client.post("/api/submissions", b'{"name": "\xff"}', content_type="application/json")
    assert response.status_code == 400
    assert "not valid UTF-8" in response.json()["message"]
