"""Celery tasks of the marketplace. Tasks take ids (JSON only) and call services."""

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.contrib.sessions.models import Session
from django.utils import timezone

from marketplace.uploads import abort_stale_uploads


@shared_task(acks_late=True, soft_time_limit=120, time_limit=150)
def clear_expired_sessions() -> int:
    """Delete expired login sessions (beat runs it daily). Idempotent."""
    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted


@shared_task(acks_late=True, soft_time_limit=600, time_limit=660)
def abort_unfinished_uploads() -> int:
    """Unfinished multipart uploads stay resumable for UPLOAD_RESUMABLE_DAYS, then their parts
    are freed (beat runs it hourly). Idempotent."""
    return abort_stale_uploads(older_than=timedelta(days=settings.UPLOAD_RESUMABLE_DAYS))
