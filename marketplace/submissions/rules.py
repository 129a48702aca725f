"""What a submission is allowed to be, read by every step of its workflow: the datasheet's fields
and limits (the MDC contract's camelCase names), what review needs, who may upload and review, and
when a submission can still be changed. No writes live here.
"""

from __future__ import annotations

from django.db import models

from config import refusals
from marketplace.models import (
    Dataset,
    Membership,
    Submission,
    User,
)

# camelCase of the contract -> model field.
STRING_FIELDS = {
    "name": "name",
    "shortDescription": "short_description",
    "longDescription": "long_description",
    "locale": "locale",
    "format": "format",
    "license": "license_name",
    "licenseUrl": "license_url",
    "other": "other",
    "restrictions": "restrictions",
    "forbiddenUsage": "forbidden_usage",
    "additionalConditions": "additional_conditions",
    "pointOfContactFullName": "point_of_contact_full_name",
    "pointOfContactEmail": "point_of_contact_email",
    "fundedByFullName": "funded_by_full_name",
    "fundedByEmail": "funded_by_email",
    "legalContactFullName": "legal_contact_full_name",
    "legalContactEmail": "legal_contact_email",
    "createdByFullName": "created_by_full_name",
    "createdByEmail": "created_by_email",
    "intendedUsage": "intended_usage",
    "ethicalReviewProcess": "ethical_review_process",
    # Not in the MDC contract: the exact text of custom terms (an SPDX id needs none).
    "licenseText": "license_text",
}


BOOLEAN_FIELDS = {
    "showContactInfo": "show_contact_info",
    "showComplianceAttributes": "show_compliance_attributes",
    "exclusivityOptOut": "exclusivity_opt_out",
    "autoApproveAccessRequests": "auto_approve_access_requests",
    "isPaid": "is_paid",
}


EMAIL_FIELDS = {"pointOfContactEmail", "fundedByEmail", "legalContactEmail", "createdByEmail"}


OTHER_FIELDS = {"task", "licenseAbbreviation", "visibility", "basePriceCents", "currency"}


UPDATABLE = set(STRING_FIELDS) | set(BOOLEAN_FIELDS) | OTHER_FIELDS


# The MDC platform's length limits (UpdateSubmissionRequest, CreateSubmissionRequest in
# ../shared/mdc-openapi.json). A text the platform bounds more tightly than our column is held to
# the platform's limit, so a datasheet written here is one the platform accepts; where the platform
# sets none, or a looser one, the column's limit applies (parse_changes takes the smaller).
MDC_TEXT_LIMITS = {
    "name": 255, "shortDescription": 160, "longDescription": 7500, "locale": 20, "format": 50,
    "licenseAbbreviation": 25, "license": 1000, "restrictions": 7500, "forbiddenUsage": 7500,
    "other": 25_000, "additionalConditions": 7500, "intendedUsage": 7500, "ethicalReviewProcess": 7500,
}  # fmt: skip


# Fields the platform lets a client set to null, which clears them (its `type: [..., "null"]`).
# Every other text but the name may be cleared with "" instead; null there is refused.
NULLABLE = {
    "shortDescription", "licenseUrl", "other", "additionalConditions", "fundedByFullName", "fundedByEmail",
    "legalContactFullName", "legalContactEmail", "createdByFullName", "createdByEmail", "intendedUsage",
    "ethicalReviewProcess", "exclusivityOptOut", "basePriceCents", "currency", "licenseText",
}  # fmt: skip


# The price range the platform accepts (MDC platform OpenAPI): $100 to $50,000.
MIN_PRICE_CENTS, MAX_PRICE_CENTS = 10_000, 5_000_000


# What a reviewer needs to judge a dataset; submitting without any of them is refused.
REQUIRED_TO_SUBMIT = {
    "name": "name",
    "shortDescription": "short_description",
    "longDescription": "long_description",
    "locale": "locale",
    "task": "task",
    "format": "format",
    "licenseAbbreviation": "license_abbreviation",
    "intendedUsage": "intended_usage",
    "pointOfContactFullName": "point_of_contact_full_name",
    "pointOfContactEmail": "point_of_contact_email",
}


UPLOADER_ROLES = (Membership.Role.OWNER, Membership.Role.ADMIN, Membership.Role.MEMBER)


class SubmissionGone(refusals.Gone):
    """The submission was deleted."""


class SubmissionConflict(refusals.Conflict):
    """The submission is in a state that does not allow this change."""


def text_limit(model: type[models.Model], field_name: str) -> int | None:
    """The database's length limit of a text column (None for an unbounded TextField)."""
    field = model._meta.get_field(field_name)
    return field.max_length if isinstance(field, models.Field) else None


def effective_text_limit(key: str) -> int | None:
    """The length limit of a datasheet text: the platform's or the column's, whichever is smaller."""
    limits = [limit for limit in (MDC_TEXT_LIMITS.get(key), text_limit(Submission, STRING_FIELDS[key])) if limit]
    return min(limits) if limits else None


# A draft, or a rejected submission its contributors fix: the only states in which anything of a
# submission (datasheet, uploads, consent, split, parents) changes.
EDITABLE_STATUSES = (Submission.Status.DRAFT, Submission.Status.REJECTED)


def is_editable(submission: Submission) -> bool:
    return submission.status in EDITABLE_STATUSES


def ensure_editable(submission: Submission, *, what: str = "it can no longer be edited") -> None:
    """Refuse a change to a submission that is submitted, approved or deleted; ``what`` ends the
    sentence, saying what cannot happen any more."""
    if not is_editable(submission):
        raise SubmissionConflict(f"This submission is {submission.get_status_display().lower()}: {what}.")


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
