"""A claim link's refusal in the visitor's language, on the page and from the API; an API client
that asks for no language (the SDK, the pipelines) reads English."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from licensing.contributors import claims
from marketplace.models import Organization, User
from tests.licensing.contributors.test_claims import org  # noqa: F401 (the fixture)

pytestmark = pytest.mark.django_db


def test_a_replaced_link_is_refused_in_korean_on_the_page_and_by_the_api(
    org: Organization,  # noqa: F811
    make_user: Any,
    bearer: Any,
) -> None:
    admin = User.objects.get(username="admin-ann")
    _, replaced = claims.issue_claim(
        organization=org, by=admin, contributor_id="c-1", claim_url=lambda t: f"http://testserver/claim/{t}/"
    )
    claims.issue_claim(organization=org, by=admin, contributor_id="c-1", claim_url=lambda t: t)
    person, key = bearer("upload")

    page = Client()
    page.force_login(person)
    page.cookies["django_language"] = "ko"
    answer = page.post(replaced.removeprefix("http://testserver"))
    assert answer.status_code == 410
    body = answer.content.decode()
    assert "조직이 이 연결 링크를 교체하거나 취소했습니다" in body and '<html lang="ko">' in body

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    token = replaced.rstrip("/").rsplit("/", 1)[1]
    refused = api.post("/api/v1/claims/accept", {"token": token}, format="json", HTTP_ACCEPT_LANGUAGE="ko")
    assert refused.status_code == 400
    assert "조직이 이 연결 링크를 교체하거나 취소했습니다" in refused.json()["message"]
    in_english = api.post("/api/v1/claims/accept", {"token": token}, format="json")
    assert in_english.status_code == 400
    assert "replaced or cancelled by the organization" in in_english.json()["message"]
