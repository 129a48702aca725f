"""/healthz answers 200 when database, storage and broker answer, else 503 naming the part; pages
and the API answer 503 with Retry-After while the database is down."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.db import connections
from django.test import Client, override_settings

from devstack.services import free_port
from marketplace.models import User


def test_all_parts_ok(client: Client, db: None) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "storage": "ok", "broker": "ok"}


@pytest.fixture
def database_down(db: None) -> Iterator[None]:
    with database_unreachable():
        yield


@contextmanager
def database_unreachable() -> Iterator[None]:
    connection = connections["default"]
    original = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = str(free_port())  # nothing listens there
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict["PORT"] = original


@pytest.mark.django_db(transaction=True)
def test_database_down(client: Client, database_down: None) -> None:
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["database"] == "error: OperationalError"
    assert body["storage"] == "ok"
    assert body["broker"] == "ok"


def test_storage_down(client: Client, db: None) -> None:
    with override_settings(S3_ENDPOINT_URL=f"http://127.0.0.1:{free_port()}", S3_CONNECT_TIMEOUT=1):
        response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["storage"].startswith("error:")
    assert (body["database"], body["broker"]) == ("ok", "ok")


def test_storage_with_wrong_keys_is_down(client: Client, db: None) -> None:
    with override_settings(S3_SECRET_ACCESS_KEY="not-the-secret"):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["storage"] == "error: StorageError (HTTP 403)"


@pytest.mark.parametrize("broker", ["amqp://guest:guest@127.0.0.1:{port}//", "redis://127.0.0.1:{port}/0"])
def test_network_broker_down(client: Client, db: None, broker: str) -> None:
    with override_settings(CELERY_BROKER_URL=broker.format(port=free_port())):
        response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["broker"].startswith("error:")
    assert (body["database"], body["storage"]) == ("ok", "ok")


def test_filesystem_broker_folder_missing(
    client: Client, db: None, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    gone = str(tmp_path / "gone")
    with override_settings(CELERY_BROKER_URL="filesystem://", CELERY_BROKER_DIR=gone):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["broker"] == "error: OSError"
    assert gone not in response.content.decode()  # a public page names no folder or host
    assert f"broker folder {gone} is missing" in caplog.text  # the operator's log does


PAGE_MESSAGE = "The database cannot be reached right now. Please try again in a minute."


@pytest.mark.django_db(transaction=True)
def test_pages_and_api_answer_503_while_the_database_is_down(client: Client, make_user: Callable[..., User]) -> None:
    client.force_login(make_user("ada"))  # the session and the user live in the database that goes down
    with database_unreachable():
        for path in ("/", "/datasets/", "/account/"):
            response = client.get(path)
            assert response.status_code == 503, path
            assert response["Retry-After"] == "30"
            html = response.content.decode()
            assert PAGE_MESSAGE in html and "<h1>Temporarily unavailable</h1>" in html
            assert "OperationalError" not in html and "Traceback" not in html
        api = client.get("/api/datasets")
        assert api.status_code == 503 and api["Retry-After"] == "30"
        assert api.json()["error"] == "The database cannot be reached right now. Retry in a minute."
    assert client.get("/account/").status_code == 200  # back, with the same session, no restart


@pytest.mark.django_db(transaction=True)
def test_the_unavailable_page_speaks_the_visitors_language(client: Client) -> None:
    with database_unreachable():
        response = client.get("/datasets/", headers={"accept-language": "ko"})
    assert response.status_code == 503
    page = response.content.decode()
    assert "<h1>잠시 이용할 수 없습니다</h1>" in page and '<html lang="ko">' in page
    assert "지금은 데이터베이스에 연결할 수 없습니다." in page
