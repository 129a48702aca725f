"""Error pages: JSON with ``error`` and ``message`` under /api/, a plain page elsewhere.

Both speak the caller's language (LocaleMiddleware: the language cookie, else Accept-Language);
a client that asks for none, as the SDK and the pipelines do, reads English. No page ever shows a
stack trace (DEBUG is off unless set)."""

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from config.api_errors import json_error


def _error(request: HttpRequest, status: int, title: Promise, message: Promise, **params: Any) -> HttpResponse:
    if request.path.startswith("/api/"):
        return json_error(status, str(message) % params)
    return render(request, "error.html", {"title": title, "message": str(message) % params}, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if isinstance(exception, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return _error(
            request,
            400,
            _("Request too large"),
            _("The request body is over %(limit)s bytes, this site's limit."),
            limit=limit,
        )
    return _error(request, 400, _("Bad request"), _("The request could not be understood."))


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 403, _("Not allowed"), _("You do not have access to this page."))


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 404, _("Not found"), _("Nothing is published at %(path)s."), path=request.path)


def server_error(request: HttpRequest) -> HttpResponse:
    return _error(request, 500, _("Something went wrong"), _("The error was logged. Please try again in a moment."))
