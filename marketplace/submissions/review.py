"""Review: the queue of submissions waiting for a reviewer, and the two decisions. Approval
publishes a version (of a new dataset, or of the one the submission names) through
``marketplace.publishing``; rejection sends the submission back with a reason.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from licensing.licenses import create_license, custom_terms_permissions, spdx_license
from licensing.models import ConsentTerms, License, Rerelease
from marketplace.models import (
    Dataset,
    DatasetVersion,
    Membership,
    Notification,
    Submission,
    User,
)
from marketplace.notifications.services import notify_licensees, notify_review_ended
from marketplace.publishing import create_dataset, publish_version
from marketplace.submissions.drafts import submission_problems
from marketplace.submissions.rules import DATASHEET_FIELDS, REVIEWER_ROLES, SubmissionConflict, can_review


def review_queue(*, user: User) -> list[Submission]:
    """Submissions waiting for this reviewer, oldest first."""
    waiting = Submission.objects.filter(status=Submission.Status.SUBMITTED).exclude(created_by=user)
    if not user.is_staff:
        organizations = Membership.objects.filter(user=user, role__in=REVIEWER_ROLES).values("organization")
        waiting = waiting.filter(organization__in=organizations)
    return list(waiting.select_related("organization", "created_by").order_by("submitted_at", "id"))


def _license_for_approval(submission: Submission) -> License:
    known = spdx_license(submission.license_abbreviation)
    if known is not None:
        return known
    permissions = custom_terms_permissions(ConsentTerms.objects.current_for(submission))
    return create_license(
        name=submission.license_name or submission.license_abbreviation,
        text=submission.license_text,
        permissions=permissions,
        url=submission.license_url,
        organization=submission.organization,
    )


def _unique_slug(name: str) -> str:
    base = slugify(name)[:80].strip("-") or "dataset"
    slug, n = base, 1
    while Dataset.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def approve_submission(*, submission: Submission, reviewer: User) -> DatasetVersion:
    """Publish the submission as a new immutable version (of a new dataset, or of the one it names)."""
    locked = (
        Submission.objects.select_for_update(of=("self",))
        .select_related("archive_upload", "sample_upload")
        .get(id=submission.id)
    )
    if not can_review(reviewer, locked):
        raise PermissionDenied(_("Only the organization's reviewers or staff review a submission, never its author."))
    return _publish(locked, reviewer=reviewer)


@transaction.atomic
def publish_without_review(*, submission: Submission) -> DatasetVersion:
    """Publish a submitted version nobody reviews: the re-release without withdrawn records, when
    the organization chose to publish those at once (its ``withdrawal_releases``)."""
    locked = (
        Submission.objects.select_for_update(of=("self",))
        .select_related("archive_upload", "sample_upload", "organization")
        .get(id=submission.id)
    )
    if locked.organization.withdrawal_releases != locked.organization.WithdrawalReleases.AUTOMATIC:
        raise PermissionDenied(
            _("%(organization)s reviews its re-releases: a reviewer approves this one.")
            % {"organization": locked.organization.name}
        )
    return _publish(locked, reviewer=None)


def _publish(locked: Submission, *, reviewer: User | None) -> DatasetVersion:
    if locked.status != Submission.Status.SUBMITTED:
        raise SubmissionConflict(
            _("This submission is %(status)s, not waiting for review.")
            % {"status": locked.get_status_display().lower()}
        )
    problems = submission_problems(locked)
    archive = locked.archive_upload
    if problems or archive is None:
        raise ValidationError(_("It cannot be approved: %(items)s.") % {"items": "; ".join(problems)})
    license = _license_for_approval(locked)
    datasheet = {field: getattr(locked, field) for field in DATASHEET_FIELDS}
    if locked.dataset_id is None:
        dataset = create_dataset(
            organization=locked.organization, slug=_unique_slug(locked.name), name=locked.name, **datasheet
        )
    else:
        dataset = Dataset.objects.get(id=locked.dataset_id)
        Dataset.objects.filter(id=dataset.id).update(name=locked.name, **datasheet)
    sample = locked.sample_upload if locked.sample_upload and locked.sample_upload.status == "completed" else None
    version = publish_version(
        dataset=dataset,
        archive_key=archive.object_key,
        size_bytes=archive.size_bytes,
        sha256=archive.sha256,
        license=license,
        sample_key=sample.object_key if sample else "",
        sample_size_bytes=sample.size_bytes if sample else None,
        submission=locked,
        changelog=locked.changelog,
    )
    now = timezone.now()
    # A re-release after a consent withdrawal that waited for this review is now published.
    rereleased = Rerelease.objects.filter(submission=locked, status=Rerelease.Status.IN_REVIEW).update(
        status=Rerelease.Status.PUBLISHED, version=version, finished_at=now
    )
    Submission.objects.filter(id=locked.id).update(
        status=Submission.Status.APPROVED,
        dataset=dataset,
        version=version,
        reviewed_by=reviewer,
        reviewed_at=now,
        review_reason="",
        updated_at=now,
    )
    if reviewer is not None:
        notify_review_ended(
            submission=locked,
            kind=Notification.Kind.REVIEW_APPROVED,
            params={"dataset": locked.name, "version": version.number},
            reviewer=reviewer,
        )
    if rereleased:
        notify_licensees(
            dataset=dataset,
            kind=Notification.Kind.RERELEASED,
            params={"dataset": locked.name, "version": version.number},
        )
    return version


@transaction.atomic
def reject_submission(*, submission: Submission, reviewer: User, reason: str) -> Submission:
    """Send it back with a reason the contributor reads; they may edit it and submit again."""
    if not reason.strip():
        raise ValidationError({"reason": ["Say why it is rejected: the contributor reads it to fix the submission."]})
    locked = Submission.objects.select_for_update().get(id=submission.id)
    if not can_review(reviewer, locked):
        raise PermissionDenied(_("Only the organization's reviewers or staff review a submission, never its author."))
    if locked.status != Submission.Status.SUBMITTED:
        raise SubmissionConflict(
            _("This submission is %(status)s, not waiting for review.")
            % {"status": locked.get_status_display().lower()}
        )
    now = timezone.now()
    locked.status, locked.reviewed_by, locked.reviewed_at = Submission.Status.REJECTED, reviewer, now
    locked.review_reason, locked.updated_at = reason.strip(), now
    Rerelease.objects.filter(submission=locked, status=Rerelease.Status.IN_REVIEW).update(
        status=Rerelease.Status.FAILED, finished_at=now, error=f"A reviewer rejected it: {reason.strip()}"
    )
    locked.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_reason", "updated_at"])
    notify_review_ended(
        submission=locked,
        kind=Notification.Kind.REVIEW_REJECTED,
        params={"reason": locked.review_reason},
        reviewer=reviewer,
    )
    return locked
