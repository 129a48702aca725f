"""Validation findings are written by the worker, which has no reader, and shown to a contributor
who reads Korean, Spanish or English: each is stored with its untranslated sentence and params and
rendered in the language of the page (or of the API request) that shows it."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import datacollective
import pytest
import requests
from datacollective.models import DatasetSubmission
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from marketplace.inspection.texts import finding, finding_text
from marketplace.models import Submission, Upload, Validation
from marketplace.submissions import validation
from marketplace.submissions.uploads import abort_upload
from tests.archive_builders import asr_members, write_tar
from tests.marketplace.submissions.conftest import SdkContributor

pytestmark = pytest.mark.django_db(transaction=True)

HEADERLESS_EN = "'notes.csv' is empty or its first line is blank; it needs a header row."
HEADERLESS_KO = "'notes.csv'이(가) 비어 있거나 첫 줄이 비어 있습니다. 헤더 행이 필요합니다."
HEADERLESS_ES = "'notes.csv' está vacío o su primera línea está en blanco; necesita una fila de encabezado."


@pytest.fixture
def failed(sdk_contributor: SdkContributor, tmp_path: Path) -> Upload:
    """An archive uploaded through the SDK and validated: a CSV in it has no header row."""
    draft = datacollective.create_submission_draft(DatasetSubmission(name="Findings in every language"))
    submission_id = draft["submission"]["id"]
    Submission.objects.filter(id=submission_id).update(task="ASR", format="TSV, WAV")
    archive = write_tar(tmp_path / "headerless.tar.gz", {**asr_members(), "notes.csv": b"\n"})
    state = datacollective.upload_dataset_file(str(archive), submission_id, show_progress=False)
    validation.run_validation(upload_id=state.fileUploadId)
    return Upload.objects.get(id=state.fileUploadId)


def _page(upload: Upload, user: Any, language: str = "") -> str:
    client = Client(HTTP_ACCEPT_LANGUAGE=language) if language else Client()
    client.force_login(user)
    answer = client.get(reverse("submission-edit", kwargs={"submission_id": upload.submission_id}))
    assert answer.status_code == 200
    return answer.content.decode()


def test_a_finding_is_stored_in_english_with_its_sentence_untranslated(failed: Upload) -> None:
    found = Validation.objects.get(upload=failed)
    assert found.status == "failed"
    (headerless,) = [error for error in found.errors if error["path"] == "notes.csv"]
    assert headerless["code"] == "table_header" and headerless["message"] == HEADERLESS_EN
    assert headerless["template"] == "'%(path)s' is empty or its first line is blank; it needs a header row."
    assert headerless["params"] == {"path": "notes.csv"}


def test_the_submission_page_shows_findings_in_the_readers_language(
    failed: Upload, sdk_contributor: SdkContributor
) -> None:
    korean = _page(failed, sdk_contributor.user, language="ko")
    assert '<html lang="ko">' in korean and escape(HEADERLESS_KO) in korean and escape(HEADERLESS_EN) not in korean
    spanish = _page(failed, sdk_contributor.user, language="es")
    assert escape(HEADERLESS_ES) in spanish
    english = _page(failed, sdk_contributor.user)
    assert escape(HEADERLESS_EN) in english and escape(HEADERLESS_KO) not in english


def test_a_finding_stored_before_templates_shows_its_message(failed: Upload, sdk_contributor: SdkContributor) -> None:
    old = {"path": "", "code": "legacy_check", "message": "An old finding, kept in English."}
    Validation.objects.filter(upload=failed).update(errors=[old])
    korean = _page(failed, sdk_contributor.user, language="ko")
    assert "An old finding, kept in English." in korean and "legacy_check" in korean


def test_the_api_keeps_its_keys_and_answers_in_the_language_asked(
    failed: Upload, sdk_contributor: SdkContributor, live_server: Any
) -> None:
    url = f"{live_server.url}/api/v1/submissions/{failed.submission_id}/validation"
    auth = {"Authorization": f"Bearer {sdk_contributor.key}"}
    plain = requests.get(url, headers=auth, timeout=30).json()
    (headerless,) = [error for error in plain["errors"] if error["path"] == "notes.csv"]
    assert headerless == {"path": "notes.csv", "code": "table_header", "message": HEADERLESS_EN}
    assert all(set(item) == {"path", "code", "message"} for item in plain["errors"] + plain["warnings"])
    korean = requests.get(url, headers={**auth, "Accept-Language": "ko"}, timeout=30).json()
    assert {"path": "notes.csv", "code": "table_header", "message": HEADERLESS_KO} in korean["errors"]


def test_a_finding_whose_params_no_longer_fit_falls_back_to_its_message() -> None:
    stored = finding("a.csv", "table_header", "'%(path)s' holds no JSON records.", {"path": "a.csv"})
    broken = {**stored, "params": {}}
    with translation.override("ko"):
        assert finding_text(stored) == "'a.csv'에 JSON 레코드가 없습니다."
        assert finding_text(broken) == "'a.csv' holds no JSON records."


def test_an_aborted_uploads_reason_shows_in_the_page_language(failed: Upload, sdk_contributor: SdkContributor) -> None:
    Upload.objects.filter(id=failed.id).update(status=Upload.Status.UPLOADING)
    failed.refresh_from_db()
    with contextlib.suppress(Exception):  # storage holds no multipart upload any more: the row is aborted first
        abort_upload(upload=failed)
    failed.refresh_from_db()
    assert (failed.status, failed.error) == ("aborted", "aborted by the uploader")
    assert "업로드한 사람이 중단했습니다" in _page(failed, sdk_contributor.user, language="ko")
    assert "aborted by the uploader" in _page(failed, sdk_contributor.user)
