"""OpenAPI shapes of the provenance API (provenance/api.py), which builds its answers as dicts.
These serializers only describe."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from config.api_schema import ErrorShape

Shape = serializers.Serializer


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    return {code: OpenApiResponse(ErrorShape) for code in codes}


# The server re-checks what it serves; rows altered behind its back are a 500 that names the check.
INCONSISTENT = {500: OpenApiResponse(ErrorShape, description="`log_inconsistent` or `manifest_invalid`.")}


def whole_number(name: str, description: str) -> OpenApiParameter:
    return OpenApiParameter(name, int, description=description)


class PublicKeyShape(Shape):
    keyId = serializers.CharField()  # noqa: N815 (the API's camelCase)
    algorithm = serializers.CharField()
    publicKeyPem = serializers.CharField()  # noqa: N815
    createdAt = serializers.DateTimeField()  # noqa: N815
    current = serializers.BooleanField()


class PublicKeysShape(Shape):
    keys = PublicKeyShape(many=True)


class SignatureShape(Shape):
    keyid = serializers.CharField()
    sig = serializers.CharField(help_text="Base64 Ed25519 signature over the DSSE PAE.")


class EnvelopeShape(Shape):
    """A DSSE envelope (https://github.com/secure-systems-lab/dsse)."""

    payloadType = serializers.CharField()  # noqa: N815
    payload = serializers.CharField(help_text="Base64 of the signed statement.")
    signatures = SignatureShape(many=True)


class LogEntryShape(Shape):
    index = serializers.IntegerField()
    kind = serializers.CharField()
    subject = serializers.CharField()
    payload = serializers.JSONField()
    createdAt = serializers.DateTimeField()  # noqa: N815
    leaf = serializers.CharField(help_text="The exact canonical JSON that was hashed.")
    leafHash = serializers.CharField()  # noqa: N815


class LogEntriesShape(Shape):
    entries = LogEntryShape(many=True)
    next = serializers.IntegerField(allow_null=True, help_text="The start of the next page; null at the end.")


class InclusionProofShape(Shape):
    leafIndex = serializers.IntegerField()  # noqa: N815
    treeSize = serializers.IntegerField()  # noqa: N815
    leaf = serializers.CharField()
    leafHash = serializers.CharField()  # noqa: N815
    auditPath = serializers.ListField(child=serializers.CharField())  # noqa: N815
    rootHash = serializers.CharField()  # noqa: N815
    treeHead = EnvelopeShape()  # noqa: N815


class ConsistencyProofShape(Shape):
    first = serializers.IntegerField()
    second = serializers.IntegerField()
    firstRootHash = serializers.CharField()  # noqa: N815
    secondRootHash = serializers.CharField()  # noqa: N815
    proof = serializers.ListField(child=serializers.CharField())
    treeHead = EnvelopeShape(allow_null=True, help_text="Signed only when second is the log's size.")  # noqa: N815


class TreeHeadShape(Shape):
    treeSize = serializers.IntegerField()  # noqa: N815
    rootHash = serializers.CharField()  # noqa: N815
    keyId = serializers.CharField()  # noqa: N815
    envelope = EnvelopeShape()
    cosignatures = serializers.ListField(
        child=serializers.JSONField(),
        help_text="Witnesses' cosignatures of this head (see GET /api/v1/provenance/witness/cosignatures).",
    )


class DiffSideShape(Shape):
    version = serializers.IntegerField()
    archiveSha256 = serializers.CharField()  # noqa: N815
    manifestSha256 = serializers.CharField(help_text="The SHA-256 of the signed statement the files come from.")  # noqa: N815
    files = serializers.IntegerField(help_text="How many files the manifest lists.")


class FileStateShape(Shape):
    size = serializers.IntegerField()
    sha256 = serializers.CharField()
    rows = serializers.IntegerField(
        allow_null=True,
        help_text="Data rows of a table (CSV, TSV, JSON Lines, Parquet) from the version's validation; "
        "null for other files and versions without a report.",
    )


class FileChangeShape(Shape):
    path = serializers.CharField()
    old = FileStateShape(allow_null=True, help_text="Null for an added file.")
    new = FileStateShape(allow_null=True, help_text="Null for a removed file.")


class VersionDiffShape(Shape):
    datasetId = serializers.CharField()  # noqa: N815
    old = DiffSideShape()
    new = DiffSideShape()
    added = FileChangeShape(many=True)
    removed = FileChangeShape(many=True)
    changed = FileChangeShape(many=True)
    unchanged = serializers.IntegerField(help_text="Files with the same path, size and SHA-256 in both.")
