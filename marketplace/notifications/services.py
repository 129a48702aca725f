"""Writing notifications, and emailing them once their transaction commits."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from celery import current_app
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from licensing.models import LicenseGrant
from marketplace.models import Dataset, Membership, Notification, User
from marketplace.notifications.messages import render_for

EMAIL_TASK = "marketplace.tasks.email_notifications"


def notify(*, users: Iterable[User | int], kind: str, params: dict[str, Any], link: str = "") -> list[Notification]:
    """Tell each of ``users`` (people or their ids, each once) that ``kind`` happened. Called inside
    the transaction of the state change, so the notification commits with it or not at all; the
    emails are queued once it commits."""
    if kind not in Notification.Kind.values:
        raise ValueError(f"Unknown notification kind {kind!r}.")
    user_ids = sorted({user if isinstance(user, int) else user.pk for user in users})
    if not user_ids:
        return []
    now = timezone.now()
    created = Notification.objects.bulk_create(
        [Notification(user_id=user_id, kind=kind, params=params, link=link, created_at=now) for user_id in user_ids]
    )
    ids = [notification.pk for notification in created]
    transaction.on_commit(lambda: current_app.send_task(EMAIL_TASK, args=(ids,)), robust=True)
    return created


def notify_licensees(*, dataset: Dataset, kind: str, params: dict[str, Any]) -> list[Notification]:
    """Tell everyone who licensed the dataset (each once, however many grants they hold)."""
    licensees = LicenseGrant.objects.filter(dataset_id=dataset.pk).values_list("user_id", flat=True).distinct()
    link = reverse("dataset-detail", args=[dataset.slug])
    return notify(users=list(licensees), kind=kind, params={"dataset": dataset.name, **params}, link=link)


def notify_review_ended(*, submission: Any, kind: str, params: dict[str, Any], reviewer: User | None) -> None:
    """Tell the submitter and the organization's owners and admins how a review ended (not the
    reviewer, who decided it)."""
    admins = Membership.objects.filter(
        organization_id=submission.organization_id, role__in=[Membership.Role.OWNER, Membership.Role.ADMIN]
    ).values_list("user_id", flat=True)
    users = {submission.created_by_id, *admins} - ({reviewer.pk} if reviewer is not None else set())
    link = reverse("submission-edit", args=[submission.pk])
    notify(users=users, kind=kind, params={"submission": submission.name, **params}, link=link)


def email_notifications(*, notification_ids: list[int]) -> int:
    """Email each notification to its recipient, in their language, at most once (a notification
    already emailed, or whose recipient has no address, is skipped). Returns how many were sent."""
    sent = 0
    pending = Notification.objects.filter(id__in=notification_ids, emailed_at__isnull=True).select_related("user")
    for notification in pending:
        if not notification.user.email:
            continue
        # Claim it first: of two workers given the same id, one sends.
        if not Notification.objects.filter(id=notification.pk, emailed_at__isnull=True).update(
            emailed_at=timezone.now()
        ):
            continue
        text = render_for(notification)
        body = text.body
        if notification.link and settings.SITE_URL:
            body += "\n\n" + settings.SITE_URL.rstrip("/") + notification.link
        try:
            send_mail(f"[{settings.SITE_NAME}] {text.title}", body, None, [notification.user.email])
        except Exception:
            # Not sent: free the claim, so the task's retry (or a later run) sends it.
            Notification.objects.filter(id=notification.pk).update(emailed_at=None)
            raise
        sent += 1
    return sent


def mark_all_read(*, user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())


def remember_language(*, user: User, language: str) -> None:
    """Keep the language a signed-in person chose: their emails are written in it."""
    if language in dict(settings.LANGUAGES) and user.language != language:
        User.objects.filter(pk=user.pk).update(language=language)
        user.language = language
