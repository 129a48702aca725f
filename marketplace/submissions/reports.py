"""Validation reports, as the API, the submission page, review and the signed manifest read them.

Reads only: the worker in ``marketplace.submissions.validation`` writes them.
"""

from __future__ import annotations

from typing import Any

from django.db.models import F, Func, IntegerField

from marketplace.inspection.texts import finding_text, public
from marketplace.models import DatasetVersion, Submission, Upload, Validation

# Tables whose header the validator keeps in the report's file list, so that Croissant record sets
# (provenance.croissant) can name their columns: mlcroissant reads both through pandas.
TABULAR_TYPES = ("text/csv", "text/tab-separated-values")


def report_for(upload: Upload) -> dict[str, Any]:
    """The validation report of an upload, as the API and the submission page show it."""
    validation = Validation.objects.filter(upload=upload).first()
    if validation is None:
        return {
            "status": Validation.Status.PENDING.value,
            "archive": {"sha256": upload.sha256 or None, "size": upload.size_bytes},
            "files": [],
            "errors": [],
            "warnings": [],
        }
    return {
        "status": validation.status,
        "archive": {
            "sha256": validation.archive_sha256 or upload.sha256 or None,
            "size": validation.archive_size if validation.archive_size is not None else upload.size_bytes,
        },
        "files": validation.files,
        "errors": validation.errors,
        "warnings": validation.warnings,
    }


def for_api(report: dict[str, Any]) -> dict[str, Any]:
    """The report as the API answers it: each finding ``{path, code, message}``, its message in the
    request's language (English for a client that asks for none, as every API error)."""
    return {**report, "errors": [public(item) for item in report["errors"]],
            "warnings": [public(item) for item in report["warnings"]]}  # fmt: skip


def upload_error_text(upload: Upload) -> str:
    """Why an upload failed or was aborted, in the active language (its English ``error`` on rows
    older than ``error_template``)."""
    return finding_text({"message": upload.error, "template": upload.error_template, "params": upload.error_params})


def has_passed(upload: Upload) -> bool:
    return Validation.objects.filter(upload=upload, status=Validation.Status.PASSED).exists()


def brief(upload: Upload) -> dict[str, Any]:
    """Status, errors and counts without loading the file list (which can be large)."""
    found = (
        Validation.objects.filter(upload=upload)
        .annotate(
            file_count=Func(F("files"), function="jsonb_array_length", output_field=IntegerField()),
            warning_count=Func(F("warnings"), function="jsonb_array_length", output_field=IntegerField()),
        )
        .values("status", "errors", "file_count", "warning_count")
        .first()
    )
    if found is None:
        return {"status": Validation.Status.PENDING.value, "errors": [], "files": 0, "warnings": 0}
    return {
        "status": found["status"],
        "errors": found["errors"],
        "files": found["file_count"],
        "warnings": found["warning_count"],
    }


def summary_for(upload: Upload | None, *, report_url: str) -> dict[str, Any] | None:
    """A few lines for the submission detail; the full report is at ``report_url``."""
    if upload is None:
        return None
    found = brief(upload)
    return {
        "fileUploadId": upload.id,
        "status": found["status"],
        "files": found["files"],
        "errors": len(found["errors"]),
        "warnings": found["warnings"],
        "firstError": finding_text(found["errors"][0]) if found["errors"] else None,
        "report": report_url,
    }


def version_files(version: DatasetVersion) -> list[dict[str, Any]]:
    """The file list of the passed validation of the archive ``version`` was approved from:
    ``{path, size, sha256, type}`` (``rows`` for tables the validator counted, ``columns`` for
    CSV/TSV headers), in archive order. Empty for a version published outside the submission flow.
    One query."""
    uploads = Submission.objects.filter(version=version).values("archive_upload")
    files = (
        Validation.objects.filter(upload__in=uploads, status=Validation.Status.PASSED)
        .values_list("files", flat=True)
        .first()
    )
    return list(files or [])
