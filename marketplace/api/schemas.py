"""OpenAPI shapes of the submission endpoints of /api/v1 (what drf-spectacular cannot infer from
plain APIViews), so that the published schema describes the answers clients really get. These
serializers only describe; the views build their answers themselves."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

Shape = serializers.Serializer


class ErrorShape(Shape):
    """Every API error (config/api_errors.py)."""

    error = serializers.CharField()
    message = serializers.CharField()


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    return {code: OpenApiResponse(ErrorShape) for code in codes}


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
    submission = serializers.DictField(help_text="The submission in the MDC contract's camelCase.")
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
    contributor_id = serializers.CharField()
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
    name = serializers.CharField(required=False, allow_null=True)
    email = serializers.EmailField(required=False, allow_null=True)
    basisPoints = serializers.IntegerField(min_value=1, max_value=10_000)  # noqa: N815


class RevenueSplitShape(Shape):
    contributors = ShareShape(many=True)


CSV_OR_JSON: dict[str, Any] = {"application/json": ConsentRecordsInputShape, "text/csv": str}
