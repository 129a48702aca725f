"""OpenAPI shapes of the submission routes (the MDC contract's E7-E14 under /api/ and the submission
endpoints of /api/v1): what drf-spectacular cannot infer from plain APIViews. They only describe;
the views build their answers themselves.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import inline_serializer
from rest_framework import serializers

from config.api_schema import DIGITS, Shape, nullable_text
from marketplace.models import Task, Visibility
from marketplace.submissions import inputs, uploads

# A submission in the contract's camelCase (submissions.submission_json); unset texts are null.
SubmissionFieldsShape = inline_serializer(
    "SubmissionFields",
    {
        "id": serializers.CharField(),
        "status": serializers.CharField(),
        "organizationId": serializers.CharField(),
        "createdBy": nullable_text(),
        "datasetId": nullable_text(),
        "task": nullable_text(),
        "licenseAbbreviation": nullable_text(),
        "visibility": serializers.ChoiceField(Visibility.choices),
        "basePriceCents": serializers.IntegerField(allow_null=True),
        "currency": serializers.CharField(),
        "createdAt": serializers.DateTimeField(),
        "updatedAt": serializers.DateTimeField(),
        "submittedAt": serializers.DateTimeField(allow_null=True),
        "fileUploadId": nullable_text(),
        "sampleFileReferenceId": nullable_text(),
        "changelog": nullable_text(),
        "recordIdColumn": nullable_text(),
        "contributorIdColumn": nullable_text(),
        **{name: nullable_text() for name in inputs.TEXTS},
        **{name: serializers.BooleanField() for name in inputs.FLAGS},
    },
)


class ChangelogShape(Shape):
    changelog = serializers.CharField(
        allow_blank=True, max_length=inputs.CHANGELOG_LIMIT, help_text="What changed in this version."
    )


class RecordIdColumnShape(Shape):
    recordIdColumn = serializers.CharField(  # noqa: N815
        required=False,
        allow_blank=True,
        max_length=inputs.RECORD_ID_COLUMN_LIMIT,
        help_text='The column of the index files that names each record ("" clears it).',
    )
    contributorIdColumn = serializers.CharField(  # noqa: N815
        required=False,
        allow_blank=True,
        max_length=inputs.RECORD_ID_COLUMN_LIMIT,
        help_text='The column holding each record\'s contributor id, as in the consent records ("" clears it).',
    )


class UploadStateShape(Shape):
    fileUploadId = serializers.CharField()  # noqa: N815 (the contract's camelCase)
    filename = serializers.CharField()
    sizeBytes = serializers.IntegerField()  # noqa: N815
    status = serializers.ChoiceField(["uploading", "completing", "completed", "failed", "aborted"])
    sha256 = serializers.CharField(allow_null=True)
    error = serializers.CharField(allow_null=True)
    createdAt = serializers.DateTimeField()  # noqa: N815
    completedAt = serializers.DateTimeField(allow_null=True)  # noqa: N815


class SubmissionDetailShape(Shape):
    submission = SubmissionFieldsShape
    upload = UploadStateShape(allow_null=True)
    sampleUpload = UploadStateShape(allow_null=True)  # noqa: N815
    validation = serializers.DictField(allow_null=True, help_text="A summary; the full report is at its url.")
    problems = serializers.ListField(child=serializers.CharField())


class FindingShape(Shape):
    path = serializers.CharField()
    code = serializers.CharField()
    message = serializers.CharField()


class ValidatedArchiveShape(Shape):
    sha256 = serializers.CharField(allow_null=True)
    size = serializers.IntegerField(allow_null=True)


class ValidatedFileShape(Shape):
    path = serializers.CharField()
    size = serializers.IntegerField()
    sha256 = serializers.CharField()
    type = serializers.CharField()
    columns = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="A CSV or TSV table's header."
    )
    rows = serializers.IntegerField(
        required=False, help_text="Data rows of a table (CSV, TSV, JSON Lines, Parquet), for version diffs."
    )


# A declared field named `errors` would hide Serializer.errors: this shape is built from a dict.
ValidationReportShape = inline_serializer(
    "ValidationReport",
    {
        "status": serializers.ChoiceField(["pending", "running", "passed", "failed"]),
        "archive": ValidatedArchiveShape(),
        "files": ValidatedFileShape(many=True),
        "errors": FindingShape(many=True),
        "warnings": FindingShape(many=True),
    },
)


class StoredPartShape(Shape):
    partNumber = serializers.IntegerField()  # noqa: N815
    etag = serializers.CharField()
    size = serializers.IntegerField()


class StoredPartsShape(Shape):
    fileUploadId = serializers.CharField()  # noqa: N815
    status = serializers.CharField()
    parts = StoredPartShape(many=True)


class ConsentTermsInputShape(Shape):
    aiTraining = serializers.BooleanField()  # noqa: N815
    commercialUse = serializers.BooleanField()  # noqa: N815
    researchOnly = serializers.BooleanField()  # noqa: N815
    redistribution = serializers.BooleanField()
    derivatives = serializers.BooleanField()
    scope = serializers.CharField(required=False)
    consentText = serializers.CharField()  # noqa: N815
    collectionStart = serializers.DateField()  # noqa: N815
    collectionEnd = serializers.DateField()  # noqa: N815
    withdrawalProcess = serializers.CharField()  # noqa: N815


class ConsentTermsShape(ConsentTermsInputShape):
    consentText = None  # type: ignore[assignment]  # noqa: N815 (answered by its hash only)
    consentTextSha256 = serializers.CharField()  # noqa: N815
    records = serializers.IntegerField()
    createdAt = serializers.DateTimeField()  # noqa: N815


class ConsentTermsAnswerShape(Shape):
    consent = ConsentTermsShape()


class ConsentRecordInputShape(Shape):
    contributor_id = serializers.CharField(max_length=128, help_text="Pseudonymous: no email, no spaces.")
    scope = serializers.CharField(required=False)
    terms_sha256 = serializers.CharField(
        required=False, help_text="Optional: when given, the SHA-256 of the consent terms the record is under."
    )
    given_at = serializers.CharField(
        help_text="When the contributor consented: a date (YYYY-MM-DD, that day 00:00 UTC) or an ISO 8601 time "
        "with its time zone."
    )


class ConsentRecordsInputShape(Shape):
    records = ConsentRecordInputShape(many=True)


class ConsentRecordsAddedShape(Shape):
    added = serializers.IntegerField()
    termsSha256 = serializers.CharField()  # noqa: N815


class ShareShape(Shape):
    username = serializers.CharField(required=False, allow_null=True)
    name = serializers.CharField(required=False, allow_null=True, max_length=200)
    email = serializers.EmailField(required=False, allow_null=True)
    basisPoints = serializers.IntegerField(min_value=1, max_value=10_000)  # noqa: N815


class RevenueSplitShape(Shape):
    contributors = ShareShape(many=True)


CSV_OR_JSON: dict[str, Any] = {"application/json": ConsentRecordsInputShape, "text/csv": str}


class MdcFileUploadShape(Shape):
    id = serializers.CharField()
    filename = serializers.CharField()
    sizeBytes = serializers.RegexField(DIGITS, allow_null=True)  # noqa: N815
    status = serializers.ChoiceField(["initiating", "uploading", "completed", "failed"])


class MdcFileVersionShape(Shape):
    id = serializers.UUIDField()
    fileUpload = MdcFileUploadShape()  # noqa: N815


class MdcSampleReferenceShape(Shape):
    currentVersion = MdcFileVersionShape(allow_null=True)  # noqa: N815


class MdcFeeShape(Shape):
    platformFeeRate = serializers.CharField(allow_null=True)  # noqa: N815


class MdcDatasetRefShape(Shape):
    id = serializers.CharField()


_MDC_SUBMISSION_TEXTS = (
    "other", "restrictions", "forbiddenUsage", "additionalConditions", "pointOfContactFullName",
    "pointOfContactEmail", "fundedByFullName", "fundedByEmail", "legalContactFullName", "legalContactEmail",
    "createdByFullName", "createdByEmail", "intendedUsage", "ethicalReviewProcess", "licenseText",
)  # fmt: skip


# The union of the platform's SubmissionEnvelope (GET) and SubmissionMutationEnvelope (POST, PATCH)
# (mdc_serializers.submission_envelope).
MdcSubmissionFieldsShape = inline_serializer(
    "MdcSubmissionFields",
    {
        "id": serializers.CharField(),
        "organizationId": serializers.CharField(),
        "createdBy": serializers.CharField(),
        "fileReferenceId": serializers.UUIDField(),
        "sampleFileReferenceId": serializers.UUIDField(),
        "status": serializers.ChoiceField(["draft", "submitted", "edits_requested", "approved"]),
        "name": serializers.CharField(),
        "slug": nullable_text(),
        "shortDescription": nullable_text(),
        "longDescription": serializers.CharField(allow_blank=True),
        "locale": serializers.CharField(allow_blank=True),
        "visibility": serializers.ChoiceField(Visibility.choices),
        "task": serializers.ChoiceField(Task.choices, allow_null=True),
        "format": nullable_text(),
        "licenseAbbreviation": nullable_text(),
        "license": nullable_text(),
        "licenseUrl": serializers.URLField(allow_null=True),
        "isPaid": serializers.BooleanField(),
        "basePriceCents": serializers.IntegerField(allow_null=True),
        "currency": serializers.ChoiceField(["usd"], allow_null=True),
        "autoApproveAccessRequests": serializers.BooleanField(),
        "showContactInfo": serializers.BooleanField(),
        "showComplianceAttributes": serializers.BooleanField(),
        "agreeToSubmit": serializers.DateTimeField(allow_null=True, help_text="When the submitter agreed."),
        "exclusivityOptOut": serializers.DateTimeField(allow_null=True, help_text="When they opted out."),
        "submittedAt": serializers.DateTimeField(allow_null=True),
        "approvedDatasetId": nullable_text(),
        "createdAt": serializers.DateTimeField(),
        "updatedAt": serializers.DateTimeField(),
        "expiresAt": serializers.DateTimeField(allow_null=True),
        "fileUploadId": nullable_text(),
        "reviewedBy": nullable_text(),
        "organization": MdcFeeShape(),
        "dataset": MdcDatasetRefShape(allow_null=True),
        "fileUpload": MdcFileUploadShape(allow_null=True),
        "sampleFileReference": MdcSampleReferenceShape(),
        **{name: nullable_text() for name in _MDC_SUBMISSION_TEXTS},
    },
)


class MdcSubmissionShape(Shape):
    submission = MdcSubmissionFieldsShape


class SubmissionNameShape(Shape):
    name = serializers.CharField(min_length=1, max_length=inputs.MDC_TEXT_LIMITS["name"])
    longDescription = serializers.CharField(  # noqa: N815
        required=False, allow_blank=True, max_length=inputs.MDC_TEXT_LIMITS["longDescription"]
    )


def _datasheetnullable_text(name: str) -> serializers.Field[Any, Any, Any, Any]:
    """As DatasheetChanges reads it: null where the platform allows it, "" clears (but the name)."""
    limit = inputs.effective_text_limit(name)
    options: dict[str, Any] = {"required": False, "allow_null": name in inputs.NULLABLE}
    options |= {"min_length": 1} if name == "name" else {"allow_blank": True}
    options |= {"max_length": limit} if limit else {}
    if name in inputs.EMAILS:
        return serializers.EmailField(**options)
    if name == "licenseUrl":
        return serializers.URLField(**options)
    return serializers.CharField(**options)


# E8: the platform's UpdateSubmissionRequest (inputs.DatasheetChanges.from_json).
SubmissionChangesShape = inline_serializer(
    "SubmissionChanges",
    {
        "task": serializers.ChoiceField(Task.choices, required=False, allow_blank=True, help_text='"" clears it.'),
        "licenseAbbreviation": serializers.CharField(
            required=False,
            allow_blank=True,
            max_length=inputs.MDC_TEXT_LIMITS["licenseAbbreviation"],
            help_text="An SPDX id, custom terms' name, or '' to clear it.",
        ),
        "visibility": serializers.ChoiceField(Visibility.choices, required=False),
        "basePriceCents": serializers.IntegerField(
            required=False,
            allow_null=True,
            min_value=inputs.MIN_PRICE_CENTS,
            max_value=inputs.MAX_PRICE_CENTS,
        ),
        "currency": serializers.ChoiceField(["usd"], required=False, allow_null=True),
        **{name: _datasheetnullable_text(name) for name in inputs.TEXTS},
        **{name: serializers.BooleanField(required=False, allow_null=name in inputs.NULLABLE) for name in inputs.FLAGS},
    },
)


class AgreeToSubmitShape(Shape):
    agreeToSubmit = serializers.BooleanField()  # noqa: N815


class UploadStartShape(Shape):
    submissionId = serializers.CharField()  # noqa: N815
    filename = serializers.RegexField(
        uploads.ARCHIVE_NAME.pattern, max_length=uploads.MAX_FILENAME, help_text="A bare name ending .tar.gz or .tgz."
    )
    fileSize = serializers.IntegerField(min_value=1)  # noqa: N815
    mimeType = serializers.ChoiceField(uploads.ARCHIVE_TYPES)  # noqa: N815


class UploadStartedShape(Shape):
    fileUploadId = serializers.CharField()  # noqa: N815
    uploadId = serializers.CharField()  # noqa: N815
    objectKey = serializers.CharField(allow_null=True)  # noqa: N815
    submissionId = serializers.CharField(  # noqa: N815
        help_text="The submission the upload belongs to: the one named, or, for an approved submission, the draft "
        "of its dataset's next version (opened or reused)."
    )


class PartUrlShape(Shape):
    url = serializers.URLField(help_text="A presigned PUT for this part; send no Authorization to it.")
    expiresAt = serializers.DateTimeField()  # noqa: N815
    partNumber = serializers.IntegerField()  # noqa: N815


class CompletedPartShape(Shape):
    partNumber = serializers.IntegerField(min_value=1, max_value=10_000)  # noqa: N815
    etag = serializers.CharField()


class UploadCompletionShape(Shape):
    uploadId = serializers.CharField()  # noqa: N815
    parts = serializers.ListField(child=CompletedPartShape(), min_length=1, max_length=10_000)
    checksum = serializers.RegexField(r"^[0-9a-fA-F]{64}$", help_text="SHA-256 hex of the whole file.")


class UploadCompletedShape(Shape):
    success = serializers.BooleanField()
    fileUploadId = serializers.CharField()  # noqa: N815
    status = serializers.ChoiceField(["completed"])
    sha256 = serializers.CharField(allow_null=True)
    submissionId = serializers.CharField()  # noqa: N815


class ParentRefShape(Shape):
    dataset = serializers.CharField(help_text="The parent dataset's id.")
    version = serializers.IntegerField(help_text="A published version number of it.")


class ParentsInputShape(Shape):
    parents = ParentRefShape(many=True)


class ParentShape(Shape):
    dataset = serializers.CharField()
    slug = serializers.CharField()
    name = serializers.CharField()
    version = serializers.IntegerField()
    archiveSha256 = serializers.CharField()  # noqa: N815


class ParentsShape(Shape):
    parents = ParentShape(many=True)
