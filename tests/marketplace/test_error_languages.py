"""Error pages and the API's error messages speak the language the caller asks for; a client that
asks for none (the SDK, the pipelines) reads English."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_a_missing_page_and_a_missing_api_route_answer_in_korean() -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="ko")
    page = client.get("/no-such-page/")
    assert page.status_code == 404
    body = page.content.decode()
    assert '<html lang="ko">' in body and "찾을 수 없음" in body and "/no-such-page/에 게시된 것이 없습니다." in body
    assert "첫 페이지로 돌아가기" in body

    api = client.get("/api/v1/no-such-route")
    assert api.status_code == 404 and api.json()["message"] == "/api/v1/no-such-route에 게시된 것이 없습니다."
    plain = Client().get("/api/v1/no-such-route")
    assert plain.json()["message"] == "Nothing is published at /api/v1/no-such-route."


def test_the_viewer_api_answers_in_spanish_when_asked_and_in_english_otherwise() -> None:
    answer = Client(HTTP_ACCEPT_LANGUAGE="es").get("/api/v1/datasets/nope/versions/1/viewer/splits")
    assert answer.status_code == 404
    assert "No hay ningún conjunto de datos con id «nope»." in answer.json()["message"]
    plain = Client().get("/api/v1/datasets/nope/versions/1/viewer/splits")
    assert plain.status_code == 404 and "No dataset with id 'nope'." in plain.json()["message"]
