"""Celery tasks of the marketplace. Tasks take ids (JSON only) and call services."""

from celery import shared_task
from django.contrib.sessions.models import Session
from django.utils import timezone


@shared_task(acks_late=True, soft_time_limit=120, time_limit=150)
def clear_expired_sessions() -> int:
    """Delete expired login sessions (beat runs it daily). Idempotent."""
    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted
