"""Consent withdrawal becomes a re-release: the dataset's current version, rewritten without the
withdrawn records, validated and published as the next version (at once, or after a reviewer
approves it, as the organization chose).

Each withdrawal queues one job (``schedule``). The job removes every withdrawal of the dataset
recorded so far from its current version: the archive members whose SHA-256 or path a withdrawal
names (read from the version's signed manifest), and the rows of index files (CSV, TSV, JSON
Lines) whose record-id column (the datasheet's ``record_id_column``) names a withdrawn record or
a removed file. The archive is streamed through ``marketplace.inspection.rewrite`` in bounded
memory; the result goes through the same validation as an upload, as a draft of version N+1
carrying the current datasheet, license, consent terms (without the withdrawn contributors'
records) and revenue split. Once it has found records to remove, the source version answers 410
and names its replacement as soon as that is published.

A job may run twice (a retry after a worker died): a draft it left behind is deleted and the
rewrite starts over. Jobs of one dataset run one at a time (an advisory lock).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from celery import current_app
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from licensing.consent import records as contributor_records
from licensing.models import ConsentWithdrawal, Rerelease
from marketplace import storage
from marketplace.catalog.search import forget_facets
from marketplace.inspection.rewrite import RewriteFailed, RewriteResult, Withdrawn, rewrite_archive
from marketplace.models import Dataset, DatasetVersion, Submission, Upload, Validation
from marketplace.submissions import drafts, review, validation
from provenance import manifests

logger = logging.getLogger(__name__)

# The worker's entry point (licensing.tasks) is queued by name: this module does not import it back.
RERELEASE_TASK = "licensing.tasks.rerelease"
Status = Rerelease.Status


class RetryLater(Exception):
    """Storage or another job of the same dataset is in the way: the task retries."""


class CannotRerelease(Exception):
    """Why no clean version can be made, in words for the organization."""


def schedule(withdrawal: ConsentWithdrawal) -> Rerelease:
    """Queue the re-release of a withdrawal once its transaction commits (call inside it)."""
    rerelease = Rerelease.objects.create(dataset_id=withdrawal.dataset_id, withdrawal=withdrawal)
    rerelease_id = rerelease.id
    # robust: a broker that is down must not undo the withdrawal; the job is recorded as queued.
    transaction.on_commit(lambda: enqueue(rerelease_id), robust=True)
    return rerelease


def enqueue(rerelease_id: int) -> None:
    current_app.send_task(RERELEASE_TASK, args=(rerelease_id,))


def requeue_stuck(*, older_than: timedelta, now: datetime | None = None) -> int:
    """Queue again the jobs nobody finished: queued while the broker was down, or running when
    their worker died (a live run holds the dataset's lock, so a second one just retries later)."""
    cutoff = (now or timezone.now()) - older_than
    stuck = Rerelease.objects.filter(
        Q(status=Status.QUEUED, created_at__lt=cutoff) | Q(status=Status.RUNNING, started_at__lt=cutoff)
    ).values_list("id", flat=True)
    ids = list(stuck[:500])
    for rerelease_id in ids:
        enqueue(rerelease_id)
    return len(ids)


def run_rerelease(*, rerelease_id: int) -> str:
    """The job: returns what it did, in a line for the worker's log."""
    rerelease = Rerelease.objects.filter(id=rerelease_id).first()
    if rerelease is None:
        return "unknown re-release"
    with validation.held_lock(f"rerelease:{rerelease.dataset_id}") as taken:
        if not taken:
            raise RetryLater(f"another re-release of dataset {rerelease.dataset_id} is running")
        rerelease.refresh_from_db()
        if rerelease.status not in (Status.QUEUED, Status.RUNNING):
            return f"already {rerelease.status}"
        _discard_leftovers(rerelease)
        Rerelease.objects.filter(id=rerelease.id).update(status=Status.RUNNING, started_at=timezone.now(), error="")
        try:
            return _rerelease(rerelease)
        except RetryLater:
            raise
        except CannotRerelease as exc:
            rerelease.refresh_from_db()
            _discard_leftovers(rerelease)
            _finish(rerelease, Status.FAILED, error=str(exc))
            return f"failed: {exc}"
        except Exception as exc:
            if storage.is_transient(exc):
                raise RetryLater(f"storage is unavailable: {exc}") from exc
            logger.exception("re-release %s failed", rerelease.id)
            _finish(rerelease, Status.FAILED, error=f"The re-release stopped on an unexpected error: {exc}")
            raise


def _rerelease(rerelease: Rerelease) -> str:
    dataset = Dataset.objects.select_related("organization").get(id=rerelease.dataset_id)
    source = dataset.current_version
    if dataset.status != Dataset.Status.PUBLISHED or source is None:
        raise CannotRerelease(f"{dataset.name} is {dataset.get_status_display().lower()}: it gets no new versions.")
    files = _signed_files(source)
    withdrawals = list(ConsentWithdrawal.objects.filter(dataset=dataset).order_by("id"))
    records = {record for withdrawal in withdrawals for record in withdrawal.record_ids}
    hashes = {digest for withdrawal in withdrawals for digest in withdrawal.file_hashes}
    # A withdrawal naming its contributor id as a record takes every record of that contributor:
    # their rows (by the contributor-id column) and the files those rows name in this version.
    contributors = frozenset(
        w.contributor_id for w in withdrawals if w.contributor_id and w.contributor_id in w.record_ids
    )
    contributor_column = dataset.contributor_id_column.strip() if contributors else ""
    for contributor in sorted(contributors) if contributor_column else ():
        found = contributor_records.records_of(source, contributor)
        if found.pending:
            raise RetryLater(found.problem)
        records.update(found.record_ids)
        hashes.update(found.file_hashes)
    drop = frozenset(f["path"] for f in files if f["sha256"] in hashes or f["path"] in records)
    column = dataset.record_id_column.strip()
    if not drop and not column and not contributor_column:
        _finish(rerelease, Status.NOTHING_TO_REMOVE, source_version=source)
        return f"nothing to remove: version {source.number} holds none of the withdrawn files"
    withdrawn = Withdrawn(
        paths=drop,
        records=frozenset(records),
        record_id_column=column,
        contributors=contributors,
        contributor_id_column=contributor_column,
    )
    author = rerelease.withdrawal.recorded_by
    with transaction.atomic():
        submission = drafts.draft_next_version(author=author, dataset=dataset)
        Rerelease.objects.filter(id=rerelease.id).update(submission=submission)
    key = f"quarantine/{submission.id}/archive-rerelease-{rerelease.id}.tar.gz"
    try:
        result = rewrite_archive(
            source.archive_key, key, withdrawn=withdrawn, expected={f["path"]: f["sha256"] for f in files}
        )
    except RewriteFailed as exc:
        raise CannotRerelease(f"Version {source.number}'s archive could not be rewritten: {exc}") from exc
    if not result.removed_files and not result.removed_rows:
        storage.delete(key)
        drafts.delete_submission(submission=submission)
        _finish(rerelease, Status.NOTHING_TO_REMOVE, source_version=source, submission=None)
        return f"nothing to remove: version {source.number} holds none of the withdrawn records"
    # From here the source version is withdrawn (410): it holds records whose consent is gone.
    Rerelease.objects.filter(id=rerelease.id).update(
        source_version=source, removed_files=result.removed_files, removed_rows=result.removed_rows
    )
    transaction.on_commit(forget_facets)  # the version is withdrawn: what the viewer kept of it goes
    _supersede_reviews(dataset, keep=rerelease)
    archive = _completed_upload(submission, Upload.Kind.ARCHIVE, key, result, author=author)
    sample = None
    if source.sample_key:
        sample_key = f"quarantine/{submission.id}/sample-rerelease-{rerelease.id}.tar.gz"
        try:
            sample_result = rewrite_archive(source.sample_key, sample_key, withdrawn=withdrawn)
        except RewriteFailed as exc:
            raise CannotRerelease(f"Version {source.number}'s sample could not be rewritten: {exc}") from exc
        sample = _completed_upload(submission, Upload.Kind.SAMPLE, sample_key, sample_result, author=author)
    Submission.objects.filter(id=submission.id).update(
        archive_upload=archive,
        sample_upload=sample,
        changelog=changelog(source, result, withdrawals),
        updated_at=timezone.now(),
    )
    for upload in (archive, sample):
        if upload is not None:
            _validate(upload)
    submission.refresh_from_db()
    seen = withdrawals[-1].id if withdrawals else 0
    try:
        drafts.submit_submission(submission=submission)
        if dataset.organization.withdrawal_releases == dataset.organization.WithdrawalReleases.REVIEW:
            _finish(rerelease, Status.IN_REVIEW)
            return f"version {source.number} rewritten; waiting for a reviewer (submission {submission.id})"
        version = review.publish_without_review(submission=submission)
    except (ValidationError, PermissionDenied) as exc:  # what keeps it from review, in its words
        if ConsentWithdrawal.objects.filter(dataset=dataset, id__gt=seen).exists():
            # A withdrawal recorded while this job ran: the archive still holds its records, and
            # that withdrawal's own job (queued behind this one) removes them all.
            rerelease.refresh_from_db()
            _discard_leftovers(rerelease)
            _finish(rerelease, Status.SUPERSEDED)
            return "superseded: a withdrawal recorded meanwhile has its own job, which removes every one"
        raise CannotRerelease(f"The re-release could not be published: {_message(exc)}") from exc
    _finish(rerelease, Status.PUBLISHED, version=version)
    return f"published version {version.number} without {len(result.removed_files)} files"


def _signed_files(version: DatasetVersion) -> list[dict[str, Any]]:
    try:
        return manifests.signed_files(version).files
    except (manifests.ManifestMissing, manifests.ManifestInvalid) as exc:
        raise CannotRerelease(str(exc)) from exc


def _completed_upload(submission: Submission, kind: str, key: str, result: RewriteResult, *, author: Any) -> Upload:
    now = timezone.now()
    return Upload.objects.create(
        submission=submission,
        kind=kind,
        filename=f"{submission.dataset.slug if submission.dataset else 'dataset'}-rerelease.tar.gz",
        size_bytes=result.size_bytes,
        mime_type="application/gzip",
        object_key=key,
        s3_upload_id="",
        status=Upload.Status.COMPLETED,
        sha256=result.sha256,
        created_by=author,
        completed_at=now,
    )


def _validate(upload: Upload) -> None:
    """The same validation an upload gets, run here rather than queued: the job waits for it."""
    Validation.objects.get_or_create(upload=upload)
    validation.run_validation(upload_id=upload.id)
    report = Validation.objects.get(upload=upload)
    if report.status != Validation.Status.PASSED:
        errors = "; ".join(f"{e.get('path') or 'archive'}: {e.get('message')}" for e in (report.errors or [])[:3])
        raise CannotRerelease(f"The rewritten {upload.kind} failed validation: {errors or report.status}.")


def changelog(source: DatasetVersion, result: RewriteResult, withdrawals: list[ConsentWithdrawal]) -> str:
    files = len(result.removed_files)
    rows = sum(result.removed_rows.values())
    parts = []
    if files:
        parts.append(f"{files} file{'s' if files != 1 else ''}")
    if rows:
        parts.append(f"{rows} row{'s' if rows != 1 else ''} of index files")
    numbers = ", ".join(str(w.id) for w in withdrawals)
    return (
        f"Version {source.number} without the records whose consent was withdrawn (withdrawal {numbers}): "
        f"removed {' and '.join(parts)}. Nothing else changed."
    )


def _supersede_reviews(dataset: Dataset, *, keep: Rerelease) -> None:
    """An earlier re-release still waiting for a reviewer lacks this withdrawal: this one replaces it."""
    waiting = Rerelease.objects.filter(dataset=dataset, status=Status.IN_REVIEW).exclude(id=keep.id)
    for older in waiting.select_related("submission"):
        if older.submission is not None and older.submission.status == Submission.Status.SUBMITTED:
            drafts.delete_submission(submission=older.submission)
        _finish(older, Status.SUPERSEDED)


def _discard_leftovers(rerelease: Rerelease) -> None:
    """A retried job starts over: the draft (and its objects) an interrupted run left go."""
    if rerelease.submission_id is None:
        return
    submission = Submission.objects.filter(id=rerelease.submission_id).first()
    if submission is not None and submission.status in (Submission.Status.DRAFT, Submission.Status.SUBMITTED):
        for upload in submission.uploads.all():
            storage.delete(upload.object_key)
        drafts.delete_submission(submission=submission)
    Rerelease.objects.filter(id=rerelease.id).update(submission=None)


def _finish(rerelease: Rerelease, status: str, **fields: Any) -> None:
    Rerelease.objects.filter(id=rerelease.id).update(status=status, finished_at=timezone.now(), **fields)
    transaction.on_commit(forget_facets)
    rerelease.refresh_from_db()


def _message(exc: Exception) -> str:
    messages = getattr(exc, "messages", None)
    return " ".join(messages) if messages else str(exc)


def rerelease_json(rerelease: Rerelease) -> dict[str, Any]:
    return {
        "id": rerelease.id,
        "status": rerelease.status,
        "sourceVersion": rerelease.source_version.number if rerelease.source_version else None,
        "version": rerelease.version.number if rerelease.version else None,
        "submissionId": rerelease.submission_id,
        "removedFiles": rerelease.removed_files,
        "removedRows": rerelease.removed_rows,
        "error": rerelease.error or None,
        "createdAt": rerelease.created_at.isoformat(),
        "finishedAt": rerelease.finished_at.isoformat() if rerelease.finished_at else None,
    }
