"""Celery tasks of the licensing workflows, named explicitly so that services queue them by name."""

from __future__ import annotations

from datetime import timedelta

from celery import Task, shared_task
from django.conf import settings
from django.db import DatabaseError
from psycopg import OperationalError as PsycopgOperationalError

from config.task_retries import retry_or_leave
from licensing.consent import releases
from licensing.revenue import payments


@shared_task(
    name=releases.RERELEASE_TASK,
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    time_limit=settings.VALIDATION_TIME_LIMIT_SECONDS * 2,
    max_retries=settings.VALIDATION_MAX_RETRIES,
)
def rerelease(self: Task, rerelease_id: int) -> str:
    """Rewrite the dataset's current version without withdrawn records, validate and publish it."""
    try:
        return releases.run_rerelease(rerelease_id=rerelease_id)
    except (releases.RetryLater, DatabaseError, PsycopgOperationalError) as exc:
        what = f"re-release {rerelease_id}"
        return retry_or_leave(self, exc, what=what, max_retries=settings.VALIDATION_MAX_RETRIES)


@shared_task(name="licensing.tasks.requeue_stuck_rereleases", acks_late=True, soft_time_limit=120, time_limit=150)
def requeue_stuck_rereleases() -> int:
    """Beat's sweeper: re-release jobs queued or running for longer than a run may take."""
    return releases.requeue_stuck(older_than=timedelta(seconds=settings.VALIDATION_TIME_LIMIT_SECONDS * 2 + 60))


@shared_task(name="licensing.tasks.expire_invoices", acks_late=True, soft_time_limit=120, time_limit=150)
def expire_invoices() -> int:
    """Beat, hourly: open invoices past INVOICE_EXPIRY_DAYS become expired (paying them is refused
    before this runs too; this makes the state visible on every page)."""
    return payments.expire_overdue_invoices()
