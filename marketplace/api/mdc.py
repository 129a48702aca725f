"""The catalog endpoints of the MDC contract: E1 ``GET /api/datasets``, E2 ``/api/datasets/filters``,
E3 ``/api/datasets/{idOrSlug}``. All three are public: no key is read, a stray key is ignored."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from marketplace import catalog
from marketplace.api.mdc_serializers import dataset_details
from marketplace.models import Dataset


class Gone(exceptions.APIException):
    status_code = 410
    default_detail = "This dataset was removed."
    default_code = "gone"


class PublicCatalogView(APIView):
    authentication_classes: list[type] = []
    permission_classes = [AllowAny]

    def base_url(self, request: Request) -> str:
        return request.build_absolute_uri("/").rstrip("/")


@extend_schema(exclude=True)
class DatasetListApi(PublicCatalogView):
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


@extend_schema(exclude=True)
class DatasetFiltersApi(PublicCatalogView):
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
    if found.status == Dataset.Status.REMOVED:
        reason = f": {found.removal_reason}" if found.removal_reason else "."
        raise Gone(f"Dataset '{found.slug}' was removed{reason}")
    if found.visibility == Dataset.Visibility.PRIVATE and found.id != id_or_slug:
        raise exceptions.NotFound(f"No dataset with id or slug '{id_or_slug}'.")
    return found


@extend_schema(exclude=True)
class DatasetDetailApi(PublicCatalogView):
    def get(self, request: Request, id_or_slug: str) -> Response:
        return Response(dataset_details(find_dataset(id_or_slug), base_url=self.base_url(request)))
