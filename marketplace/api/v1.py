"""Our own read API under /api/v1/: datasets, their versions, organizations and licenses.

Cursor pagination (stable under inserts) and a constant number of queries per request.
Reads are public; a caller with a key or session also sees private datasets of their
organizations.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import exceptions, generics, serializers
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from config.api_schema import ErrorShape, errors
from licensing.keys.authentication import HasScope
from licensing.models import License
from marketplace.api.kept import kept_json
from marketplace.api.mdc_serializers import pricing
from marketplace.catalog import search as catalog_search
from marketplace.catalog.visibility import visible_datasets
from marketplace.models import Dataset, DatasetVersion, Organization
from marketplace.submissions import api as submissions_api
from marketplace.submissions.shapes import ChangelogShape, SubmissionDetailShape


class Pages(CursorPagination):
    page_size = 24
    page_size_query_param = "limit"
    max_page_size = 100
    ordering = ("-published_at", "-id")


class LicenseSerializer(serializers.ModelSerializer[License]):
    abbreviation = serializers.CharField(read_only=True)

    class Meta:
        model = License
        fields = [
            "id", "spdx_id", "abbreviation", "name", "url", "text_sha256", "commercial_use", "ai_training",
            "derivatives", "redistribution", "attribution", "share_alike",
        ]  # fmt: skip


class LicenseDetailSerializer(LicenseSerializer):
    class Meta(LicenseSerializer.Meta):
        fields = [*LicenseSerializer.Meta.fields, "text"]


class OrganizationSerializer(serializers.ModelSerializer[Organization]):
    class Meta:
        model = Organization
        fields = ["id", "slug", "name", "description", "website", "approved_to_upload", "created_at"]


class VersionSerializer(serializers.ModelSerializer[DatasetVersion]):
    license = serializers.CharField(source="license.abbreviation")
    has_sample = serializers.SerializerMethodField()

    class Meta:
        model = DatasetVersion
        fields = ["number", "filename", "size_bytes", "sha256", "license", "license_text_sha256", "published_at",
                  "has_sample", "changelog"]  # fmt: skip

    def get_has_sample(self, version: DatasetVersion) -> bool:
        return bool(version.sample_key)


class DatasetSerializer(serializers.ModelSerializer[Dataset]):
    organization: serializers.SlugRelatedField[Organization] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )
    license = serializers.CharField(source="license.abbreviation", default=None)
    current_version = VersionSerializer(read_only=True)
    pricing = serializers.SerializerMethodField()

    class Meta:
        model = Dataset
        fields = [
            "id", "slug", "name", "short_description", "organization", "task", "locale", "format", "license",
            "visibility", "tags", "is_paid", "pricing", "size_bytes", "has_sample", "published_at", "current_version",
        ]  # fmt: skip

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_pricing(self, dataset: Dataset) -> dict[str, Any]:
        return pricing(dataset)


class DatasetDetailSerializer(DatasetSerializer):
    class Meta(DatasetSerializer.Meta):
        fields = [
            *DatasetSerializer.Meta.fields,
            "long_description", "license_url", "intended_usage", "forbidden_usage", "restrictions",
            "additional_conditions", "ethical_review_process", "other", "auto_approve_access_requests",
        ]  # fmt: skip


LIST_PARAMETERS = [
    OpenApiParameter("q", str, description="Words, each matched as a prefix."),
    OpenApiParameter("task", str, many=True),
    OpenApiParameter("locale", str, many=True),
    OpenApiParameter("license", str, many=True),
    OpenApiParameter("format", str, many=True),
    OpenApiParameter("pricing", str, enum=list(catalog_search.PRICING)),
    OpenApiParameter("sample", bool),
    OpenApiParameter("uploadDate", str, enum=list(catalog_search.UPLOAD_WINDOWS)),
    OpenApiParameter("minSize", int),
    OpenApiParameter("maxSize", int),
]


@extend_schema(
    parameters=LIST_PARAMETERS,
    responses={200: DatasetSerializer(many=True), 400: OpenApiResponse(ErrorShape)},
)
class DatasetListApi(generics.ListAPIView[Dataset]):
    """Datasets you may see, newest first, filtered like the catalog."""

    permission_classes = [AllowAny]
    serializer_class = DatasetSerializer
    pagination_class = Pages

    def get_queryset(self) -> QuerySet[Dataset]:
        try:
            query = catalog_search.parse_query(self.request.query_params)
        except catalog_search.CatalogQueryError as exc:
            raise exceptions.ParseError(str(exc)) from None
        qs = catalog_search.filtered(query)
        if query.q:
            terms = catalog_search.search_terms(query.q)
            qs = qs.filter(search_vector=catalog_search.text_query(terms)) if terms else qs.none()
        return qs.select_related("organization", "license", "current_version__license")

    # An HttpResponse of bytes kept as sent (marketplace.api.kept), where DRF's list answers a Response.
    def list(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponse:  # type: ignore[override]
        # What the catalog lists, the same for every caller: kept until the catalog changes.
        def answer() -> Any:
            return super(DatasetListApi, self).list(request, *args, **kwargs).data

        return kept_json(request, "v1-list", answer)


def _visible(request: object) -> QuerySet[Dataset]:
    return visible_datasets(user=getattr(request, "user", None))


class DatasetDetailApi(generics.RetrieveAPIView[Dataset]):
    permission_classes = [AllowAny]
    serializer_class = DatasetDetailSerializer
    lookup_field = "id"

    def get_queryset(self) -> QuerySet[Dataset]:
        return _visible(self.request).select_related("organization", "license", "current_version__license")


class DatasetVersionListApi(generics.ListAPIView[DatasetVersion]):
    """Every published version: number, filename, size, SHA-256 and changelog (GET, public); and
    the draft of the next one (POST, an owner, admin or member of the dataset's organization)."""

    serializer_class = VersionSerializer
    pagination_class = None
    required_scope = "upload"  # of a key that POSTs

    def get_permissions(self) -> list[BasePermission]:
        if self.request.method == "POST":
            return [IsAuthenticated(), HasScope()]
        return [AllowAny()]

    def get_queryset(self) -> QuerySet[DatasetVersion]:
        dataset = get_object_or_404(_visible(self.request), id=self.kwargs["id"])
        return dataset.versions.filter(published_at__isnull=False).select_related("license").order_by("-number")

    @extend_schema(
        operation_id="datasets_versions_create",
        summary="Open the draft of the next version",
        description="The draft of version N+1, prefilled from the current version's datasheet, license, consent "
        "terms and revenue split (201), or the dataset's draft already open (200). Approving it publishes version "
        "N+1 of the same dataset. The body may give the changelog. 403 for anyone but the organization's owners, "
        "admins and members; 409 while the next version is in review.",
        request=ChangelogShape,
        responses={
            201: SubmissionDetailShape,
            200: SubmissionDetailShape,
            **errors(400, 401, 403, 404, 409),
        },
    )
    def post(self, request: Request, id: str) -> Response:  # noqa: A002 (the route's name)
        dataset = get_object_or_404(_visible(request).select_related("organization", "current_version"), id=id)
        return submissions_api.open_version_draft(request, dataset)


class OrganizationPages(CursorPagination):
    page_size = 50
    page_size_query_param = "limit"
    max_page_size = 100
    ordering = ("slug",)


class OrganizationListApi(generics.ListAPIView[Organization]):
    permission_classes = [AllowAny]
    serializer_class = OrganizationSerializer
    pagination_class = OrganizationPages
    queryset = Organization.objects.all()


class OrganizationDetailApi(generics.RetrieveAPIView[Organization]):
    permission_classes = [AllowAny]
    serializer_class = OrganizationSerializer
    queryset = Organization.objects.all()
    lookup_field = "slug"


def _visible_licenses(request: object) -> QuerySet[License]:
    """Platform-wide licenses, and custom terms under which a dataset the caller may see is sold:
    the terms of a private dataset are as private as the dataset."""
    datasets = _visible(request)
    used = DatasetVersion.objects.filter(dataset__in=datasets).values("license")
    return License.objects.filter(Q(organization__isnull=True) | Q(id__in=used) | Q(id__in=datasets.values("license")))


class LicenseListApi(generics.ListAPIView[License]):
    permission_classes = [AllowAny]
    serializer_class = LicenseSerializer
    pagination_class = None

    def get_queryset(self) -> QuerySet[License]:
        return _visible_licenses(self.request).order_by("spdx_id", "name")


class LicenseDetailApi(generics.RetrieveAPIView[License]):
    permission_classes = [AllowAny]
    serializer_class = LicenseDetailSerializer

    def get_queryset(self) -> QuerySet[License]:
        return _visible_licenses(self.request)
