"""The official SDK, unmodified, with a key limited to one dataset: it downloads that dataset, and
is told clearly, in the SDK's own error for a 404, that the key cannot reach another."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import datacollective
import pytest

from licensing.access import grants
from licensing.keys.services import create_api_key
from marketplace.models import Dataset, User
from tests.factories import stored_dataset, tar_gz

pytestmark = pytest.mark.django_db(transaction=True)


def _licensed(user: User, dataset: Dataset) -> None:
    terms = grants.terms_for(dataset=dataset, version=grants.current_version(dataset))
    grants.accept_terms(user=user, dataset=dataset, terms_sha256=terms.sha256, source="api")


def test_the_sdk_with_a_dataset_limited_key(
    live_server: Any, monkeypatch: pytest.MonkeyPatch, make_user: Any, tmp_path: Path
) -> None:
    user = make_user("pipeline")
    first_bytes = tar_gz({"train.tsv": b"path\tsentence\na.wav\thello\n"})
    allowed = stored_dataset("limited-speech", first_bytes)
    other = stored_dataset("other-speech", tar_gz({"train.tsv": b"path\tsentence\nb.wav\tbye\n"}))
    for dataset in (allowed, other):
        _licensed(user, dataset)
    _, key = create_api_key(user=user, name="speech only", scopes=["read", "download"], datasets=[allowed])
    monkeypatch.setenv("MDC_API_URL", f"{live_server.url}/api")
    monkeypatch.setenv("MDC_API_KEY", key)

    path = datacollective.download_dataset(allowed.id, str(tmp_path / "allowed"), show_progress=False)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == hashlib.sha256(first_bytes).hexdigest()

    with pytest.raises(FileNotFoundError) as refused:
        datacollective.download_dataset(other.id, str(tmp_path / "other"), show_progress=False)
    message = str(refused.value)
    # The traceback holds the SDK's unread streamed response, whose open socket keeps a server
    # thread (and its database session) alive past the test: let it go.
    del refused
    assert "This API key is limited to the dataset limited-speech: it cannot reach this." in message
    assert not any((tmp_path / "other").glob("*.tar.gz"))

    # The same person's unlimited key downloads the other dataset: only the limit refused it.
    _, full = create_api_key(user=user, name="everything", scopes=["read", "download"])
    monkeypatch.setenv("MDC_API_KEY", full)
    assert datacollective.download_dataset(other.id, str(tmp_path / "full"), show_progress=False).exists()
