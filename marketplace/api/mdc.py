"""The MDC contract's catalog, E1 ``GET /api/datasets``, E2 ``/api/datasets/filters`` and E3
``/api/datasets/{idOrSlug}`` (public: no key is read, a stray key is ignored), its downloads,
E4 ``POST /api/datasets/{id}/download`` and E5 ``POST /api/datasets/{id}/sample-download`` (a key
with the ``download`` scope; licensing.downloads decides and signs), ``GET /api/health`` and
``GET /api/datasets/{id}/metadata`` (Croissant). Answers follow the platform's OpenAPI document
(../shared/mdc-openapi.json); the README lists where they deliberately differ."""

from __future__ import annotations

from django.db.models import Q
from django.http import HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api_schema import errors
from config.refusals import Gone
from licensing import tdmrep
from licensing.access import downloads
from licensing.access.http_statuses import REFUSAL_STATUS
from licensing.keys.authentication import HasScope
from licensing.models import ApiKey
from marketplace.api import schemas
from marketplace.api.kept import kept_json
from marketplace.api.mdc_serializers import dataset_details
from marketplace.api.v1 import LIST_PARAMETERS
from marketplace.catalog import search as catalog_search
from marketplace.catalog.visibility import visible_datasets
from marketplace.models import Dataset, DatasetVersion, Membership, User
from marketplace.publishing import takedown_sentence
from provenance import croissant


class HealthApi(APIView):
    """``GET /api/health``: 200 while the application serves. No key, no rate limit and no database
    (the rate limits count in the database): a liveness probe must not fail with a dependency;
    ``/healthz`` checks the dependencies."""

    authentication_classes: list[type] = []
    permission_classes = [AllowAny]
    throttle_classes: list[type] = []

    @extend_schema(operation_id="mdc_get_health", tags=["mdc"], responses=schemas.MdcHealthShape)
    def get(self, request: Request) -> Response:
        return Response({"status": "ok"})


class PublicCatalogView(APIView):
    authentication_classes: list[type] = []
    permission_classes = [AllowAny]

    def base_url(self, request: Request) -> str:
        return request.build_absolute_uri("/").rstrip("/")


MDC_LIST_PARAMETERS = [
    *LIST_PARAMETERS,
    OpenApiParameter("sort", str, enum=list(catalog_search.SORTS)),
    OpenApiParameter("sortDirection", str, enum=list(catalog_search.DIRECTIONS)),
    OpenApiParameter("page", int, description="1-based."),
    OpenApiParameter(
        "limit", int, description=f"1 to {catalog_search.MAX_LIMIT}; default {catalog_search.DEFAULT_LIMIT}."
    ),
]


class DatasetListApi(PublicCatalogView):
    @extend_schema(
        operation_id="mdc_list_datasets",
        tags=["mdc"],
        parameters=MDC_LIST_PARAMETERS,
        responses={200: schemas.MdcDatasetListShape, **errors(400)},
    )
    def get(self, request: Request) -> HttpResponse:
        try:
            query = catalog_search.parse_query(request.query_params)
        except catalog_search.CatalogQueryError as exc:
            raise exceptions.ParseError(str(exc)) from None

        def answer() -> dict[str, object]:
            page = catalog_search.search(query)
            base = self.base_url(request)
            return {
                "items": [dataset_details(d, base_url=base) for d in page.items],
                "total": page.total,
                "page": query.page,
                "limit": query.limit,
            }

        # The same for every caller (no key is read): kept until the catalog changes.
        return kept_json(request, "mdc-list", answer)


class DatasetFiltersApi(PublicCatalogView):
    @extend_schema(operation_id="mdc_list_dataset_filters", tags=["mdc"], responses=schemas.MdcFiltersShape)
    def get(self, request: Request) -> Response:
        options = catalog_search.facet_options()
        return Response(
            {
                "tasks": options.tasks,
                "locales": options.locales,
                "licenses": options.licenses,
                "formats": options.formats,
            }
        )


def find_dataset(id_or_slug: str, *, with_organization: bool = True) -> Dataset:
    """E3's lookup: id or slug; a private dataset only by its exact id (the SDK sends no key)."""
    # The current version's license too: E4 and E5 read its terms. No ordering: the id and the
    # slug are unique, and compiling the catalog's default ordering was a fifth of E4's time. E4
    # and E5 never read the organization beyond its id: its row was a fifth of their lookup.
    related = ("organization",) if with_organization else ()
    datasets = Dataset.objects.select_related(*related, "license", "current_version__license").order_by()
    matches = list(datasets.filter(id=id_or_slug)[:1]) or list(datasets.filter(slug=id_or_slug)[:1])
    found = matches[0] if matches else None
    if found is None or found.status == Dataset.Status.DRAFT:
        raise exceptions.NotFound(_("No dataset with id or slug '%(id_or_slug)s'.") % {"id_or_slug": id_or_slug})
    # Before the takedown check: a removed private dataset's slug must not tell that it exists.
    if found.visibility == Dataset.Visibility.PRIVATE and found.id != id_or_slug:
        raise exceptions.NotFound(_("No dataset with id or slug '%(id_or_slug)s'.") % {"id_or_slug": id_or_slug})
    if found.status == Dataset.Status.REMOVED:
        raise Gone(takedown_sentence(_("Dataset '%(slug)s'") % {"slug": found.slug}, found.removal_reason))
    return found


class DatasetDetailApi(PublicCatalogView):
    @extend_schema(
        operation_id="mdc_get_dataset", tags=["mdc"], responses={200: schemas.MdcDatasetShape, **errors(410)}
    )
    def get(self, request: Request, id_or_slug: str) -> HttpResponse:
        # The same for every caller (no key is read), as the SDK asks it before each download: kept
        # until the catalog changes. A refusal (unknown, draft, taken down) is not kept.
        def answer() -> dict[str, object]:
            return dataset_details(find_dataset(id_or_slug), base_url=self.base_url(request))

        return kept_json(request, "mdc-dataset", answer)


class CroissantIncomplete(exceptions.APIException):
    status_code = 422
    default_code = "croissant_incomplete"


class DatasetMetadataApi(APIView):
    """The current version's Croissant JSON-LD (provenance.croissant), for search engines: no key
    needed, and one is read if sent. Unlike E3 (which serves a private dataset by its exact id to
    the SDK, which sends no key there), a private dataset is 404 but to its organization's members:
    this document is made to be indexed. Removed: 410, as E3."""

    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="mdc_get_dataset_metadata",
        tags=["mdc"],
        responses={
            (200, "application/ld+json"): OpenApiResponse(schemas.MdcCroissantShape),
            **errors(410, 422),
        },
    )
    def get(self, request: Request, id_or_slug: str) -> Response:
        named = Q(id=id_or_slug) | Q(slug=id_or_slug)
        dataset = visible_datasets(user=request.user).filter(named).select_related("organization").first()
        if dataset is None:
            removed = Dataset.objects.filter(named, status=Dataset.Status.REMOVED).first()
            if removed is not None and self._may_see(request, removed):
                raise Gone(takedown_sentence(_("Dataset '%(slug)s'") % {"slug": removed.slug}, removed.removal_reason))
            raise exceptions.NotFound(
                _("No dataset with id or slug '%(id_or_slug)s' that you may see.") % {"id_or_slug": id_or_slug}
            )
        version = dataset.current_version
        if version is None:
            raise exceptions.NotFound(_("%(dataset)s has no published version.") % {"dataset": dataset.name})
        download_url = request.build_absolute_uri(
            reverse("api-version-file-download", args=[dataset.id, version.number, "archive"])
        )
        try:
            document = croissant.build_catalog_record(
                version, base_url=request.build_absolute_uri("/").rstrip("/"), download_url=download_url,
                parquet_url=lambda index: request.build_absolute_uri(
                    reverse("api-viewer-parquet-file", args=[dataset.id, version.number, index])
                ),
            )  # fmt: skip
        except croissant.CroissantIncomplete as exc:
            raise CroissantIncomplete(str(exc)) from None
        response = Response(document, content_type="application/ld+json")
        # An hour of cache, as the platform serves it; shared caches only for what anyone may see.
        shared = dataset.visibility != Dataset.Visibility.PRIVATE
        response["Cache-Control"] = f"{'public' if shared else 'private'}, max-age=3600"
        return response

    @staticmethod
    def _may_see(request: Request, dataset: Dataset) -> bool:
        if dataset.visibility != Dataset.Visibility.PRIVATE:
            return True
        user = request.user
        if not isinstance(user, User):
            return False
        return Membership.objects.filter(organization_id=dataset.organization_id, user=user).exists()


class Refused(exceptions.APIException):
    """A download refusal, answered with the status licensing maps its reason to (402, 403, 404, 410)."""

    def __init__(self, refused: downloads.DownloadRefused) -> None:
        super().__init__(refused.verdict.message)
        self.status_code = REFUSAL_STATUS[refused.refusal]


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
        raise Refused(exc) from None


class DownloadView(APIView):
    permission_classes = [IsAuthenticated, HasScope]
    required_scope = "download"

    def current_version(self, id_or_slug: str) -> tuple[Dataset, DatasetVersion]:
        dataset = find_dataset(id_or_slug, with_organization=False)
        if dataset.current_version is None:
            raise exceptions.NotFound(
                _("%(dataset)s has no published version to download.") % {"dataset": dataset.name}
            )
        return dataset, dataset.current_version


class DatasetDownloadApi(DownloadView):
    """E4: a presigned GET of the current version's archive, its size and SHA-256."""

    @extend_schema(
        operation_id="mdc_download_dataset",
        tags=["mdc"],
        request=None,
        responses={200: schemas.MdcDownloadShape, **errors(402, 410)},
    )
    def post(self, request: Request, id_or_slug: str) -> Response:
        dataset, version = self.current_version(id_or_slug)
        issued = issue_download(request, dataset, version, downloads.Kind.ARCHIVE)
        return Response(
            headers=tdmrep.headers(dataset, absolute=request.build_absolute_uri),
            data={
                # Both name the download's audit record (licensing.models.DownloadRecord).
                "accessRecordId": issued.record.public_id,
                "downloadToken": f"dlt_{issued.record.token}",
                "downloadUrl": issued.url,
                # int64 as a digit string, as the document has it (the SDK reads int(str(x))).
                "sizeBytes": str(issued.size_bytes),
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
        responses={200: schemas.MdcSampleDownloadShape, **errors(402, 410)},
    )
    def post(self, request: Request, id_or_slug: str) -> Response:
        dataset, version = self.current_version(id_or_slug)
        if not version.sample_key:
            raise exceptions.NotFound(_("%(dataset)s has no sample.") % {"dataset": dataset.name})
        issued = issue_download(request, dataset, version, downloads.Kind.SAMPLE)
        return Response(
            headers=tdmrep.headers(dataset, absolute=request.build_absolute_uri),
            data={
                "downloadUrl": issued.url,
                "sizeBytes": str(issued.size_bytes),
                "filename": issued.filename,
                "contentType": "application/gzip",
                "version": version.number,
                "expiresAt": issued.expires_at.isoformat(),
            },
        )
