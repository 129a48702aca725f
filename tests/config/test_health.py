"""/healthz answers 200 when database, storage and broker answer, else 503 naming the part."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connections
from django.test import Client, override_settings

from devstack.services import free_port


def test_all_parts_ok(client: Client, db: None) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "storage": "ok", "broker": "ok"}


@pytest.fixture
def database_down(db: None) -> Iterator[None]:
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
