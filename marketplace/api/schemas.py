"""OpenAPI shapes of the MDC contract's catalog and download routes under /api/ (what drf-spectacular
cannot infer from plain APIViews), so that the published schema describes the answers clients
really get. These serializers only describe; the views build their answers themselves.
"""

from __future__ import annotations

from drf_spectacular.utils import inline_serializer
from rest_framework import serializers

from config.api_schema import DIGITS, Shape, nullable_text
from marketplace.models import Task, Visibility


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
    shortDescription = nullable_text()  # noqa: N815
    longDescription = serializers.CharField(allow_blank=True)  # noqa: N815
    locale = serializers.CharField(allow_blank=True)
    task = serializers.ChoiceField(Task.choices, allow_null=True)
    format = nullable_text()
    licenseAbbreviation = nullable_text()  # noqa: N815
    license = nullable_text()
    licenseUrl = nullable_text()  # noqa: N815
    visibility = serializers.ChoiceField(Visibility.choices)
    createdAt = serializers.DateTimeField()  # noqa: N815
    publishedAt = serializers.DateTimeField(allow_null=True)  # noqa: N815
    datasetUrl = serializers.URLField()  # noqa: N815
    filename = nullable_text(help_text="The current version's archive name; the SDK caches by it.")
    checksum = nullable_text(help_text="SHA-256 hex of the current version's archive; the SDK resumes by it.")
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
