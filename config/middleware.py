"""Requests refused before any view: a NUL character anywhere in the URL.

PostgreSQL text cannot hold NUL, so ``%00`` in a path segment or a query value reached the
database as a lookup or filter and failed there as a 500. It is refused at the door with a 400
that says so: the error body under /api/ (config/api_errors.py), plain text on pages.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest

from config.api_errors import json_error

NUL = "\x00"
MESSAGE = "The URL cannot contain the NUL character (%00)."


def url_has_nul(request: HttpRequest) -> bool:
    if NUL in request.path:
        return True
    return any(NUL in key or any(NUL in value for value in values) for key, values in request.GET.lists())


class RefuseNulInUrlMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if url_has_nul(request):
            if request.path.startswith("/api/"):
                return json_error(400, MESSAGE)
            return HttpResponseBadRequest(MESSAGE, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
