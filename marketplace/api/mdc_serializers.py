"""The answers of the MDC routes, as plain dicts, in the shapes of the platform's own OpenAPI
document (../shared/mdc-openapi.json): ``DatasetSummary`` (E1 items, E3) and the submission
envelope (``SubmissionEnvelope`` / ``SubmissionMutationEnvelope``).

Plain functions, not DRF serializers: a page of 100 items is built without per-field overhead.
"""

from __future__ import annotations

import uuid
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.urls import reverse

from marketplace.models import Dataset, Submission, Upload
from marketplace.submissions import STRING_FIELDS


def pricing(dataset: Dataset) -> dict[str, Any]:
    if not dataset.is_paid or not dataset.base_price_cents:
        # The document's free branch: every price field null, the currency too.
        return {
            "isPaid": False,
            "basePriceCents": None,
            "currency": None,
            "platformFeeRate": None,
            "platformFeeCents": None,
            "totalPriceCents": None,
        }
    rate = Decimal(settings.PLATFORM_FEE_RATE)
    fee = int((Decimal(dataset.base_price_cents) * rate).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return {
        "isPaid": True,
        "basePriceCents": dataset.base_price_cents,
        "currency": dataset.currency,
        "platformFeeRate": settings.PLATFORM_FEE_RATE,  # a string, as the SDK's model requires
        "platformFeeCents": fee,
        "totalPriceCents": dataset.base_price_cents + fee,
    }


def dataset_details(dataset: Dataset, *, base_url: str) -> dict[str, Any]:
    """One dataset as ``DatasetSummary``. Needs organization, license and current_version loaded.

    ``submissionId`` is absent, not null: the document has it only for the caller's own datasets,
    and these routes read no key (the SDK sends none)."""
    version = dataset.current_version
    license = dataset.license
    price = pricing(dataset)
    return {
        "id": dataset.id,
        "slug": dataset.slug,
        "name": dataset.name,
        "shortDescription": dataset.short_description or None,
        # Required strings in the document: an unset one is "", not null.
        "longDescription": dataset.long_description,
        "locale": dataset.locale,
        # Null only for a dataset made outside the submission flow without a task (see the README).
        "task": dataset.task or None,
        "format": dataset.format or None,
        "licenseAbbreviation": license.abbreviation if license else None,
        "license": license.name if license else None,
        "licenseUrl": (dataset.license_url or (license.url if license else "")) or None,
        "visibility": dataset.visibility,
        "createdAt": dataset.created_at.isoformat(),
        "publishedAt": dataset.published_at.isoformat() if dataset.published_at else None,
        "datasetUrl": base_url + reverse("dataset-detail", args=[dataset.slug]),
        # The SDK caches by filename and resumes by checksum: both are version-specific.
        "filename": version.filename if version else None,
        "checksum": version.sha256 if version else None,
        "sizeBytes": version.size_bytes if version else None,
        "version": version.number if version else None,
        "hasSample": dataset.has_sample,
        "isPaid": price["isPaid"],
        "basePriceCents": price["basePriceCents"],
        "pricing": price,
        "organization": {"name": dataset.organization.name, "slug": dataset.organization.slug},
    }


# Our submission states as the platform's status enum. A rejection here sends the submission back
# to its author to edit and submit again, which is the platform's `edits_requested`; the platform's
# final `rejected`, `in_review` (a reviewer has claimed it) and `retracted` have no state here, and a
# deleted submission answers 410 rather than a status.
MDC_STATUS = {
    Submission.Status.DRAFT: "draft",
    Submission.Status.SUBMITTED: "submitted",
    Submission.Status.REJECTED: "edits_requested",
    Submission.Status.APPROVED: "approved",
}
# Upload states as the platform's file-upload status enum: `completing` is still assembling the
# parts (not completed yet), and an aborted upload failed as far as the client can tell.
MDC_UPLOAD_STATUS = {
    Upload.Status.UPLOADING: "uploading",
    Upload.Status.COMPLETING: "uploading",
    Upload.Status.COMPLETED: "completed",
    Upload.Status.FAILED: "failed",
    Upload.Status.ABORTED: "failed",
}
# The platform keeps a file reference (a UUID) per submission and kind, whose versions are the
# uploads. We keep no such row: its id is derived from the submission's id and the kind, stable
# and unique, and no route takes it back.
FILE_REFERENCE_NAMESPACE = uuid.UUID("6f0d8a52-3b7e-4c1e-9a55-2f4a0d7c9e11")


def file_reference_id(owner_id: str, kind: str) -> str:
    return str(uuid.uuid5(FILE_REFERENCE_NAMESPACE, f"{owner_id}:{kind}"))


def _file_upload(upload: Upload | None) -> dict[str, Any] | None:
    if upload is None:
        return None
    return {
        "id": upload.id,
        "filename": upload.filename,
        "sizeBytes": str(upload.size_bytes),  # int64 as a digit string, as the document has it
        "status": MDC_UPLOAD_STATUS[Upload.Status(upload.status)],
    }


def _latest_upload(submission: Submission, kind: str) -> Upload | None:
    """The newest upload of a kind: an unfinished one shows how far it got."""
    return Upload.objects.filter(submission=submission, kind=kind).order_by("-created_at", "-id").first()


def _time(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def submission_envelope(submission: Submission) -> dict[str, Any]:
    """``{"submission": ...}`` with every field of both of the document's envelopes: GET's
    ``SubmissionEnvelope`` and the mutations' ``SubmissionMutationEnvelope`` (their union; neither
    forbids the other's fields). Texts the document types as non-null strings are "" when unset;
    nullable ones are null."""
    archive = _latest_upload(submission, Upload.Kind.ARCHIVE)
    sample = _latest_upload(submission, Upload.Kind.SAMPLE)
    dataset = submission.dataset
    approved = submission.status == Submission.Status.APPROVED
    body: dict[str, Any] = {
        "id": submission.id,
        "organizationId": submission.organization_id,
        "createdBy": submission.created_by.public_id,
        "fileReferenceId": file_reference_id(submission.id, Upload.Kind.ARCHIVE),
        "sampleFileReferenceId": file_reference_id(submission.id, Upload.Kind.SAMPLE),
        "status": MDC_STATUS[Submission.Status(submission.status)],
        "name": submission.name,
        "slug": dataset.slug if dataset else None,
        "shortDescription": submission.short_description or None,
        "longDescription": submission.long_description,
        "locale": submission.locale,
        "visibility": submission.visibility,
        "task": submission.task or None,
        "format": submission.format or None,
        "licenseAbbreviation": submission.license_abbreviation or None,
        "license": submission.license_name or None,
        "licenseUrl": submission.license_url or None,
        "licenseText": submission.license_text or None,  # ours: the exact text of custom terms
        "isPaid": submission.is_paid,
        "basePriceCents": submission.base_price_cents,
        "currency": "usd" if submission.is_paid else None,
        "autoApproveAccessRequests": submission.auto_approve_access_requests,
        "showContactInfo": submission.show_contact_info,
        "showComplianceAttributes": submission.show_compliance_attributes,
        # Submitting is agreeing: the time of the (last) submission is the time of the agreement.
        "agreeToSubmit": _time(submission.submitted_at),
        "exclusivityOptOut": _time(submission.exclusivity_opted_out_at) if submission.exclusivity_opt_out else None,
        "submittedAt": _time(submission.submitted_at),
        "approvedDatasetId": submission.dataset_id if approved else None,
        "createdAt": submission.created_at.isoformat(),
        "updatedAt": submission.updated_at.isoformat(),
        "expiresAt": None,  # drafts do not expire here
        "fileUploadId": submission.archive_upload_id,
        # "The admin currently reviewing": reviews here are not claimed, so nobody is, ever.
        "reviewedBy": None,
        "organization": {"platformFeeRate": settings.PLATFORM_FEE_RATE},
        "dataset": {"id": dataset.id} if dataset else None,
        "fileUpload": _file_upload(archive),
        "sampleFileReference": {
            "currentVersion": (
                {"id": file_reference_id(sample.id, "version"), "fileUpload": _file_upload(sample)} if sample else None
            )
        },
    }
    for camel in (
        "other", "restrictions", "forbiddenUsage", "additionalConditions", "pointOfContactFullName",
        "pointOfContactEmail", "fundedByFullName", "fundedByEmail", "legalContactFullName", "legalContactEmail",
        "createdByFullName", "createdByEmail", "intendedUsage", "ethicalReviewProcess",
    ):  # fmt: skip
        body[camel] = getattr(submission, STRING_FIELDS[camel]) or None
    return {"submission": body}
