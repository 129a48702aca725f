"""A submission as the MDC contract's routes answer it (the platform's ``SubmissionWithFileUploads``):
its datasheet in camelCase, its status and its uploads' file references, as a plain dict
(``SubmissionEnvelope`` / ``SubmissionMutationEnvelope`` of ../shared/mdc-openapi.json).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.conf import settings

from marketplace.models import Submission, Upload
from marketplace.submissions.inputs import MODEL_FIELD

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


def _time(value: datetime | None) -> str | None:
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
        body[camel] = getattr(submission, MODEL_FIELD[camel]) or None
    return {"submission": body}
