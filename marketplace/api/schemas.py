"""OpenAPI shapes of the marketplace API: the MDC contract's routes under /api/ and the submission
endpoints of /api/v1 (what drf-spectacular cannot infer from plain APIViews), so that the published
schema describes the answers clients really get. These serializers only describe; the views build
their answers themselves."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

from config.api_schema import ErrorShape
from marketplace import submissions, uploads
from marketplace.models import Task, Visibility

Shape = serializers.Serializer


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    return {code: OpenApiResponse(ErrorShape) for code in codes}


def _text(**kwargs: Any) -> serializers.CharField:
    return serializers.CharField(allow_null=True, **kwargs)


_VISIBILITY = Visibility.choices

# A submission in the contract's camelCase (submissions.submission_json); unset texts are null.
SubmissionFieldsShape = inline_serializer(
    "SubmissionFields",
    {
        "id": serializers.CharField(),
        "status": serializers.CharField(),
        "organizationId": serializers.CharField(),
        "createdBy": _text(),
        "datasetId": _text(),
        "task": _text(),
        "licenseAbbreviation": _text(),
        "visibility": serializers.ChoiceField(_VISIBILITY),
        "basePriceCents": serializers.IntegerField(allow_null=True),
        "currency": serializers.CharField(),
        "createdAt": serializers.DateTimeField(),
        "updatedAt": serializers.DateTimeField(),
        "submittedAt": serializers.DateTimeField(allow_null=True),
        "fileUploadId": _text(),
        "sampleFileReferenceId": _text(),
        **{name: _text() for name in submissions.STRING_FIELDS},
        **{name: serializers.BooleanField() for name in submissions.BOOLEAN_FIELDS},
    },
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
    terms_sha256 = serializers.CharField()
    given_at = serializers.DateTimeField()


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


# --- The MDC contract's answers (../shared/mdc-sdk-contract.md, marketplace/api/mdc.py) ----------


class MdcHealthShape(Shape):
    status = serializers.ChoiceField(["ok"])


class PricingShape(Shape):
    """Free datasets have no prices and no currency (null); ``platformFeeRate`` is a decimal string,
    as the SDK requires."""

    isPaid = serializers.BooleanField()  # noqa: N815
    basePriceCents = serializers.IntegerField(allow_null=True)  # noqa: N815
    currency = serializers.ChoiceField(["usd"], allow_null=True)
    platformFeeRate = serializers.CharField(allow_null=True)  # noqa: N815
    platformFeeCents = serializers.IntegerField(allow_null=True)  # noqa: N815
    totalPriceCents = serializers.IntegerField(allow_null=True)  # noqa: N815


class OrganizationRefShape(Shape):
    name = serializers.CharField()
    slug = serializers.CharField()


class MdcDatasetShape(Shape):
    """``DatasetSummary``: one dataset as the SDK reads it (E1 items, E3)."""

    id = serializers.CharField()
    slug = serializers.CharField()
    name = serializers.CharField()
    shortDescription = _text()  # noqa: N815
    longDescription = serializers.CharField(allow_blank=True)  # noqa: N815
    locale = serializers.CharField(allow_blank=True)
    task = serializers.ChoiceField(Task.choices, allow_null=True)
    format = _text()
    licenseAbbreviation = _text()  # noqa: N815
    license = _text()
    licenseUrl = _text()  # noqa: N815
    visibility = serializers.ChoiceField(_VISIBILITY)
    createdAt = serializers.DateTimeField()  # noqa: N815
    publishedAt = serializers.DateTimeField(allow_null=True)  # noqa: N815
    datasetUrl = serializers.URLField()  # noqa: N815
    filename = _text(help_text="The current version's archive name; the SDK caches by it.")
    checksum = _text(help_text="SHA-256 hex of the current version's archive; the SDK resumes by it.")
    sizeBytes = serializers.IntegerField(allow_null=True)  # noqa: N815
    version = serializers.IntegerField(allow_null=True)
    hasSample = serializers.BooleanField()  # noqa: N815
    isPaid = serializers.BooleanField()  # noqa: N815
    basePriceCents = serializers.IntegerField(allow_null=True)  # noqa: N815
    pricing = PricingShape()
    organization = OrganizationRefShape()


class MdcDatasetListShape(Shape):
    items = MdcDatasetShape(many=True)
    total = serializers.IntegerField(help_text="Matches in all pages.")
    page = serializers.IntegerField()
    limit = serializers.IntegerField()


class MdcFiltersShape(Shape):
    tasks = serializers.ListField(child=serializers.CharField())
    locales = serializers.ListField(child=serializers.CharField())
    licenses = serializers.ListField(child=serializers.CharField())
    formats = serializers.ListField(child=serializers.CharField())


# int64 as a digit string, as the platform's document has it.
DIGITS = r"^\d+$"


class MdcSampleDownloadShape(Shape):
    downloadUrl = serializers.URLField(help_text="A presigned GET; send no Authorization to it.")  # noqa: N815
    sizeBytes = serializers.RegexField(DIGITS, help_text="Bytes, as a digit string.")  # noqa: N815
    filename = serializers.CharField()
    contentType = serializers.CharField()  # noqa: N815
    version = serializers.IntegerField()
    expiresAt = serializers.DateTimeField()  # noqa: N815


class MdcDownloadShape(MdcSampleDownloadShape):
    accessRecordId = serializers.CharField(help_text="The id of this download's audit record.")  # noqa: N815
    downloadToken = serializers.CharField(help_text="The same record, as dlt_<uuid>.")  # noqa: N815
    checksum = serializers.CharField(allow_null=True, help_text="SHA-256 hex of the archive.")


# The platform's ``CroissantMetadata``: Croissant JSON-LD of the current version (with more keys than
# these, as provenance.croissant builds them). Built from a dict: JSON-LD keys start with "@".
MdcCroissantShape = inline_serializer(
    "MdcCroissant",
    {
        "@context": serializers.DictField(),
        "@type": serializers.ChoiceField(["sc:Dataset"]),
        "@id": serializers.URLField(),
        "name": serializers.CharField(),
        "description": serializers.CharField(),
        "conformsTo": serializers.CharField(),
        "citeAs": serializers.CharField(),
        "dateCreated": serializers.DateTimeField(),
        "datePublished": serializers.DateTimeField(),
        "inLanguage": serializers.CharField(),
        "keywords": serializers.ListField(child=serializers.CharField()),
        "license": serializers.CharField(),
        "url": serializers.URLField(),
        "version": serializers.CharField(),
        "contentSize": serializers.RegexField(DIGITS),
        "encodingFormat": serializers.ListField(child=serializers.CharField()),
    },
)


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
        "slug": _text(),
        "shortDescription": _text(),
        "longDescription": serializers.CharField(allow_blank=True),
        "locale": serializers.CharField(allow_blank=True),
        "visibility": serializers.ChoiceField(_VISIBILITY),
        "task": serializers.ChoiceField(Task.choices, allow_null=True),
        "format": _text(),
        "licenseAbbreviation": _text(),
        "license": _text(),
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
        "approvedDatasetId": _text(),
        "createdAt": serializers.DateTimeField(),
        "updatedAt": serializers.DateTimeField(),
        "expiresAt": serializers.DateTimeField(allow_null=True),
        "fileUploadId": _text(),
        "reviewedBy": _text(),
        "organization": MdcFeeShape(),
        "dataset": MdcDatasetRefShape(allow_null=True),
        "fileUpload": MdcFileUploadShape(allow_null=True),
        "sampleFileReference": MdcSampleReferenceShape(),
        **{name: _text() for name in _MDC_SUBMISSION_TEXTS},
    },
)


class MdcSubmissionShape(Shape):
    submission = MdcSubmissionFieldsShape


class SubmissionNameShape(Shape):
    name = serializers.CharField(min_length=1, max_length=submissions.MDC_TEXT_LIMITS["name"])
    longDescription = serializers.CharField(  # noqa: N815
        required=False, allow_blank=True, max_length=submissions.MDC_TEXT_LIMITS["longDescription"]
    )


def _datasheet_text(name: str) -> serializers.Field[Any, Any, Any, Any]:
    """As parse_changes reads it: null where the platform allows it, "" clears (but the name)."""
    limit = submissions.effective_text_limit(name)
    options: dict[str, Any] = {"required": False, "allow_null": name in submissions.NULLABLE}
    options |= {"min_length": 1} if name == "name" else {"allow_blank": True}
    options |= {"max_length": limit} if limit else {}
    if name in submissions.EMAIL_FIELDS:
        return serializers.EmailField(**options)
    if name == "licenseUrl":
        return serializers.URLField(**options)
    return serializers.CharField(**options)


# E8: the platform's UpdateSubmissionRequest (submissions.parse_changes).
SubmissionChangesShape = inline_serializer(
    "SubmissionChanges",
    {
        "task": serializers.ChoiceField(Task.choices, required=False, allow_blank=True, help_text='"" clears it.'),
        "licenseAbbreviation": serializers.CharField(
            required=False,
            allow_blank=True,
            max_length=submissions.MDC_TEXT_LIMITS["licenseAbbreviation"],
            help_text="An SPDX id, custom terms' name, or '' to clear it.",
        ),
        "visibility": serializers.ChoiceField(_VISIBILITY, required=False),
        "basePriceCents": serializers.IntegerField(
            required=False,
            allow_null=True,
            min_value=submissions.MIN_PRICE_CENTS,
            max_value=submissions.MAX_PRICE_CENTS,
        ),
        "currency": serializers.ChoiceField(["usd"], required=False, allow_null=True),
        **{name: _datasheet_text(name) for name in submissions.STRING_FIELDS},
        **{
            name: serializers.BooleanField(required=False, allow_null=name in submissions.NULLABLE)
            for name in submissions.BOOLEAN_FIELDS
        },
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
