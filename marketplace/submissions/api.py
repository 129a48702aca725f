"""Submission endpoints of the MDC contract: E7 ``POST /api/submissions``, ``GET``, E8 ``PATCH``,
E9 ``POST`` and E10 ``DELETE /api/submissions/{id}``, the uploads (E11-E14); and
``GET /api/v1/submissions/{id}``.

Bodies and answers are the contract's camelCase; the MDC routes answer the envelopes of the
platform's OpenAPI document (mdc_serializers.submission_envelope); every error is
``{"error", "message"}``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, status
from rest_framework.parsers import BaseParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api_parsers import StrictJSONParser, refuse_unstorable_text
from config.api_schema import errors
from licensing.consent import terms as consent
from licensing.consent.inputs import ConsentTermsInput
from licensing.keys import limits
from licensing.keys.authentication import HasScope
from licensing.models import ConsentTerms
from marketplace.accounts.verified_email import require_verified_email_for_api
from marketplace.models import Dataset, DatasetVersion, Submission, Upload, User
from marketplace.submissions import drafts, inputs, reports, rules, shapes, uploads
from marketplace.submissions.serializers import MDC_UPLOAD_STATUS, submission_envelope
from provenance import lineage


def submission_json(submission: Submission) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": submission.id,
        "status": submission.status,
        "organizationId": submission.organization_id,
        "createdBy": submission.created_by_id and str(submission.created_by_id),
        "datasetId": submission.dataset_id,
        "task": submission.task or None,
        "licenseAbbreviation": submission.license_abbreviation or None,
        "visibility": submission.visibility,
        "basePriceCents": submission.base_price_cents,
        "currency": submission.currency,
        "createdAt": submission.created_at.isoformat(),
        "updatedAt": submission.updated_at.isoformat(),
        "submittedAt": submission.submitted_at.isoformat() if submission.submitted_at else None,
        "fileUploadId": submission.archive_upload_id,
        "sampleFileReferenceId": submission.sample_upload_id,
        "changelog": submission.changelog or None,
        "recordIdColumn": submission.record_id_column or None,
        "contributorIdColumn": submission.contributor_id_column or None,
    }
    for camel in (*inputs.TEXTS, *inputs.FLAGS):
        value = getattr(submission, inputs.MODEL_FIELD[camel])
        body[camel] = value if value != "" else None
    return body


def upload_json(submission: Submission, kind: str) -> dict[str, Any] | None:
    """The latest upload of a kind: an unfinished one shows how far it got."""
    upload = Upload.objects.filter(submission=submission, kind=kind).order_by("-created_at").first()
    if upload is None:
        return None
    return {
        "fileUploadId": upload.id,
        "filename": upload.filename,
        "sizeBytes": upload.size_bytes,
        "status": upload.status,
        "sha256": upload.sha256 or None,
        "error": upload.error or None,
        "createdAt": upload.created_at.isoformat(),
        "completedAt": upload.completed_at.isoformat() if upload.completed_at else None,
    }


class SubmissionView(APIView):
    permission_classes = [IsAuthenticated, HasScope]
    required_scope = "upload"

    def user(self, request: Request) -> User:
        user = request.user
        if not isinstance(user, User):
            raise exceptions.NotAuthenticated()
        return user


class SubmissionCreateApi(SubmissionView):
    @extend_schema(
        operation_id="mdc_create_submission",
        tags=["mdc"],
        request=shapes.SubmissionNameShape,
        responses=shapes.MdcSubmissionShape,
    )
    def post(self, request: Request) -> Response:
        require_verified_email_for_api(request)
        new = inputs.NewSubmission.from_json(request.data)
        # A new dataset is its organization's: a key limited to other datasets or another
        # organization does not create it (licensing.keys.limits).
        limits.require_organization(request.auth, drafts.uploading_organization(user=self.user(request)))
        submission = drafts.create_submission(
            user=self.user(request), name=new.name, long_description=new.long_description
        )
        return Response(submission_envelope(submission), status=status.HTTP_200_OK)


MDC_SUBMISSION_ERRORS = errors(409, 410)


class SubmissionApi(SubmissionView):
    def _submission(self, request: Request, submission_id: str) -> Submission:
        return drafts.submission_for(user=self.user(request), submission_id=submission_id)

    @extend_schema(
        operation_id="mdc_get_submission",
        tags=["mdc"],
        responses={200: shapes.MdcSubmissionShape, **errors(410)},
    )
    def get(self, request: Request, submission_id: str) -> Response:
        return Response(submission_envelope(self._submission(request, submission_id)))

    @extend_schema(
        operation_id="mdc_update_submission",
        tags=["mdc"],
        request=shapes.SubmissionChangesShape,
        responses={200: shapes.MdcSubmissionShape, **MDC_SUBMISSION_ERRORS},
    )
    def patch(self, request: Request, submission_id: str) -> Response:
        submission = self._submission(request, submission_id)
        changes = inputs.DatasheetChanges.from_json(request.data)
        submission = drafts.update_submission(submission=submission, changes=changes)
        return Response(submission_envelope(submission))

    @extend_schema(
        operation_id="mdc_submit_submission",
        tags=["mdc"],
        request=shapes.AgreeToSubmitShape,
        responses={200: shapes.MdcSubmissionShape, **MDC_SUBMISSION_ERRORS},
    )
    def post(self, request: Request, submission_id: str) -> Response:
        submission = self._submission(request, submission_id)
        inputs.agreement_from_json(request.data)
        submission = drafts.submit_submission(submission=submission)
        return Response(submission_envelope(submission))

    @extend_schema(operation_id="mdc_delete_submission", tags=["mdc"], responses={204: None, **errors(410)})
    def delete(self, request: Request, submission_id: str) -> Response:
        submission = self._submission(request, submission_id)
        drafts.delete_submission(submission=submission)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SubmissionDetailApi(SubmissionView):
    """A submission's status and datasheet, for its organization's members."""

    required_scope = "read"

    @extend_schema(responses={200: shapes.SubmissionDetailShape, **errors(401, 403, 404, 410)})
    def get(self, request: Request, submission_id: str) -> Response:
        submission = drafts.submission_for(user=self.user(request), submission_id=submission_id)
        return Response(submission_detail_json(request, submission))


def submission_detail_json(request: Request, submission: Submission) -> dict[str, Any]:
    """``GET /api/v1/submissions/{id}``'s answer (also the answer that opens a version draft)."""
    report_url = request.build_absolute_uri(reverse("api-submission-validation", args=[submission.id]))
    return {
        "submission": submission_json(submission),
        "upload": upload_json(submission, Upload.Kind.ARCHIVE),
        "sampleUpload": upload_json(submission, Upload.Kind.SAMPLE),
        "validation": reports.summary_for(submission.archive_upload, report_url=report_url),
        "problems": drafts.submission_problems(submission),
    }


def open_version_draft(request: Request, dataset: Dataset) -> Response:
    """``POST /api/v1/datasets/{id}/versions``: the draft of the dataset's next version, made now
    (201, prefilled from the current version) or already open (200), with the changelog the body
    may give (``{"changelog": "..."}``; an empty body gives none)."""
    user = request.user
    if not isinstance(user, User):
        raise exceptions.NotAuthenticated()
    require_verified_email_for_api(request)
    data = request.data
    changelog = inputs.changelog_from_json(data) if data else None
    draft, created = drafts.open_version_draft(user=user, dataset=dataset)
    if changelog is not None:
        draft = drafts.update_submission(submission=draft, changes=inputs.DatasheetChanges({}, changelog))
    return Response(submission_detail_json(request, draft), status=201 if created else 200)


class SubmissionChangelogApi(SubmissionView):
    """``PUT /api/v1/submissions/{id}/changelog``: what changed in this version (required to submit
    a new version of a published dataset). Not part of the MDC datasheet, so E8 does not take it."""

    @extend_schema(
        request=shapes.ChangelogShape,
        responses={200: shapes.ChangelogShape, **errors(400, 401, 403, 404, 409, 410)},
    )
    def put(self, request: Request, submission_id: str) -> Response:
        submission = drafts.submission_for(user=self.user(request), submission_id=submission_id)
        rules.ensure_editable(submission)  # 409 before 400, as the other parts of a draft
        changes = inputs.DatasheetChanges({}, inputs.changelog_from_json(request.data))
        submission = drafts.update_submission(submission=submission, changes=changes)
        return Response({"changelog": submission.changelog})


class SubmissionRecordIdColumnApi(SubmissionView):
    """``PUT /api/v1/submissions/{id}/record-id-column``: the columns of the index files (CSV, TSV,
    JSON Lines) that name each record and hold its contributor's id. When a contributor withdraws
    consent, the re-release drops the rows whose value there names a withdrawn record; a contributor
    withdrawing themselves is found through the second. Not part of the MDC datasheet."""

    @extend_schema(
        request=shapes.RecordIdColumnShape,
        responses={200: shapes.RecordIdColumnShape, **errors(400, 401, 403, 404, 409, 410)},
    )
    def put(self, request: Request, submission_id: str) -> Response:
        submission = drafts.submission_for(user=self.user(request), submission_id=submission_id)
        rules.ensure_editable(submission)
        columns = inputs.record_columns_from_json(request.data)
        changes = inputs.DatasheetChanges(
            {}, None, columns.get("record_id_column"), columns.get("contributor_id_column")
        )
        submission = drafts.update_submission(submission=submission, changes=changes)
        return Response(
            {"recordIdColumn": submission.record_id_column, "contributorIdColumn": submission.contributor_id_column}
        )


class SubmissionValidationApi(SubmissionView):
    """``GET /api/v1/submissions/{id}/validation``: the report of the latest archive upload's
    validation (status, archive hash and size, every file, errors and warnings)."""

    required_scope = "read"

    @extend_schema(responses={200: shapes.ValidationReportShape, **errors(401, 403, 404, 410)})
    def get(self, request: Request, submission_id: str) -> Response:
        submission = drafts.submission_for(user=self.user(request), submission_id=submission_id)
        if submission.archive_upload is None:
            raise exceptions.NotFound(_("No archive upload has completed for this submission yet: upload one first."))
        return Response(reports.for_api(reports.report_for(submission.archive_upload)))


class UploadView(SubmissionView):
    kind = Upload.Kind.ARCHIVE

    def _submission(self, request: Request, submission_id: object) -> Submission:
        if not isinstance(submission_id, str) or not submission_id:
            raise exceptions.ValidationError({"submissionId": ["is missing"]})
        submission = drafts.submission_for(user=self.user(request), submission_id=submission_id)
        limits.require_submission(request.auth, submission)  # POST /api/uploads names it in its body
        return submission

    def _upload(self, request: Request, submission_id: str | None, file_upload_id: str) -> Upload:
        if submission_id is None:  # /uploads/{id}: the submission is the upload's own
            owner = Upload.objects.filter(id=file_upload_id, kind=self.kind).values_list("submission_id", flat=True)
            submission_id = owner.first() or ""
            if not submission_id:
                raise exceptions.NotFound(_("No upload '%(file_upload_id)s'.") % {"file_upload_id": file_upload_id})
        # An upload started on an approved submission went to its dataset's version draft.
        submission = drafts.version_draft_of(submission=self._submission(request, submission_id))
        return uploads.upload_of(submission=submission, upload_id=file_upload_id, kind=self.kind)


UPLOAD_ERRORS = errors(404, 409, 410)


class UploadStartApi(UploadView):
    """E11: ``POST /api/uploads`` (archive) or ``POST /api/submissions/{id}/sample``."""

    @extend_schema(
        operation_id="mdc_start_upload",
        tags=["mdc"],
        request=shapes.UploadStartShape,
        responses={200: shapes.UploadStartedShape, **UPLOAD_ERRORS},
    )
    def post(self, request: Request, submission_id: str | None = None) -> Response:
        data = request.data if isinstance(request.data, dict) else {}
        if submission_id is not None and data.get("submissionId", submission_id) != submission_id:
            raise exceptions.ValidationError({"submissionId": ["differs from the submission in the URL"]})
        addressed = self._submission(request, submission_id or data.get("submissionId"))
        start = uploads.parse_start(data, kind=self.kind)
        # To an approved submission: the SDK's way to add a version, so the upload opens (or reuses)
        # the draft of the dataset's next version, which the answer names.
        submission = drafts.upload_destination(user=self.user(request), submission=addressed)
        upload = uploads.start_upload(
            submission=submission,
            user=self.user(request),
            kind=self.kind,
            filename=start.filename,
            file_size=start.file_size,
            mime_type=start.mime_type,
        )
        return Response(
            {
                "fileUploadId": upload.id,
                "uploadId": upload.s3_upload_id,
                "objectKey": None,
                "submissionId": submission.id,
            }
        )


class UploadPartApi(UploadView):
    """E12: a presigned URL for one part."""

    @extend_schema(
        operation_id="mdc_upload_part_url",
        tags=["mdc"],
        responses={200: shapes.PartUrlShape, **errors(400), **UPLOAD_ERRORS},
    )
    def get(
        self, request: Request, file_upload_id: str, part_number: int, submission_id: str | None = None
    ) -> Response:
        upload = self._upload(request, submission_id, file_upload_id)
        signed_at = timezone.now()
        url = uploads.part_url(upload=upload, part_number=part_number)
        # Taken before signing: the URL is good at least until then.
        expires_at = signed_at + timedelta(seconds=settings.UPLOAD_PART_URL_SECONDS)
        return Response({"url": url, "expiresAt": expires_at.isoformat(), "partNumber": part_number})


class UploadCompleteApi(UploadView):
    """E14: verify the parts, record the declared SHA-256 (validation checks it), then link the file
    to the submission."""

    @extend_schema(
        operation_id="mdc_complete_upload",
        tags=["mdc"],
        request=shapes.UploadCompletionShape,
        responses={200: shapes.UploadCompletedShape, **UPLOAD_ERRORS},
    )
    def post(self, request: Request, file_upload_id: str, submission_id: str | None = None) -> Response:
        upload = self._upload(request, submission_id, file_upload_id)
        completion = uploads.parse_completion(request.data)
        upload = uploads.complete_upload(upload=upload, completion=completion)
        return Response(
            {
                "success": True,
                "fileUploadId": upload.id,
                "status": MDC_UPLOAD_STATUS[Upload.Status(upload.status)],
                "sha256": upload.sha256,
                "submissionId": upload.submission_id,
            }
        )


@extend_schema_view(post=extend_schema(operation_id="mdc_start_sample_upload"))
class SampleStartApi(UploadStartApi):
    kind = Upload.Kind.SAMPLE


@extend_schema_view(get=extend_schema(operation_id="mdc_sample_part_url"))
class SamplePartApi(UploadPartApi):
    kind = Upload.Kind.SAMPLE


@extend_schema_view(post=extend_schema(operation_id="mdc_complete_sample_upload"))
class SampleCompleteApi(UploadCompleteApi):
    kind = Upload.Kind.SAMPLE


class UploadStateApi(SubmissionView):
    """What a browser needs besides E11-E14: the parts storage holds (to resume after a reload)
    and aborting an upload it gave up on. Either kind, archive or sample."""

    def _upload(self, request: Request, file_upload_id: str) -> Upload:
        upload = Upload.objects.filter(id=file_upload_id).first()
        if upload is None:
            raise exceptions.NotFound(_("No upload '%(file_upload_id)s'.") % {"file_upload_id": file_upload_id})
        drafts.submission_for(user=self.user(request), submission_id=upload.submission_id)
        return upload


class StoredPartsApi(UploadStateApi):
    @extend_schema(responses={200: shapes.StoredPartsShape, **errors(401, 403, 404, 409, 410)})
    def get(self, request: Request, file_upload_id: str) -> Response:
        upload = self._upload(request, file_upload_id)
        parts = uploads.stored_parts(upload=upload)
        return Response({"fileUploadId": upload.id, "status": upload.status, "parts": parts})


class UploadAbortApi(UploadStateApi):
    @extend_schema(responses={204: None, **errors(401, 403, 404, 409, 410)})
    def delete(self, request: Request, file_upload_id: str) -> Response:
        upload = self._upload(request, file_upload_id)
        uploads.abort_upload(upload=upload)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CsvParser(BaseParser):
    media_type = "text/csv"

    # The CSV text itself; the view parses its rows (DRF's stubs expect a mapping).
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> str:  # type: ignore[override]
        try:
            text: str = stream.read().decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise exceptions.ParseError(
                _("The CSV must be UTF-8 text: %(reason)s at byte %(start)s.")
                % {"reason": exc.reason, "start": exc.start}
            ) from None
        return refuse_unstorable_text(text)


def consent_json(terms: ConsentTerms) -> dict[str, Any]:
    return {
        "aiTraining": terms.ai_training,
        "commercialUse": terms.commercial_use,
        "researchOnly": terms.research_only,
        "redistribution": terms.redistribution,
        "derivatives": terms.derivatives,
        "scope": terms.scope_text,
        "consentTextSha256": terms.consent_text_sha256,
        "collectionStart": terms.collection_start.isoformat(),
        "collectionEnd": terms.collection_end.isoformat(),
        "withdrawalProcess": terms.withdrawal_process,
        "records": terms.records.count(),
        "createdAt": terms.created_at.isoformat(),
    }


class SubmissionConsentApi(UploadView):
    """``PUT /api/v1/submissions/{id}/consent``: new consent terms (earlier ones are kept)."""

    @extend_schema(
        request=shapes.ConsentTermsInputShape,
        responses={200: shapes.ConsentTermsAnswerShape, **errors(400, 401, 403, 404, 409, 410)},
    )
    def put(self, request: Request, submission_id: str) -> Response:
        submission = self._submission(request, submission_id)
        rules.ensure_editable(submission)
        terms = consent.set_consent_terms(
            submission=submission, user=self.user(request), terms=ConsentTermsInput.from_json(request.data)
        )
        return Response({"consent": consent_json(terms)})


class ConsentRecordsApi(UploadView):
    """``POST /api/v1/submissions/{id}/consent/records``: per-contributor records, as JSON
    ``{"records": [...]}`` or as CSV (contributor_id, given_at, and optionally scope and terms_sha256)."""

    parser_classes = [StrictJSONParser, CsvParser]

    @extend_schema(
        request=shapes.CSV_OR_JSON,
        responses={201: shapes.ConsentRecordsAddedShape, **errors(400, 401, 403, 404, 410)},
    )
    def post(self, request: Request, submission_id: str) -> Response:
        submission = self._submission(request, submission_id)
        terms = consent.current_terms(submission)
        if terms is None:
            raise exceptions.ValidationError(_("Set the consent terms first: records are added under them."))
        if isinstance(request.data, str):
            added = consent.add_consent_records_csv(terms=terms, text=request.data)
        else:
            rows = request.data.get("records") if isinstance(request.data, dict) else None
            added = consent.add_consent_records(terms=terms, rows=rows)
        return Response({"added": added, "termsSha256": terms.consent_text_sha256}, status=status.HTTP_201_CREATED)


class RevenueSplitApi(UploadView):
    """``PUT /api/v1/submissions/{id}/contributors``: who shares the revenue, in basis points."""

    @extend_schema(
        request=shapes.RevenueSplitShape,
        responses={200: shapes.RevenueSplitShape, **errors(400, 401, 403, 404, 409, 410)},
    )
    def put(self, request: Request, submission_id: str) -> Response:
        submission = self._submission(request, submission_id)
        rules.ensure_editable(submission)  # 409 before 400: a split that cannot change is not read
        split = inputs.shares_from_json(request.data)
        shares = drafts.set_revenue_split(submission=submission, shares=split)
        return Response(
            {
                "contributors": [
                    {
                        "username": share.user.get_username() if share.user else None,
                        "name": share.payee_name or None,
                        "email": share.payee_email or None,
                        "basisPoints": share.basis_points,
                    }
                    for share in shares
                ]
            }
        )


def parent_json(version: DatasetVersion) -> dict[str, Any]:
    return {
        "dataset": version.dataset_id,
        "slug": version.dataset.slug,
        "name": version.dataset.name,
        "version": version.number,
        "archiveSha256": version.sha256,
    }


class SubmissionParentsApi(UploadView):
    """``PUT /api/v1/submissions/{id}/parents``: the published versions this dataset derives from
    (its lineage, signed into the manifest at approval). 400 names the first parent that is
    unknown, not visible to the caller, the dataset itself, or listed twice; their licenses are
    checked at submit, with the other problems."""

    @extend_schema(request=shapes.ParentsInputShape, responses={200: shapes.ParentsShape, **errors(409, 410)})
    def put(self, request: Request, submission_id: str) -> Response:
        submission = self._submission(request, submission_id)
        data = request.data if isinstance(request.data, dict) else {}
        if set(data) != {"parents"}:
            raise exceptions.ValidationError(_('Setting parents takes exactly {"parents": [{"dataset", "version"}]}.'))
        rules.ensure_editable(submission)  # 409 before 400: parents that cannot change are not read
        refs = lineage.parent_refs(data["parents"])
        parents = lineage.set_parents(submission=submission, parents=refs, user=self.user(request))
        return Response({"parents": [parent_json(version) for version in parents]})
