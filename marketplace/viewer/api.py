"""The dataset viewer's API, per published version, shaped after the Hugging Face dataset viewer
(``/splits``, ``/rows``, ``/search``, ``/filter``, ``/statistics``, ``/parquet``) under
``/api/v1/datasets/{id}/versions/{number}/viewer/``.

Answers say which tables they come from (``source``: the archive's, or the sample's for callers
who may not download the version: ``marketplace.viewer.access``). Refusals go through the one
error mapping (``config.api_errors``): 404 unknown, 410 gone, 403 no sample to show, 409 with
``Retry-After`` while the tables are being converted, 400 for a bad parameter or predicate.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import msgspec
from django.core.cache import cache
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api_schema import Shape, errors
from licensing.keys.authentication import ApiKeyAuthentication, ApiKeyBasicAuthentication, HasScope
from marketplace import storage
from marketplace.viewer import access, queries
from marketplace.viewer.exports import parquet_filename

PARQUET_LINK_SECONDS = 300
# How long a page read is kept for the next who asks the same (it never goes stale: ``_answer``).
VIEWER_PAGE_SECONDS = 600
ROWS_JSON = msgspec.json.Encoder()


# --- Input ---------------------------------------------------------------------------------------


class PageInput(serializers.Serializer[Any]):
    split = serializers.CharField(max_length=200)
    offset = serializers.IntegerField(min_value=0, max_value=2**62, default=0)
    length = serializers.IntegerField(min_value=0, max_value=queries.MAX_LENGTH, default=queries.MAX_LENGTH)


class SearchInput(PageInput):
    query = serializers.CharField(max_length=500, trim_whitespace=False)


class FilterInput(PageInput):
    where = serializers.CharField(max_length=2000, required=False, default="", allow_blank=True)
    orderby = serializers.CharField(max_length=500, required=False, default="", allow_blank=True)


class SplitInput(serializers.Serializer[Any]):
    split = serializers.CharField(max_length=200)


# --- Shapes (describe only) ----------------------------------------------------------------------


class FeatureShape(Shape):
    feature_idx = serializers.IntegerField()
    name = serializers.CharField()
    type = serializers.CharField(help_text="The column's DuckDB type (BIGINT, DOUBLE, VARCHAR, DATE, ...).")


class RowShape(Shape):
    row_idx = serializers.IntegerField()
    row = serializers.DictField(child=serializers.JSONField(allow_null=True))
    truncated_cells = serializers.ListField(child=serializers.CharField())


class PageShape(Shape):
    source = serializers.CharField(help_text="archive, or sample for callers who may not download the version.")  # type: ignore[assignment]  # a field, not Field.source
    split = serializers.CharField()
    features = FeatureShape(many=True)
    rows = RowShape(many=True)
    num_rows_total = serializers.IntegerField()
    num_rows_per_page = serializers.IntegerField()
    partial = serializers.BooleanField()  # type: ignore[assignment]  # a field, not BaseSerializer.partial


class SplitShape(Shape):
    dataset = serializers.CharField()
    version = serializers.IntegerField()
    split = serializers.CharField()
    num_rows = serializers.IntegerField()
    num_files = serializers.IntegerField()


class SplitsShape(Shape):
    source = serializers.CharField(help_text="archive, or sample for callers who may not download the version.")  # type: ignore[assignment]  # a field, not Field.source
    splits = SplitShape(many=True)
    problems = serializers.ListField(child=serializers.DictField(child=serializers.CharField()))


class ColumnStatisticsShape(Shape):
    column_name = serializers.CharField()
    column_type = serializers.CharField(help_text="The Arrow type of the column in the file it came from.")
    column_statistics = serializers.DictField(
        child=serializers.JSONField(allow_null=True),
        help_text="count and nulls; min, max, mean (numbers); min, max (dates); distinct and top "
        "[{value, count}] (text); true, false (booleans).",
    )
    path = serializers.CharField(help_text="The archive member the column belongs to.")


class StatisticsShape(Shape):
    source = serializers.CharField(help_text="archive, or sample for callers who may not download the version.")  # type: ignore[assignment]  # a field, not Field.source
    split = serializers.CharField()
    num_examples = serializers.IntegerField()
    statistics = ColumnStatisticsShape(many=True)


class ParquetFileShape(Shape):
    split = serializers.CharField()
    path = serializers.CharField(help_text="The archive member it was converted from.")
    filename = serializers.CharField()
    url = serializers.URLField(help_text="A presigned GET of the Parquet file.")
    size = serializers.IntegerField()
    sha256 = serializers.CharField()
    num_rows = serializers.IntegerField()


class ParquetShape(Shape):
    source = serializers.CharField(help_text="archive, or sample for callers who may not download the version.")  # type: ignore[assignment]  # a field, not Field.source
    expiresAt = serializers.DateTimeField()  # noqa: N815
    parquet_files = ParquetFileShape(many=True)


PAGE_ERRORS = errors(400, 403, 404, 409, 410)


# --- Views ---------------------------------------------------------------------------------------


class ViewerApi(APIView):
    """Readable by anyone who may see the dataset; API keys need the ``read`` scope (one scope per
    route, as everywhere: what the caller's license allows decides archive or sample)."""

    permission_classes = [AllowAny, HasScope]
    required_scope = "read"

    def viewable(self, request: Request, id: str, number: int) -> access.Viewable:
        return access.viewable(
            user=request.user, dataset_id=id, number=number,
            page_url=lambda dataset: request.build_absolute_uri(reverse("dataset-detail", args=[dataset.slug])),
        )  # fmt: skip


def _page(source: str, split: str, page: dict[str, Any], length: int) -> HttpResponse:
    """The answer of a page: its pieces rendered once (``_answer``) put together with what this
    request adds (whether it sees the archive or the sample), as DRF's JSON renderer would render
    the whole (compact, keys in this order)."""
    render = JSONRenderer().render
    body = b"".join((
        b'{"source":', render(source), b',"split":', render(split), b',"features":', page["features"],
        b',"rows":', page["rows"], b',"num_rows_total":', render(page["total"]),
        b',"num_rows_per_page":', render(length), b',"partial":false}',
    ))  # fmt: skip
    return HttpResponse(body, content_type=JSONRenderer.media_type)


def _answer(
    viewable: access.Viewable, route: str, data: dict[str, Any], read: Callable[[queries.SplitReader], queries.Page]
) -> HttpResponse:
    """A page of ``route`` (rows, search, filter) asked with ``data``, read from the split's tables
    or, when anyone asked the same of the same tables before, from the cache.

    A page is a function of the tables' bytes and what was asked, and the key names the tables by
    their SHA-256: it is never stale, and a new export is new tables. Who may read it is decided
    before, on every request (``viewable``): the cache holds what was read, never who may read it.
    The dataset page's first rows, a popular search or filter, the next page after the first: asked
    again, each is a cache read instead of a DuckDB query and a hundred rows made JSON (the page is
    kept as the JSON it is sent as)."""
    split = data["split"]
    tables = viewable.tables_of(split)
    asked = repr((route, [table["sha256"] for table in tables], sorted(data.items())))
    key = f"viewer:page-json:{hashlib.sha256(asked.encode()).hexdigest()}"
    page = cache.get(key)
    if page is None:
        with queries.reader_of(tables) as reader:
            found = read(reader)
        # The rows with msgspec, from C: the JSON renderer (the json module, through DRF's encoder
        # checking each value) took a tenth of an uncached page's CPU. Their cells are JSON's own
        # values already (``queries.SplitReader._answer``), so both write the same JSON.
        rows = ROWS_JSON.encode(found.rows)
        page = {"features": JSONRenderer().render(found.features), "rows": rows, "total": found.total}
        cache.set(key, page, VIEWER_PAGE_SECONDS)
    return _page(viewable.source, split, page, data["length"])


class SplitsApi(ViewerApi):
    """The version's splits (from file names: train, validation, test; or one ``train``)."""

    @extend_schema(responses={200: SplitsShape, **errors(403, 409, 410)})
    def get(self, request: Request, id: str, number: int) -> Response:
        viewable = self.viewable(request, id, number)
        splits = [
            {"dataset": id, "version": number, "split": split,
             "num_rows": sum(t["rows"] for t in viewable.tables_of(split)),
             "num_files": len(viewable.tables_of(split))}
            for split in viewable.splits()
        ]  # fmt: skip
        return Response({"source": viewable.source, "splits": splits, "problems": viewable.export.problems})


class RowsApi(ViewerApi):
    """A page of a split's rows, in file order: ``offset`` from 0, ``length`` up to 100."""

    @extend_schema(parameters=[PageInput], responses={200: PageShape, **PAGE_ERRORS})
    def get(self, request: Request, id: str, number: int) -> HttpResponse:
        params = PageInput(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        viewable = self.viewable(request, id, number)
        return _answer(viewable, "rows", data, lambda reader: reader.rows(offset=data["offset"], length=data["length"]))


class SearchApi(ViewerApi):
    """Rows whose text columns contain ``query`` (case-insensitive), in file order. Answered from
    the split's search index once the export has built it, by a scan of the text until then."""

    @extend_schema(parameters=[SearchInput], responses={200: PageShape, **PAGE_ERRORS})
    def get(self, request: Request, id: str, number: int) -> HttpResponse:
        params = SearchInput(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        viewable = self.viewable(request, id, number)

        def read(reader: queries.SplitReader) -> queries.Page:
            return reader.search(query=data["query"], offset=data["offset"], length=data["length"])

        return _answer(viewable, "search", data, read)


class FilterApi(ViewerApi):
    """Rows matching ``where`` (comparisons ``= != < <= > >=`` of a column with a 'quoted' text or a
    number, ``IS [NOT] NULL``, ``AND``, ``OR``, ``NOT``, parentheses), in ``orderby``'s order
    (``column [ASC|DESC], ...``). A bad expression is a 400 naming the problem and its position."""

    @extend_schema(parameters=[FilterInput], responses={200: PageShape, **PAGE_ERRORS})
    def get(self, request: Request, id: str, number: int) -> HttpResponse:
        params = FilterInput(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        viewable = self.viewable(request, id, number)

        def read(reader: queries.SplitReader) -> queries.Page:
            return reader.filter(
                where=data["where"], orderby=data["orderby"], offset=data["offset"], length=data["length"]
            )

        return _answer(viewable, "filter", data, read)


class StatisticsApi(ViewerApi):
    """Each column's type and statistics, computed when the tables were converted."""

    @extend_schema(parameters=[SplitInput], responses={200: StatisticsShape, **PAGE_ERRORS})
    def get(self, request: Request, id: str, number: int) -> Response:
        params = SplitInput(data=request.query_params)
        params.is_valid(raise_exception=True)
        split = params.validated_data["split"]
        viewable = self.viewable(request, id, number)
        found = viewable.tables_of(split)
        statistics = [
            {"column_name": column["name"], "column_type": column["type"],
             "column_statistics": column["statistics"], "path": table["path"]}
            for table in found for column in table["columns"]
        ]  # fmt: skip
        return Response({"source": viewable.source, "split": split,
                         "num_examples": sum(t["rows"] for t in found), "statistics": statistics})  # fmt: skip


class ParquetApi(ViewerApi):
    """The Parquet files, as presigned GETs valid for five minutes: pandas, Hugging Face
    ``datasets`` and DuckDB read them."""

    @extend_schema(
        parameters=[OpenApiParameter("split", str, required=False, description="Only this split's files.")],
        responses={200: ParquetShape, **PAGE_ERRORS},
    )
    def get(self, request: Request, id: str, number: int) -> Response:
        split = request.query_params.get("split")
        viewable = self.viewable(request, id, number)
        chosen = viewable.tables_of(split) if split else viewable.export.tables
        files = []
        for index, table in enumerate(chosen):
            filename = parquet_filename(table, index)
            files.append(
                {"split": table["split"], "path": table["path"], "filename": filename,
                 "url": storage.presigned_get(table["key"], filename=filename, expires_in=PARQUET_LINK_SECONDS),
                 "size": table["size"], "sha256": table["sha256"], "num_rows": table["rows"]}
            )  # fmt: skip
        expires = timezone.now() + timedelta(seconds=PARQUET_LINK_SECONDS)
        return Response({"source": viewable.source, "expiresAt": expires.isoformat(), "parquet_files": files})


class ParquetFileApi(ViewerApi):
    """One Parquet file of the archive's tables (``index`` as in ``parquet``), answered with a 302 to
    a presigned GET valid for five minutes: the ``contentUrl`` of the version's Croissant document,
    so that a plain HTTP client (mlcroissant, pandas, curl) gets the bytes with an API key, Bearer or
    HTTP Basic with the key as password (what mlcroissant sends). Access is the viewer's; callers
    shown only the sample's tables are refused (403): this file is the archive's."""

    authentication_classes = [ApiKeyAuthentication, ApiKeyBasicAuthentication, SessionAuthentication]

    @extend_schema(
        operation_id="v1_datasets_versions_viewer_parquet_file_retrieve",
        parameters=[OpenApiParameter("index", int, OpenApiParameter.PATH, description="From 0, in archive order.")],
        responses={
            (302, "application/x-parquet"): OpenApiResponse(description="To a presigned GET of the file."),
            **errors(403, 404, 409, 410),
        },
    )
    def get(self, request: Request, id: str, number: int, index: int) -> HttpResponseRedirect:
        viewable = self.viewable(request, id, number)
        if viewable.source != "archive":
            raise PermissionDenied(
                _(
                    "Only the sample's tables of %(dataset)s are open to you; the archive's Parquet "
                    "files are for those who may download the version (accept its terms, or ask for "
                    "access)."
                )
                % {"dataset": viewable.dataset.name}
            )
        tables = viewable.export.tables
        if index >= len(tables):
            raise ObjectDoesNotExist(
                _("Version %(number)s of %(dataset)s has %(count)s Parquet files.")
                % {"number": number, "dataset": viewable.dataset.name, "count": len(tables)}
            )
        table = tables[index]
        url = storage.presigned_get(
            table["key"], filename=parquet_filename(table, index), expires_in=PARQUET_LINK_SECONDS
        )
        response = HttpResponseRedirect(url)
        response["Cache-Control"] = "no-store"  # the link is short-lived and this caller's
        return response
