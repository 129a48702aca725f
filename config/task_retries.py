"""What every long Celery task of the project does when storage or the database is in the way:
retry with a growing wait, and past its retries leave the work to beat's sweeper."""

from __future__ import annotations

import logging
from typing import NoReturn

from celery import Task
from django.conf import settings

logger = logging.getLogger(__name__)


def retry_or_leave(task: Task, exc: Exception, *, what: str, max_retries: int) -> str:
    """Raise Celery's retry (``VALIDATION_RETRY_SECONDS`` doubling, at most an hour); after
    ``max_retries`` return what the worker logs, and the sweeper queues the task again later."""
    retries = task.request.retries
    if retries >= max_retries:
        logger.warning("%s stopped after %d retries: %s", what, retries, exc)
        return "interrupted: left for the sweeper"
    _retry(task, exc, what=what, countdown=min(settings.VALIDATION_RETRY_SECONDS * 2**retries, 3600))


def _retry(task: Task, exc: Exception, *, what: str, countdown: int) -> NoReturn:
    logger.info("%s interrupted (%s); retrying in %d s", what, exc, countdown)
    raise task.retry(exc=exc, countdown=countdown) from exc
