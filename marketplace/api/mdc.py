"""The MDC contract's catalog, E1 ``GET /api/datasets``, E2 ``/api/datasets/filters`` and E3
``/api/datasets/{idOrSlug}`` (public: no key is read, a stray key is ignored), and its downloads,
E4 ``POST /api/datasets/{id}/download`` and E5 ``POST /api/datasets/{id}/sample-download`` (a key
with the ``download`` scope; licensing.downloads decides and signs)."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from licensing import downloads, tdmrep
from licensing.authentication import HasScope
from licensing.models import ApiKey
from marketplace import catalog
from marketplace.api import schemas
from marketplace.api.mdc_serializers import dataset_details
from marketplace.api.v1 import LIST_PARAMETERS
from marketplace.models import Dataset, DatasetVersion


class Gone(exceptions.APIException):
    status_code = 410
    default_detail = "This dataset was removed."
    default_code = "gone"


class PublicCatalogView(APIView):
    authentication_classes: list[type] = []
    permission_classes = [AllowAny]

    def base_url(self, request: Request) -> str:
        return request.build_absolute_uri("/").rstrip("/")


MDC_LIST_PARAMETERS = [
    *LIST_PARAMETERS,
    OpenApiParameter("sort", str, enum=list(catalog.SORTS)),
    OpenApiParameter("sortDirection", str, enum=list(catalog.DIRECTIONS)),
    OpenApiParameter("page", int, description="1-based."),
    OpenApiParameter("limit", int, description=f"1 to {catalog.MAX_LIMIT}; default {catalog.DEFAULT_LIMIT}."),
]


class DatasetListApi(PublicCatalogView):
    @extend_schema(
        operation_id="mdc_list_datasets",
        tags=["mdc"],
        parameters=MDC_LIST_PARAMETERS,
        responses={200: schemas.MdcDatasetListShape, **schemas.errors(400)},
    )
    def get(self, request: Request) -> Response:
        try:
            query = catalog.parse_query(request.query_params)
        except catalog.CatalogQueryError as exc:
            raise exceptions.ParseError(str(exc)) from None
        page = catalog.search(query)
        base = self.base_url(request)
        return Response(
            {
                "items": [dataset_details(d, base_url=base) for d in page.items],
                "total": page.total,
                "page": query.page,
                "limit": query.limit,
            }
        )


class DatasetFiltersApi(PublicCatalogView):
    @extend_schema(operation_id="mdc_list_dataset_filters", tags=["mdc"], responses=schemas.MdcFiltersShape)
    def get(self, request: Request) -> Response:
        options = catalog.facet_options()
        return Response(
            {
                "tasks": options.tasks,
                "locales": options.locales,
                "licenses": options.licenses,
                "formats": options.formats,
            }
        )


def find_dataset(id_or_slug: str) -> Dataset:
    """E3's lookup: id or slug; a private dataset only by its exact id (the SDK sends no key)."""
    datasets = Dataset.objects.select_related("organization", "license", "current_version")
    found = datasets.filter(id=id_or_slug).first() or datasets.filter(slug=id_or_slug).first()
    if found is None or found.status == Dataset.Status.DRAFT:
        raise exceptions.NotFound(f"No dataset with id or slug '{id_or_slug}'.")
    # Before the takedown check: a removed private dataset's slug must not tell that it exists.
    if found.visibility == Dataset.Visibility.PRIVATE and found.id != id_or_slug:
        raise exceptions.NotFound(f"No dataset with id or slug '{id_or_slug}'.")
    if found.status == Dataset.Status.REMOVED:
        reason = f": {found.removal_reason}" if found.removal_reason else "."
        raise Gone(f"Dataset '{found.slug}' was removed{reason}")
    return found


class DatasetDetailApi(PublicCatalogView):
    @extend_schema(
        operation_id="mdc_get_dataset", tags=["mdc"], responses={200: schemas.MdcDatasetShape, **schemas.errors(410)}
    )
    def get(self, request: Request, id_or_slug: str) -> Response:
        return Response(dataset_details(find_dataset(id_or_slug), base_url=self.base_url(request)))


class Refused(exceptions.APIException):
    """A download refusal with the status ``licensing.downloads.decide`` chose (402, 403, 404, 410)."""

    def __init__(self, verdict: downloads.Verdict) -> None:
        super().__init__(verdict.message)
        self.status_code = verdict.status


def issue_download(request: Request, dataset: Dataset, version: DatasetVersion, kind: str) -> downloads.IssuedDownload:
    """Decide, record and sign for the API caller; refusals become their HTTP status."""
    page_url = request.build_absolute_uri(reverse("dataset-detail", args=[dataset.slug]))
    try:
        return downloads.issue(
            user=request.user,
            api_key=request.auth if isinstance(request.auth, ApiKey) else None,
            dataset=dataset,
            version=version,
            kind=kind,
            page_url=page_url,
            ip_address=request.META.get("REMOTE_ADDR") or None,
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
        )
    except downloads.DownloadRefused as exc:
        raise Refused(exc.verdict) from None


class DownloadView(APIView):
    permission_classes = [IsAuthenticated, HasScope]
    required_scope = "download"

    def current_version(self, id_or_slug: str) -> tuple[Dataset, DatasetVersion]:
        dataset = find_dataset(id_or_slug)
        if dataset.current_version is None:
            raise exceptions.NotFound(f"{dataset.name} has no published version to download.")
        return dataset, dataset.current_version


class DatasetDownloadApi(DownloadView):
    """E4: a presigned GET of the current version's archive, its size and SHA-256."""

    @extend_schema(
        operation_id="mdc_download_dataset",
        tags=["mdc"],
        request=None,
        responses={200: schemas.MdcDownloadShape, **schemas.errors(402, 410)},
    )
    def post(self, request: Request, id_or_slug: str) -> Response:
        dataset, version = self.current_version(id_or_slug)
        issued = issue_download(request, dataset, version, downloads.Kind.ARCHIVE)
        return Response(
            headers=tdmrep.headers(dataset, absolute=request.build_absolute_uri),
            data={
                "downloadUrl": issued.url,
                "sizeBytes": issued.size_bytes,
                "checksum": issued.sha256,
                "filename": issued.filename,
                "contentType": "application/gzip",
                "version": version.number,
                "expiresAt": issued.expires_at.isoformat(),
            },
        )


class SampleDownloadApi(DownloadView):
    """E5: the sample of the current version; no checksum, so the SDK never resumes a sample."""

    @extend_schema(
        operation_id="mdc_download_sample",
        tags=["mdc"],
        request=None,
        responses={200: schemas.MdcSampleDownloadShape, **schemas.errors(402, 410)},
    )
    def post(self, request: Request, id_or_slug: str) -> Response:
        dataset, version = self.current_version(id_or_slug)
        if not version.sample_key:
            raise exceptions.NotFound(f"{dataset.name} has no sample.")
        issued = issue_download(request, dataset, version, downloads.Kind.SAMPLE)
        return Response(
            headers=tdmrep.headers(dataset, absolute=request.build_absolute_uri),
            data={
                "downloadUrl": issued.url,
                "sizeBytes": issued.size_bytes,
                "filename": issued.filename,
                "contentType": "application/gzip",
                "version": version.number,
                "expiresAt": issued.expires_at.isoformat(),
            },
        )
