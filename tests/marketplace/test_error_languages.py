"""Error pages speak the visitor's language; what the API answers stays English (the SDK and the
pipelines read it), whatever language the caller asks for."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_a_missing_page_answers_in_korean_and_the_api_in_english() -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="ko")
    page = client.get("/no-such-page/")
    assert page.status_code == 404
    body = page.content.decode()
    assert '<html lang="ko">' in body and "찾을 수 없음" in body and "/no-such-page/에 게시된 것이 없습니다." in body
    assert "첫 페이지로 돌아가기" in body

    api = client.get("/api/v1/no-such-route")
    assert api.status_code == 404 and api.json()["message"] == "Nothing is published at /api/v1/no-such-route."


def test_the_viewer_api_answers_in_english_when_asked_in_spanish() -> None:
    answer = Client(HTTP_ACCEPT_LANGUAGE="es").get("/api/v1/datasets/nope/versions/1/viewer/splits")
    assert answer.status_code == 404
    assert "No dataset with id 'nope'." in answer.content.decode()
