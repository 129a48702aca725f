"""Downloads through the official SDK, unmodified, against a live server and real storage (E4-E6).

The interrupted download is a real network failure: storage is reached through a TCP relay
(``S3_PUBLIC_ENDPOINT_URL``, the setting for clients that reach storage under another address)
that cuts the first connection after a number of response bytes. The only thing faked is the
external schema registry (X1) of ``load_dataset``, served from a local HTTP server.
"""

from __future__ import annotations

import hashlib
import http.server
import inspect
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import datacollective
import datacollective.schema
import pytest
from datacollective.errors import AuthenticationError, DownloadError, ResourceRemovedError
from django.conf import settings as django_settings
from requests import HTTPError

from licensing.access import grants
from licensing.access.grants import accept_terms, terms_for
from licensing.consent.withdrawals import withdraw_consent
from licensing.models import DownloadRecord
from marketplace.models import Dataset, Membership, User
from tests.factories import organization, stored_dataset, tar_gz
from tests.relay import StorageRelay

pytestmark = pytest.mark.django_db(transaction=True)
MiB = 1024 * 1024


@pytest.fixture
def sdk_key(live_server: Any, monkeypatch: pytest.MonkeyPatch, bearer: Any) -> tuple[User, str]:
    user, key = bearer("read", "download")
    monkeypatch.setenv("MDC_API_URL", f"{live_server.url}/api")
    monkeypatch.setenv("MDC_API_KEY", key)
    return user, key


def _grant(user: User, dataset: Dataset) -> None:
    terms = terms_for(dataset=dataset, version=grants.current_version(dataset))
    accept_terms(user=user, dataset=dataset, terms_sha256=terms.sha256, source="api")


@pytest.fixture
def relay(settings: Any) -> Iterator[StorageRelay]:
    cutter = StorageRelay(django_settings.S3_ENDPOINT_URL, cut_first_after=1 * MiB).open()
    settings.S3_PUBLIC_ENDPOINT_URL = cutter.url
    yield cutter
    cutter.close()


def test_download_interrupted_then_resumed_with_range(
    sdk_key: tuple[User, str], relay: StorageRelay, tmp_path: Path
) -> None:
    user, _ = sdk_key
    data = hashlib.sha256(b"seed").digest() * (3 * MiB // 32)  # 3 MiB, incompressible enough
    dataset = stored_dataset("resumable", data)
    _grant(user, dataset)
    checksum = hashlib.sha256(data).hexdigest()

    with pytest.raises(DownloadError):
        datacollective.download_dataset(dataset.id, str(tmp_path), show_progress=False)
    part = tmp_path / f"{dataset.current_version.filename}.part"
    assert 0 < part.stat().st_size < len(data)
    assert (tmp_path / f"{dataset.current_version.filename}.checksum").read_text() == checksum
    already = part.stat().st_size

    path = datacollective.download_dataset(dataset.id, str(tmp_path), show_progress=False)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == checksum
    assert f"range: bytes={already}-".encode() in relay.requests[-1].lower()
    assert b"range:" not in relay.requests[0].lower()
    # Each attempt asked for a new URL, and each is on record with the grant.
    records = DownloadRecord.objects.filter(user=user, dataset=dataset)
    assert [r.basis for r in records] == ["grant", "grant"]


def test_sample_and_error_paths(sdk_key: tuple[User, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    user, _ = sdk_key
    sample = tar_gz({"train.tsv": b"path\tsentence\n"})
    free = stored_dataset("with-sample", tar_gz({"a.txt": b"a"}), sample=sample)
    path = datacollective.download_sample(free.id, str(tmp_path), show_progress=False)
    assert path.read_bytes() == sample and path.name == free.current_version.sample_filename
    assert DownloadRecord.objects.get(user=user, kind="sample").basis == "sample"

    with pytest.raises(PermissionError, match="accept them at"):
        datacollective.download_dataset(free.id, str(tmp_path), show_progress=False)
    paid = stored_dataset("paid-one", tar_gz({"a.txt": b"b"}), is_paid=True, base_price_cents=20_000)
    with pytest.raises(HTTPError, match="402"):
        datacollective.download_dataset(paid.id, str(tmp_path), show_progress=False)

    other_org = organization("elsewhere")
    private = stored_dataset("their-private", tar_gz({"a.txt": b"c"}), org=other_org, visibility="private")
    with pytest.raises(FileNotFoundError):
        datacollective.download_dataset(private.id, str(tmp_path), show_progress=False)
    Membership.objects.create(organization=other_org, user=user, role="member")
    assert datacollective.download_dataset(private.id, str(tmp_path), show_progress=False).exists()

    _grant(user, free)
    withdraw_consent(by=other_org.memberships.get(role="owner").user, dataset=private, version_number=1,
                     record_ids=["r1"])  # fmt: skip
    with pytest.raises(ResourceRemovedError, match="withdrawn"):
        datacollective.download_dataset(private.id, str(tmp_path), show_progress=False, overwrite_existing=True)

    monkeypatch.setenv("MDC_API_KEY", "dck_not-a-key")
    with pytest.raises(AuthenticationError):
        datacollective.download_dataset(free.id, str(tmp_path), show_progress=False)


SCHEMA = """dataset_id: {id}
task: ASR
root_strategy: index
index_file: train.tsv
base_audio_path: clips/
columns:
  audio_path: {{source_column: path, dtype: file_path}}
  transcription: {{source_column: sentence}}
"""


def test_load_dataset_asks_a_registry_on_github_that_no_instance_can_serve(monkeypatch: pytest.MonkeyPatch) -> None:
    """Why load_dataset needs the stand-in below: the SDK's registry is a constant, not derived from
    MDC_API_URL (README, "The SDK's load_dataset and what works instead"). When a release derives
    it from the API URL, this fails, and the instance can serve the schema itself."""
    monkeypatch.setenv("MDC_API_URL", "http://instance.invalid/api")
    registry = "https://raw.githubusercontent.com/Mozilla-Data-Collective/dataset-schema-registry"
    assert datacollective.schema.SCHEMA_REGISTRY_RAW_BASE_URL == registry
    assert "MDC_API_URL" not in inspect.getsource(datacollective.schema._get_dataset_schema)


@pytest.fixture
def schema_registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """A local stand-in for the external schema registry (X1): ``schemas[id]`` is served at
    ``/main/registry/{id}/schema.yaml``."""
    schemas: dict[str, str] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server API
            parts = self.path.strip("/").split("/")
            body = schemas.get(parts[2]) if len(parts) == 4 and parts[:2] == ["main", "registry"] else None
            self.send_response(200 if body else 404)
            self.end_headers()
            self.wfile.write((body or "not found").encode())

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setattr(datacollective.schema, "SCHEMA_REGISTRY_RAW_BASE_URL", f"http://127.0.0.1:{server.server_port}")
    yield schemas
    server.shutdown()
    server.server_close()


def test_load_dataset_into_pandas(sdk_key: tuple[User, str], schema_registry: dict[str, str], tmp_path: Path) -> None:
    user, _ = sdk_key
    archive = tar_gz({"train.tsv": b"path\tsentence\na.wav\tBore da.\n", "clips/a.wav": b"RIFF....WAVE"})
    dataset = stored_dataset("tiny-asr", archive, task="ASR")
    _grant(user, dataset)
    schema_registry[dataset.id] = SCHEMA.format(id=dataset.id)
    frame = datacollective.load_dataset(dataset.id, str(tmp_path), show_progress=False)
    assert list(frame["transcription"]) == ["Bore da."]
    assert frame["audio_path"][0].endswith("clips/a.wav") and Path(frame["audio_path"][0]).exists()
