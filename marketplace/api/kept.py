"""A catalog answer kept as the bytes it is sent as: the same for every caller, so it is rendered
once, not loaded from the cache as objects and made JSON again on each request (of a kept
answer's CPU, about a third went to unpickling it and encoding it again)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpResponse
from rest_framework.renderers import JSONRenderer

from marketplace.catalog import search as catalog_search


def kept_json(request: Any, kind: str, make: Callable[[], Any]) -> HttpResponse:
    """The JSON answer of ``make`` to ``request``, kept until the catalog changes
    (``catalog.search.remembered``, named by ``answer_name``) and sent as JSON as DRF renders it."""
    body = catalog_search.remembered(catalog_search.answer_name(request, kind), lambda: JSONRenderer().render(make()))
    return HttpResponse(body, content_type=JSONRenderer.media_type)
