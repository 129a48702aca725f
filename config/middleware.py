"""Requests refused before any view (a NUL character anywhere in the URL), and pages whose view
failed because the database or storage is down.

PostgreSQL text cannot hold NUL, so ``%00`` in a path segment or a query value reached the
database as a lookup or filter and failed there as a 500. It is refused at the door with a 400
that says so: the error body under /api/ (config/api_errors.py), plain text on pages.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.api_errors import UNAVAILABLE_RETRY_SECONDS, json_error, unavailable_dependency

logger = logging.getLogger(__name__)

NUL = "\x00"
MESSAGE = gettext_lazy("The URL cannot contain the NUL character (%00).")


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
                return json_error(400, str(MESSAGE))
            return HttpResponseBadRequest(str(MESSAGE), content_type="text/plain; charset=utf-8")
        return self.get_response(request)


class DependencyUnavailableMiddleware:
    """A page whose view failed because the database or object storage cannot be reached answers
    503 with ``Retry-After`` and a sentence naming the dependency, as the API does, instead of the
    500 page. The page is rendered without the request's context: the signed-in user and the
    session live in the database that is down."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        what = unavailable_dependency(exception)
        if what is None:
            return None
        logger.warning("%s answered 503: %s: %s", request.path, type(exception).__name__, exception)
        if request.path.startswith("/api/"):
            response: HttpResponse = json_error(503, _page_message(what))
        else:  # a page, in the visitor's language (LocaleMiddleware has chosen it)
            context = {"title": _("Temporarily unavailable"), "message": _page_message(what),
                       "site_name": settings.SITE_NAME}  # fmt: skip
            response = HttpResponse(render_to_string("error.html", context), status=503)
        response["Retry-After"] = UNAVAILABLE_RETRY_SECONDS
        return response


def _page_message(what: str) -> str:
    if what.startswith("Object storage"):
        return _("Object storage cannot be reached right now. Please try again in a minute.")
    return _("The database cannot be reached right now. Please try again in a minute.")
