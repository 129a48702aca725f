"""Celery tasks of the marketplace. Tasks take ids (JSON only) and call services."""

import logging
from datetime import timedelta
from smtplib import SMTPException

from celery import Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import DatabaseError
from django.utils import timezone
from psycopg import OperationalError as PsycopgOperationalError

from config.task_retries import retry_or_leave
from marketplace.notifications import services as notification_services
from marketplace.submissions import validation
from marketplace.submissions.uploads import abort_stale_uploads
from marketplace.viewer import exports
from provenance import imports, members

logger = logging.getLogger(__name__)


@shared_task(name="marketplace.tasks.clear_expired_sessions", acks_late=True, soft_time_limit=120, time_limit=150)
def clear_expired_sessions() -> int:
    """Delete expired login sessions (beat runs it daily). Idempotent."""
    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted


@shared_task(name="marketplace.tasks.abort_unfinished_uploads", acks_late=True, soft_time_limit=600, time_limit=660)
def abort_unfinished_uploads() -> int:
    """Unfinished multipart uploads stay resumable for UPLOAD_RESUMABLE_DAYS, then their parts
    are freed (beat runs it hourly). Idempotent."""
    return abort_stale_uploads(older_than=timedelta(days=settings.UPLOAD_RESUMABLE_DAYS))


@shared_task(
    name=validation.VALIDATE_UPLOAD_TASK,
    bind=True,
    # A worker that dies mid-run (SIGKILL, OOM, lost host) leaves the message unacknowledged, so
    # the broker hands it to another worker; the run is idempotent, so running twice is safe.
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=settings.VALIDATION_TIME_LIMIT_SECONDS - 30,
    time_limit=settings.VALIDATION_TIME_LIMIT_SECONDS,
    max_retries=settings.VALIDATION_MAX_RETRIES,
)
def validate_upload(self: Task, upload_id: str) -> str:
    """Stream, hash and check a completed upload, then keep it for review or record what to fix."""
    try:
        return validation.run_validation(upload_id=upload_id)
    except SoftTimeLimitExceeded:
        validation.record_timeout(upload_id=upload_id, seconds=settings.VALIDATION_TIME_LIMIT_SECONDS - 30)
        return "failed: time limit"
    except (validation.RetryLater, DatabaseError, PsycopgOperationalError) as exc:
        # Past its retries beat's sweeper queues it again; VALIDATION_MAX_ATTEMPTS bounds the total.
        what = f"validation of upload {upload_id}"
        return retry_or_leave(self, exc, what=what, max_retries=settings.VALIDATION_MAX_RETRIES)


@shared_task(name="marketplace.tasks.requeue_stuck_validations", acks_late=True, soft_time_limit=120, time_limit=150)
def requeue_stuck_validations() -> int:
    """Queue again validations that no worker is finishing (beat runs it every few minutes)."""
    return validation.requeue_stuck(older_than=timedelta(seconds=settings.VALIDATION_STUCK_SECONDS))


# One read of the archive, like validation: the same time limit. The sweeper waits longer than it
# before queueing a pending version again, so a live run is never doubled.
MEMBERS_MAX_RETRIES = 3


@shared_task(
    name=members.STORE_MEMBERS_TASK,
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=settings.VALIDATION_TIME_LIMIT_SECONDS - 30,
    time_limit=settings.VALIDATION_TIME_LIMIT_SECONDS,
    max_retries=MEMBERS_MAX_RETRIES,
)
def store_version_members(self: Task, version_id: int) -> str:
    """Store each file of a published version under its content address, for delta downloads."""
    try:
        return members.store_members(version_id=version_id)
    except SoftTimeLimitExceeded:
        logger.warning("storing the files of version %s ran out of time; left for the sweeper", version_id)
        return "interrupted: time limit"
    except (members.RetryLater, DatabaseError, PsycopgOperationalError) as exc:
        return retry_or_leave(
            self, exc, what=f"storing the files of version {version_id}", max_retries=MEMBERS_MAX_RETRIES
        )


@shared_task(name=imports.IMPORT_TASK, acks_late=True, soft_time_limit=settings.CELERY_TASK_MAX_SECONDS - 5)
def import_organization(job_id: int) -> str:
    """Import an organization's bundle from another instance (``provenance.imports``)."""
    return imports.run(job_id).status


@shared_task(name="marketplace.tasks.requeue_unstored_members", acks_late=True, soft_time_limit=120, time_limit=150)
def requeue_unstored_members() -> int:
    """Queue again versions whose files no worker is storing (beat runs it every few minutes)."""
    return members.requeue_pending(older_than=timedelta(seconds=settings.VALIDATION_TIME_LIMIT_SECONDS + 60))


@shared_task(
    name=exports.EXPORT_TASK,
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=settings.VALIDATION_TIME_LIMIT_SECONDS - 30,
    time_limit=settings.VALIDATION_TIME_LIMIT_SECONDS,
    max_retries=MEMBERS_MAX_RETRIES,
)
def export_parquet(self: Task, upload_id: str) -> str:
    """Convert the tables of a validated upload to Parquet, with statistics, for the viewer."""
    try:
        return exports.export_upload(upload_id=upload_id)
    except SoftTimeLimitExceeded:
        logger.warning("parquet export of upload %s ran out of time; left for the sweeper", upload_id)
        return "interrupted: time limit"
    except (exports.RetryLater, DatabaseError, PsycopgOperationalError) as exc:
        what = f"parquet export of upload {upload_id}"
        return retry_or_leave(self, exc, what=what, max_retries=MEMBERS_MAX_RETRIES)


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    name=exports.INDEX_TASK,
    soft_time_limit=settings.VALIDATION_TIME_LIMIT_SECONDS - 30,
    time_limit=settings.VALIDATION_TIME_LIMIT_SECONDS,
    max_retries=MEMBERS_MAX_RETRIES,
)
def index_parquet(self: Task, upload_id: str) -> str:
    """Build the viewer's search index of each table of a ready export (after ``export_parquet``)."""
    try:
        return exports.index_upload(upload_id=upload_id)
    except SoftTimeLimitExceeded:
        logger.warning("search index of upload %s ran out of time; left for the sweeper", upload_id)
        return "interrupted: time limit"
    except (exports.RetryLater, DatabaseError, PsycopgOperationalError) as exc:
        return retry_or_leave(self, exc, what=f"search index of upload {upload_id}", max_retries=MEMBERS_MAX_RETRIES)


@shared_task(name="marketplace.tasks.requeue_parquet_exports", acks_late=True, soft_time_limit=120, time_limit=150)
def requeue_parquet_exports() -> int:
    """Queue again exports no worker is finishing, and validated uploads without one (beat). A run
    under way holds its lock and is left alone, so one left pending waits the validations' stuck
    time (15 minutes), not the longest run's time limit."""
    return exports.requeue_pending(older_than=timedelta(seconds=settings.VALIDATION_STUCK_SECONDS))


@shared_task(
    name="marketplace.tasks.email_notifications",
    acks_late=True,
    soft_time_limit=120,
    time_limit=150,
    # A mail server that is down or refuses for a while: try again, a bounded number of times.
    autoretry_for=(OSError, SMTPException),
    retry_backoff=30,
    max_retries=5,
)
def email_notifications(notification_ids: list[int]) -> int:
    """Email notifications once their state change committed, each at most once."""
    return notification_services.email_notifications(notification_ids=notification_ids)
