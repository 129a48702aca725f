"""What a submission is allowed to be, read by every step of its workflow: what review needs, who
may upload and review, and when a submission can still be changed. No writes live here; the
datasheet's fields and limits are checked where input arrives (``inputs``).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext as _

from config import refusals
from marketplace.models import (
    Dataset,
    Membership,
    Submission,
    User,
)
from marketplace.permissions import UPLOADER_ROLES as UPLOADER_ROLES  # with the other roles; read here too

# What a reviewer needs to judge a dataset; submitting without any of them is refused.
# Named as the contract names them (inputs.MODEL_FIELD gives their model fields).
REQUIRED_TO_SUBMIT = (
    "name", "shortDescription", "longDescription", "locale", "task", "format", "licenseAbbreviation",
    "intendedUsage", "pointOfContactFullName", "pointOfContactEmail",
)  # fmt: skip


class SubmissionGone(refusals.Gone):
    """The submission was deleted."""


class SubmissionConflict(refusals.Conflict):
    """The submission is in a state that does not allow this change."""


def text_limit(model: type[models.Model], field_name: str) -> int | None:
    """The database's length limit of a text column (None for an unbounded TextField)."""
    field = model._meta.get_field(field_name)
    return field.max_length if isinstance(field, models.Field) else None


# A draft, or a rejected submission its contributors fix: the only states in which anything of a
# submission (datasheet, uploads, consent, split, parents) changes.
EDITABLE_STATUSES = (Submission.Status.DRAFT, Submission.Status.REJECTED)


def is_editable(submission: Submission) -> bool:
    return submission.status in EDITABLE_STATUSES


def ensure_editable(submission: Submission, *, what: str = "") -> None:
    """Refuse a change to a submission that is submitted, approved or deleted; ``what`` ends the
    sentence, saying what cannot happen any more."""
    if not is_editable(submission):
        raise SubmissionConflict(
            _("This submission is %(status)s: %(what)s.")
            % {"status": submission.get_status_display().lower(), "what": what or _("it can no longer be edited")}
        )


REVIEWER_ROLES = (Membership.Role.REVIEWER, Membership.Role.ADMIN, Membership.Role.OWNER)


def can_review(user: User, submission: Submission) -> bool:
    """Staff, and the organization's reviewers, admins and owners, review its submissions; never the
    contributor who made it (nobody approves their own work)."""
    if not user.is_authenticated or user.pk == submission.created_by_id:
        return False
    if user.is_staff:
        return True
    return Membership.objects.filter(organization=submission.organization, user=user, role__in=REVIEWER_ROLES).exists()


def can_open_review(user: User, submission: Submission) -> bool:
    """The review page shows what was handed in for review (waiting, or already decided). A draft
    stays with the organization's contributors until they submit it: its reviewers, who may not
    open its edit page either, do not read it early through the review page."""
    return submission.status != Submission.Status.DRAFT and can_review(user, submission)


DATASHEET_FIELDS = [
    field.name
    for field in Submission._meta.get_fields()
    if field.concrete and field.model is Submission and field.name in {f.name for f in Dataset._meta.fields}
    and field.name not in {"id", "organization", "name", "status", "created_at", "updated_at", "license"}
]  # fmt: skip
