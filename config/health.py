"""``GET /healthz``: 200 when the database, storage and broker all answer, else 503 naming the part
that failed and the kind of failure. The endpoint is public, so the exception's text (host names,
folders, credentials in URLs) goes to the log only."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

from django.conf import settings
from django.db import connections
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from marketplace import storage

logger = logging.getLogger(__name__)


def check_database() -> None:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT 1")


def check_storage() -> None:
    storage.ping()


def check_broker() -> None:
    from config.celery import app

    url = settings.CELERY_BROKER_URL
    if url.startswith("filesystem://"):
        folder = settings.CELERY_BROKER_DIR
        if not os.path.isdir(folder) or not os.access(folder, os.W_OK):
            raise OSError(f"broker folder {folder} is missing or not writable")
        return
    with app.connection_for_write(url) as conn:
        conn.ensure_connection(max_retries=1, timeout=3)


CHECKS: dict[str, Callable[[], None]] = {
    "database": check_database,
    "storage": check_storage,
    "broker": check_broker,
}


def public_reason(exc: Exception) -> str:
    """The kind of failure, without the exception's text; storage's HTTP status when it answered."""
    reason = type(exc).__name__
    for cause in (exc, exc.__cause__):
        answer = getattr(cause, "response", None)
        if isinstance(answer, dict):  # botocore's ClientError, or ours raised from one
            status = answer.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if status:
                return f"error: {reason} (HTTP {status})"
    return f"error: {reason}"


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    report: dict[str, str] = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as exc:  # any failure is a report, never a 500
            logger.warning("health check %s failed: %s: %s", name, type(exc).__name__, exc)
            report[name] = public_reason(exc)
        else:
            report[name] = "ok"
    healthy = all(value == "ok" for value in report.values())
    return JsonResponse(report, status=200 if healthy else 503)
