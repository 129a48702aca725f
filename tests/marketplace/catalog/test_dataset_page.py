"""The dataset page as a product: the main action on top, no empty fields, the file list of the
current version, the free sample, and the snippets that load it."""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Callable
from typing import Any

import pytest
import requests
from django.test import Client
from django.utils import timezone

from licensing.models import DownloadRecord
from marketplace.models import Dataset, Submission, Upload, User, Validation
from marketplace.organizations.services import create_organization
from tests.factories import published_dataset, stored_dataset, tar_gz

pytestmark = pytest.mark.django_db

FILES = [
    {"path": "metadata.csv", "size": 2048, "sha256": "c" * 64, "type": "text/csv", "rows": 120,
     "columns": ["path", "sentence"]},
    {"path": "clips/a.wav", "size": 4096, "sha256": "d" * 64, "type": "audio/wav"},
    {"path": "extra.csv", "size": 10, "sha256": "e" * 64, "type": "text/csv", "rows": 3, "columns": ["x"]},
]  # fmt: skip


def _text(response: Any) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def _validated(dataset: Dataset, author: User, files: list[dict[str, Any]]) -> None:
    """The passed validation of the archive the current version was approved from."""
    submission = Submission.objects.create(
        organization=dataset.organization, created_by=author, dataset=dataset, version=dataset.current_version
    )
    upload = Upload.objects.create(submission=submission, kind="archive", filename="a.tar.gz", size_bytes=1,
                                   mime_type="application/gzip", object_key=f"uploads/{dataset.id}",
                                   s3_upload_id="x", created_by=author)  # fmt: skip
    Validation.objects.create(
        upload=upload,
        status=Validation.Status.PASSED,
        files=files,
        archive_format="tar.gz",
        archive_sha256="f" * 64,
        archive_size=1,
        finished_at=timezone.now(),
    )
    Submission.objects.filter(id=submission.id).update(archive_upload=upload)


@pytest.fixture
def owner(make_user: Callable[..., User]) -> User:
    return make_user("owner")


@pytest.fixture
def speech(owner: User) -> Dataset:
    org = create_organization(name="Speech Co", slug="speech-co", owner=owner)
    return published_dataset("farm-speech", org=org, name="Farm Speech", short_description="Welsh farm talk.",
                             intended_usage="Training ASR.", sample=True)  # fmt: skip


def test_the_main_action_and_the_facts_come_before_the_tabs(
    client: Client, speech: Dataset, owner: User, make_user: Callable[..., User]
) -> None:
    anonymous = client.get("/datasets/farm-speech/").content.decode()
    client.force_login(make_user("licensee"))
    licensee = client.get("/datasets/farm-speech/").content.decode()
    client.force_login(owner)
    member = client.get("/datasets/farm-speech/").content.decode()

    for body, action in ((anonymous, ">Log in</a> to accept the terms"), (licensee, ">Accept the terms</button>"),
                         (member, ">Download farm-speech-v1.tar.gz</button>")):  # fmt: skip
        tabs = body.index('<nav class="tabs"')
        assert body.index(action) < tabs, action
        for fact in ("Farm Speech</h1>", "Welsh farm talk.", "CC-BY-4.0 terms", "Free", "Updated"):
            assert body.index(fact) < tabs, fact


def test_empty_fields_are_left_out(client: Client, speech: Dataset) -> None:
    text = _text(client.get("/datasets/farm-speech/"))
    assert "Intended usage Training ASR." in text
    assert "Not stated" not in text
    for empty in ("Forbidden usage", "Ethical review process", "Other information", "Funded by", "Locale"):
        assert empty not in text, empty


def test_the_files_tab_lists_the_current_version_from_its_validation(
    client: Client, speech: Dataset, owner: User
) -> None:
    _validated(speech, owner, FILES)
    response = client.get("/datasets/farm-speech/")
    body, text = response.content.decode(), _text(response)
    files = body[body.index('<section id="files"') : body.index('<section id="versions"')]
    assert [re.sub(r"<[^>]+>", "", cell) for cell in re.findall(r'<td class="path"[^>]*>(.*?)</td>', files)] == [
        "metadata.csv", "clips/a.wav", "extra.csv",
    ]  # fmt: skip
    assert "2.0 KB" in " ".join(files.split()) and "audio/wav" in files and ">120<" in files
    assert 'title="' + "c" * 64 + '"' in files and ">" + "c" * 12 + "…</code>" in files
    assert "c" * 13 not in re.sub(r'(title|data-copy|data-hash)="[^"]*"', "", files)
    # The side panel adds up the rows the validation counted; the viewer names the first table's columns.
    assert "Rows 123" in text and "Files 3" in text
    viewer = body[body.index('<section id="viewer"') : body.index('<section id="files"')]
    assert f'data-viewer-url="/api/v1/datasets/{speech.id}/versions/1/viewer/"' in viewer
    assert '<th scope="col">path</th><th scope="col">sentence</th>' in viewer


def test_without_a_validation_the_files_tab_says_so(client: Client, speech: Dataset) -> None:
    text = _text(client.get("/datasets/farm-speech/"))
    assert "file list is not known here" in text and "Rows" not in text


def test_snippets_carry_the_dataset_id_and_the_api_url(client: Client, speech: Dataset, owner: User) -> None:
    _validated(speech, owner, FILES)
    body = client.get("/datasets/farm-speech/").content.decode()
    for key in ("sdk", "pandas", "datasets", "duckdb"):
        snippet = html.unescape(body[body.index(f'id="snippet-{key}"') :].split("</pre>", 1)[0])
        assert f'download_dataset("{speech.id}", extract=True)' in snippet, key
        assert "MDC_API_URL=http://testserver/api" in snippet, key
        assert f'data-copy-from="snippet-{key}"' in body
    assert 'pd.read_csv(folder / "metadata.csv")' in html.unescape(body)
    assert "Commercial use: <strong>yes</strong>" in body


@pytest.mark.django_db(transaction=True)
def test_a_signed_in_visitor_gets_the_sample_without_accepting_terms(
    client: Client, make_user: Callable[..., User]
) -> None:
    dataset = stored_dataset("sampled", tar_gz({"a.csv": b"x\n1\n"}), sample=b"sample-bytes")
    page = client.get("/datasets/sampled/")
    assert "Get the free sample" not in page.content.decode() and "log in to get it" in _text(page)
    assert client.post("/datasets/sampled/download/", {"kind": "sample"})["Location"].startswith("/login/")

    client.force_login(make_user("curious"))
    assert "Get the free sample" in client.get("/datasets/sampled/").content.decode()
    answer = client.post("/datasets/sampled/download/", {"kind": "sample"})

    assert answer.status_code == 302 and "X-Amz-Signature" in answer["Location"]
    assert requests.get(answer["Location"], timeout=10).content == b"sample-bytes"
    record = DownloadRecord.objects.get(dataset=dataset)
    assert (record.kind, record.basis, record.user.username) == ("sample", "sample", "curious")
    # The archive itself still needs the terms: refused, nothing more recorded.
    refused = client.post("/datasets/sampled/download/")
    assert refused.status_code == 302 and refused["Location"].endswith("#access")
    assert DownloadRecord.objects.filter(dataset=dataset).count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_sample_of_a_taken_down_dataset_is_refused(client: Client, make_user: Callable[..., User]) -> None:
    dataset = stored_dataset("pulled", tar_gz({"a.csv": b"x\n1\n"}), sample=b"sample-bytes")
    Dataset.objects.filter(id=dataset.id).update(status=Dataset.Status.REMOVED, removed_at=dataset.published_at)
    client.force_login(make_user("curious"))

    answer = client.post("/datasets/pulled/download/", {"kind": "sample"})

    assert answer.status_code == 404
    assert not DownloadRecord.objects.filter(dataset=dataset).exists()
    assert hashlib.sha256(b"sample-bytes").hexdigest() not in client.get("/datasets/pulled/").content.decode()
