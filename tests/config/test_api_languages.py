"""The API's human-readable error message follows the caller's Accept-Language (LocaleMiddleware);
a client that asks for none, as the SDK and the pipelines do, reads English. The JSON keys and the
status never change with the language."""

from __future__ import annotations

import pytest
from django.test import Client

from marketplace.models import Dataset
from tests.factories import published_dataset

pytestmark = pytest.mark.django_db


def test_a_refusal_of_the_api_comes_back_in_korean_when_asked_and_in_english_without() -> None:
    dataset = published_dataset("valley-speech", name="Valley Speech")
    Dataset.objects.filter(id=dataset.id).update(
        status=Dataset.Status.REMOVED, removed_at=dataset.published_at, removal_reason="A court order."
    )

    korean = Client(HTTP_ACCEPT_LANGUAGE="ko").get("/api/datasets/valley-speech")
    assert korean.status_code == 410 and set(korean.json()) == {"error", "message"}
    assert korean.json()["message"] == "데이터셋 'valley-speech'은(는) 게시 중단되었습니다: A court order."
    assert korean.json()["error"] == korean.json()["message"]

    english = Client().get("/api/datasets/valley-speech")
    assert english.status_code == 410 and set(english.json()) == {"error", "message"}
    assert english.json()["message"] == "Dataset 'valley-speech' was taken down: A court order."


def test_a_missing_dataset_is_refused_in_the_language_asked_for() -> None:
    korean = Client(HTTP_ACCEPT_LANGUAGE="ko").get("/api/datasets/nope")
    assert korean.status_code == 404 and korean.json()["message"] == "ID나 슬러그가 'nope'인 데이터셋이 없습니다."
    spanish = Client(HTTP_ACCEPT_LANGUAGE="es").get("/api/datasets/nope")
    assert spanish.json()["message"] == "No hay ningún conjunto de datos con id o slug «nope»."
    english = Client().get("/api/datasets/nope")
    assert english.status_code == 404 and english.json()["message"] == "No dataset with id or slug 'nope'."
