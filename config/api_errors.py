"""Every API error is a JSON object with ``error`` and ``message`` strings.

The MDC SDK reads ``body["message"] or body["error"]`` (DRF's ``detail`` is not read), so
both carry one plain sentence; validation errors keep the per-field list in ``errors``.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from psycopg import OperationalError as PsycopgOperationalError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from config import refusals

logger = logging.getLogger(__name__)


def _flatten(detail: Any, prefix: str = "") -> list[str]:
    if isinstance(detail, dict):
        messages: list[str] = []
        for key, value in detail.items():
            label = f"{prefix}{key}" if key != "non_field_errors" else prefix.rstrip(".")
            messages.extend(_flatten(value, f"{label}." if label else ""))
        return messages
    if isinstance(detail, list):
        return [message for item in detail for message in _flatten(item, prefix)]
    text = str(detail)
    label = prefix.rstrip(".")
    return [f"{label}: {text}" if label else text]


def error_body(message: str, **extra: Any) -> dict[str, Any]:
    return {"error": message, "message": message, **extra}


# A dependency that is down is not the client's fault nor a bug: 503 with a retry hint, not a 500
# traceback (the services leave nothing half-written when a call to storage fails).
UNAVAILABLE_RETRY_SECONDS = "30"


def unavailable_dependency(exc: Exception) -> str | None:
    """The sentence naming the dependency whose outage raised ``exc``, or None for anything else."""
    from marketplace import storage

    if storage.is_transient(exc):
        return "Object storage cannot be reached right now"
    if isinstance(exc, OperationalError | InterfaceError | PsycopgOperationalError):  # psycopg's: lock connections
        return "The database cannot be reached right now"
    return None


def _unavailable(exc: Exception) -> Response | None:
    what = unavailable_dependency(exc)
    if what is None:
        return None
    logger.warning("API answered 503: %s: %s", type(exc).__name__, exc)
    if what.startswith("Object storage"):
        message = _("Object storage cannot be reached right now. Retry in a minute.")
    else:
        message = _("The database cannot be reached right now. Retry in a minute.")
    response = Response(error_body(message), status=status.HTTP_503_SERVICE_UNAVAILABLE)
    response["Retry-After"] = UNAVAILABLE_RETRY_SECONDS
    return response


class ConflictAnswer(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = gettext_lazy("This cannot be done in the current state.")
    default_code = "conflict"


class GoneAnswer(exceptions.APIException):
    status_code = status.HTTP_410_GONE
    default_detail = gettext_lazy("This was removed.")
    default_code = "gone"


def api_exception(exc: Exception) -> exceptions.APIException | None:
    """The API's answer to a refusal a service raised (``config.refusals``), or None for an
    exception that is not one. The one place where what happened becomes an HTTP status."""
    if isinstance(exc, exceptions.APIException):
        return exc
    if isinstance(exc, Http404 | ObjectDoesNotExist):
        return exceptions.NotFound(*exc.args)
    if isinstance(exc, PermissionDenied | refusals.UnverifiedEmail):
        return exceptions.PermissionDenied(*exc.args)
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            return exceptions.ValidationError(exc.message_dict)
        return exceptions.ValidationError(" ".join(exc.messages))
    if isinstance(exc, refusals.NotReady):
        answer = ConflictAnswer(str(exc))
        answer.wait = exc.retry_after  # type: ignore[attr-defined]  # DRF's handler sends it as Retry-After
        return answer
    if isinstance(exc, refusals.Conflict):
        return ConflictAnswer(str(exc))
    if isinstance(exc, refusals.Gone):
        return GoneAnswer(str(exc))
    return None


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    exc = api_exception(exc) or exc
    response = drf_exception_handler(exc, context)
    if response is None:
        return _unavailable(exc)
    if isinstance(exc, exceptions.ValidationError):
        messages = _flatten(exc.detail)
        response.data = error_body("; ".join(messages) or _("Invalid request."), errors=exc.detail)
    elif isinstance(exc, exceptions.APIException):
        response.data = error_body(" ".join(_flatten(exc.detail)))
    if response.status_code == status.HTTP_429_TOO_MANY_REQUESTS and "Retry-After" not in response:
        response["Retry-After"] = "60"
    return response


def json_error(status_code: int, message: str) -> JsonResponse:
    return JsonResponse(error_body(message), status=status_code)
