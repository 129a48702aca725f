"""The catalog feeds over HTTP: the DCAT-AP 3 catalog in Turtle and JSON-LD (``feeds``), paged,
``/catalog`` choosing between them and the HTML catalog by the Accept header, the sitemap's
robots.txt. Harvesters poll: each answer has an ETag and a Last-Modified, and a conditional GET
that matches answers 304."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.contrib.sitemaps import views as sitemap_views
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.http import http_date
from django.views.decorators.http import require_GET

from marketplace.catalog import feeds

TURTLE = "text/turtle"
JSON_LD = "application/ld+json"
# How long a harvester may reuse a page without asking again.
MAX_AGE_SECONDS = 300


def _page_number(request: HttpRequest) -> int | None:
    raw = request.GET.get("page", "1")
    if not raw.isdigit() or len(raw) > 9:
        return None
    return int(raw)


def _feed(request: HttpRequest, *, url_name: str, render: Callable[[feeds.FeedPage, str, Callable[[int], str]], str],
          content_type: str) -> HttpResponse:  # fmt: skip
    number = _page_number(request)
    if number is None or number < 1:
        return HttpResponseBadRequest("page must be a whole number, at least 1.", content_type="text/plain")
    page = feeds.feed_page(number)
    if page is None:
        return HttpResponse(f"No page {number}: the catalog has fewer pages.", status=404, content_type="text/plain")
    base_url = request.build_absolute_uri("/").rstrip("/")
    path = reverse(url_name)

    def page_url(n: int) -> str:
        return f"{base_url}{path}?page={n}"

    body = render(page, base_url, page_url).encode()
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    last_modified = int(page.modified.timestamp()) if page.modified else None
    conditional = get_conditional_response(request, etag=etag, last_modified=last_modified)
    response = conditional or HttpResponse(body, content_type=f"{content_type}; charset=utf-8")
    response["ETag"] = etag
    if last_modified is not None:
        response["Last-Modified"] = http_date(last_modified)
    response["Cache-Control"] = f"public, max-age={MAX_AGE_SECONDS}"
    response["Access-Control-Allow-Origin"] = "*"  # other instances' browsers may read the catalog
    return response


def _turtle(page: feeds.FeedPage, base_url: str, page_url: Callable[[int], str]) -> str:
    return feeds.catalog_graph(page, base_url=base_url, page_url=page_url).serialize(format="turtle")


def _sorted(value: Any) -> Any:
    """The JSON-LD with every array in one order: rdflib writes nodes and values in an order that
    varies between processes, and the same catalog must give the same bytes (and ETag) from every
    worker. Arrays here are unordered sets (rdflib writes no @list for the catalog)."""
    if isinstance(value, dict):
        return {key: _sorted(item) for key, item in value.items()}
    if isinstance(value, list):
        return sorted((_sorted(item) for item in value), key=lambda item: json.dumps(item, sort_keys=True))
    return value


def _jsonld(page: feeds.FeedPage, base_url: str, page_url: Callable[[int], str]) -> str:
    graph = feeds.catalog_graph(page, base_url=base_url, page_url=page_url)
    document = json.loads(graph.serialize(format="json-ld", context=feeds.jsonld_context(), auto_compact=True))
    return json.dumps(_sorted(document), ensure_ascii=False, indent=1, sort_keys=True)


@require_GET
def catalog_turtle(request: HttpRequest) -> HttpResponse:
    return _feed(request, url_name="catalog-turtle", render=_turtle, content_type=TURTLE)


@require_GET
def catalog_jsonld(request: HttpRequest) -> HttpResponse:
    return _feed(request, url_name="catalog-jsonld", render=_jsonld, content_type=JSON_LD)


@require_GET
def catalog_negotiate(request: HttpRequest) -> HttpResponse:
    """The catalog's IRI: a 303 to the Turtle or JSON-LD feed when the Accept header asks for
    one, else to the HTML catalog (httpRange-14: the IRI names the catalog, not a document)."""
    if request.accepts(TURTLE) and not request.accepts("text/html"):
        target = reverse("catalog-turtle")
    elif request.accepts(JSON_LD) and not request.accepts("text/html"):
        target = reverse("catalog-jsonld")
    else:
        target = reverse("catalog")
    if "page" in request.GET and target != reverse("catalog"):
        target += "?" + request.GET.urlencode()
    response = HttpResponseRedirect(target, status=303)
    patch_vary_headers(response, ["Accept"])
    return response


# django.contrib.sitemaps answers any method; a sitemap is only read.
sitemap_index = require_GET(sitemap_views.index)
sitemap_section = require_GET(sitemap_views.sitemap)


@require_GET
def robots_txt(request: HttpRequest) -> HttpResponse:
    sitemap = request.build_absolute_uri(reverse("sitemap-index"))
    lines = ["User-agent: *", "Disallow: /admin/", "Disallow: /account/", "", f"Sitemap: {sitemap}", ""]
    return HttpResponse("\n".join(lines), content_type="text/plain; charset=utf-8")
