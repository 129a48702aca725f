"""Submissions: a contributor's draft of a dataset, its datasheet edits, submitting and deleting.

The writes behind the MDC contract's E7-E10 (``../shared/mdc-sdk-contract.md``) and the pages.
Payloads arrive in the contract's camelCase and are checked here, so that the API and the
browser refuse the same things with the same messages.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.db import models, transaction
from django.utils import timezone
from django.utils.text import slugify

from licensing.licenses import Permissions, create_license
from licensing.models import License
from marketplace import storage, validation
from marketplace.models import (
    Dataset,
    DatasetVersion,
    Membership,
    Organization,
    RevenueShare,
    Submission,
    Task,
    Upload,
    User,
    Visibility,
)
from marketplace.services import create_dataset, publish_version
from provenance.lineage import license_problems

logger = logging.getLogger(__name__)

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


class SubmissionGone(Exception):
    """The submission was deleted (410)."""


class SubmissionConflict(Exception):
    """The submission is in a state that does not allow this change (409)."""


def uploading_organization(*, user: User) -> Organization:
    """The organization a new submission belongs to: the user's earliest membership (as owner,
    admin or member) in an organization approved to upload."""
    memberships = Membership.objects.filter(user=user, role__in=UPLOADER_ROLES).select_related("organization")
    approved = memberships.filter(organization__approved_to_upload=True).order_by("created_at", "id").first()
    if approved is not None:
        return approved.organization
    waiting = memberships.order_by("created_at", "id").first()
    if waiting is not None:
        raise PermissionDenied(
            f"{waiting.organization.name} is not approved to upload yet: staff approve organizations before "
            "their members can submit datasets."
        )
    raise PermissionDenied(
        "You are not an owner, admin or member of an organization approved to upload. Create an organization "
        "(/organizations/new/) or ask one to invite you."
    )


def create_submission(*, user: User, name: Any, long_description: Any = "") -> Submission:
    """E7: a draft with its name and, optionally, its long description (CreateSubmissionRequest)."""
    errors: dict[str, list[str]] = {}
    parsed: dict[str, str] = {}
    for key, value in (("name", name), ("longDescription", long_description)):
        text, problem = _text_value(key, value)
        if problem:
            errors[key] = [problem]
        elif key == "name" and not text:
            errors[key] = ["give the submission a name (a non-empty string)"]
        else:
            parsed[key] = text or ""
    if errors:
        raise ValidationError(errors)
    organization = uploading_organization(user=user)
    return Submission.objects.create(
        organization=organization, created_by=user, name=parsed["name"], long_description=parsed["longDescription"]
    )


def create_version_submission(*, user: User, dataset: Dataset) -> Submission:
    """A draft of the next version of a published dataset, in the dataset's organization, carrying
    its current datasheet and license: approving it publishes version N+1 of the same dataset (a
    correction, or the re-release without records whose consent was withdrawn). The datasheet is
    copied because approval writes the submission's datasheet over the dataset's."""
    if not Membership.objects.filter(organization=dataset.organization, user=user, role__in=UPLOADER_ROLES).exists():
        raise PermissionDenied(f"Only owners, admins and members of {dataset.organization.name} add versions.")
    if dataset.status != Dataset.Status.PUBLISHED:
        raise SubmissionConflict(f"{dataset.name} is {dataset.get_status_display().lower()}: it gets no new versions.")
    if not dataset.organization.approved_to_upload:
        raise PermissionDenied(f"{dataset.organization.name} is not approved to upload yet.")
    license = dataset.license
    terms: dict[str, Any] = {}
    if license is not None:
        terms = {"license_abbreviation": license.spdx_id or license.name, "license_name": license.name}
        if not license.spdx_id:  # custom terms: the exact text licensees accepted
            terms["license_text"] = license.text
    return Submission.objects.create(
        organization=dataset.organization,
        created_by=user,
        dataset=dataset,
        name=dataset.name,
        **{field: getattr(dataset, field) for field in DATASHEET_FIELDS},
        **terms,
    )


def submission_for(*, user: User, submission_id: str) -> Submission:
    """A submission the user may change: 404 unknown, 410 deleted, 403 another organization's."""
    submission = Submission.objects.select_related("organization").filter(id=submission_id).first()
    if submission is None:
        raise Submission.DoesNotExist(f"No submission with id '{submission_id}'.")
    if not Membership.objects.filter(organization=submission.organization, user=user, role__in=UPLOADER_ROLES).exists():
        raise PermissionDenied("This submission belongs to an organization you cannot submit for.")
    if submission.status == Submission.Status.DELETED:
        raise SubmissionGone(f"Submission '{submission_id}' was deleted.")
    return submission


def text_limit(model: type[models.Model], field_name: str) -> int | None:
    """The database's length limit of a text column (None for an unbounded TextField)."""
    field = model._meta.get_field(field_name)
    return field.max_length if isinstance(field, models.Field) else None


def effective_text_limit(key: str) -> int | None:
    """The length limit of a datasheet text: the platform's or the column's, whichever is smaller."""
    limits = [limit for limit in (MDC_TEXT_LIMITS.get(key), text_limit(Submission, STRING_FIELDS[key])) if limit]
    return min(limits) if limits else None


def _text_value(key: str, value: Any) -> tuple[str | None, str | None]:
    """A datasheet text as stored ("" when cleared), or the problem with it in words."""
    if value is None:
        if key in NULLABLE:
            return "", None
        return None, 'cannot be null: send a string, or "" to clear it' if key != "name" else "cannot be null"
    if not isinstance(value, str):
        return None, "must be a string"
    value = value.strip()
    if not value:
        return ("", None) if key != "name" else (None, "must be a non-empty string")
    limit = effective_text_limit(key)
    if limit is not None and len(value) > limit:
        return None, f"is longer than {limit} characters"
    if key in EMAIL_FIELDS:
        try:
            EmailValidator()(value)
        except ValidationError:
            return None, f"{value!r} is not an email address"
    if key == "licenseUrl":
        try:
            URLValidator(schemes=["http", "https"])(value)
        except ValidationError:
            return None, f"{value!r} is not an http(s) URL"
    return value, None


def parse_changes(payload: Any) -> dict[str, Any]:
    """Check an E8 payload (the platform's UpdateSubmissionRequest) and return model field -> value.

    What the platform accepts is accepted: null clears the fields it marks nullable, "" clears
    every other text but the name (and the task and license), and its length limits hold. Every
    problem is reported at once."""
    if not isinstance(payload, dict):
        raise ValidationError("The body must be a JSON object of the fields to change.")
    if not payload:
        raise ValidationError("Nothing to update: send at least one field.")
    errors: dict[str, str] = {}
    changes: dict[str, Any] = {}
    unknown = sorted(set(payload) - UPDATABLE)
    if unknown:
        errors["fields"] = f"Unknown field(s): {', '.join(unknown)}."
    for key, value in payload.items():
        if key in STRING_FIELDS:
            text, problem = _text_value(key, value)
            if problem:
                errors[key] = problem
            else:
                changes[STRING_FIELDS[key]] = text
        elif key in BOOLEAN_FIELDS:
            if value is None and key in NULLABLE:
                changes[BOOLEAN_FIELDS[key]] = False  # null clears the opt-out
            elif not isinstance(value, bool):
                errors[key] = "must be true or false"
            else:
                changes[BOOLEAN_FIELDS[key]] = value
    if "task" in payload:
        task = payload["task"]
        if task == "":
            changes["task"] = ""
        elif task not in Task.values:
            errors["task"] = f'must be one of {", ".join(Task.values)}, or "" to clear it'
        else:
            changes["task"] = task
    if "visibility" in payload:
        if payload["visibility"] not in Visibility.values:
            errors["visibility"] = f"must be one of {', '.join(Visibility.values)}"
        else:
            changes["visibility"] = payload["visibility"]
    if "licenseAbbreviation" in payload:
        abbreviation = payload["licenseAbbreviation"]
        limit = MDC_TEXT_LIMITS["licenseAbbreviation"]
        if not isinstance(abbreviation, str):
            errors["licenseAbbreviation"] = 'must be an SPDX id, the name of custom terms, or "" to clear it'
        elif len(abbreviation.strip()) > limit:
            errors["licenseAbbreviation"] = f"is longer than {limit} characters"
        else:
            changes["license_abbreviation"] = abbreviation.strip()
    if "basePriceCents" in payload:
        price = payload["basePriceCents"]
        if price is None:
            changes["base_price_cents"] = None
        elif not isinstance(price, int) or isinstance(price, bool):
            errors["basePriceCents"] = "must be a whole number of cents, or null"
        elif not MIN_PRICE_CENTS <= price <= MAX_PRICE_CENTS:
            errors["basePriceCents"] = f"must be between {MIN_PRICE_CENTS} and {MAX_PRICE_CENTS} cents"
        else:
            changes["base_price_cents"] = price
    if "currency" in payload:
        # null is what the platform sends for a free dataset; 'usd' is the one currency either way.
        if payload["currency"] not in ("usd", None):
            errors["currency"] = "only 'usd' is supported (or null)"
        else:
            changes["currency"] = "usd"
    if errors:
        raise ValidationError({key: [message] for key, message in errors.items()})
    return changes


def ensure_editable(submission: Submission) -> None:
    if submission.status not in (Submission.Status.DRAFT, Submission.Status.REJECTED):
        raise SubmissionConflict(
            f"This submission is {submission.get_status_display().lower()}: it can no longer be edited."
        )


@transaction.atomic
def set_revenue_split(*, submission: Submission, contributors: Any) -> list[RevenueShare]:
    """Replace the split: users by username, or payees by name and email, with basis points
    that sum to exactly 10,000."""
    locked = Submission.objects.select_for_update().get(id=submission.id)
    ensure_editable(locked)
    if not isinstance(contributors, list) or not contributors:
        raise ValidationError("List at least one contributor with basisPoints.")
    problems: list[str] = []
    shares: list[RevenueShare] = []
    seen: set[str] = set()
    for position, item in enumerate(contributors, start=1):
        if not isinstance(item, dict):
            problems.append(f"contributor {position}: not an object")
            continue
        points = item.get("basisPoints")
        if not isinstance(points, int) or isinstance(points, bool) or not 1 <= points <= 10_000:
            problems.append(f"contributor {position}: basisPoints must be a whole number from 1 to 10000")
            points = 0
        username = item.get("username")
        if username is not None:
            user = User.objects.filter(username=username).first() if isinstance(username, str) else None
            if user is None:
                problems.append(f"contributor {position}: no user named {username!r}")
                continue
            who = f"user:{user.pk}"
            share = RevenueShare(submission=locked, user=user, basis_points=points)
        else:
            name, email = item.get("name"), item.get("email")
            if not isinstance(name, str) or not name.strip() or not isinstance(email, str):
                problems.append(f"contributor {position}: give a username, or a name and an email")
                continue
            name_limit = text_limit(RevenueShare, "payee_name")
            if name_limit is not None and len(name.strip()) > name_limit:
                problems.append(f"contributor {position}: the name is longer than {name_limit} characters")
                continue
            try:
                EmailValidator()(email.strip())
            except ValidationError:
                problems.append(f"contributor {position}: {email!r} is not an email address")
                continue
            who = f"email:{email.strip().lower()}"
            share = RevenueShare(
                submission=locked, payee_name=name.strip(), payee_email=email.strip(), basis_points=points
            )
        if who in seen:
            problems.append(f"contributor {position}: listed twice")
        seen.add(who)
        shares.append(share)
    total = sum(share.basis_points for share in shares)
    if not problems and total != 10_000:
        problems.append(f"the shares sum to {total} basis points; they must sum to exactly 10000 (100%)")
    if problems:
        raise ValidationError("The split was not changed: " + "; ".join(problems) + ".")
    locked.revenue_shares.all().delete()
    created = RevenueShare.objects.bulk_create(shares)
    Submission.objects.filter(id=locked.id).update(updated_at=timezone.now())
    return created


@transaction.atomic
def update_submission(*, submission: Submission, changes: dict[str, Any]) -> Submission:
    locked = Submission.objects.select_for_update().get(id=submission.id)
    if locked.status not in (Submission.Status.DRAFT, Submission.Status.REJECTED):
        raise SubmissionConflict(
            f"This submission is {locked.get_status_display().lower()}: its datasheet can no longer be edited."
        )
    opted_out_before = locked.exclusivity_opt_out
    for field, value in changes.items():
        setattr(locked, field, value)
    if locked.exclusivity_opt_out != opted_out_before:
        locked.exclusivity_opted_out_at = timezone.now() if locked.exclusivity_opt_out else None
    if changes.get("is_paid") is False:
        locked.base_price_cents = None
    if "license_abbreviation" in changes:
        # With the SDK's License enum, `license` and `licenseUrl` are not sent: derive them.
        known = License.objects.filter(spdx_id=locked.license_abbreviation).first()
        if known is not None:
            locked.license_name = changes.get("license_name") or known.name
            locked.license_url = changes.get("license_url") or known.url
    if locked.is_paid and not locked.base_price_cents:
        raise ValidationError({"basePriceCents": ["a paid dataset needs basePriceCents (with currency 'usd')"]})
    locked.status = Submission.Status.DRAFT
    locked.updated_at = timezone.now()
    locked.save()
    return locked


def spdx_license(submission: Submission) -> License | None:
    """The instance's SPDX license the submission names, if it names one."""
    if not submission.license_abbreviation:
        return None
    return License.objects.filter(spdx_id=submission.license_abbreviation).first()


def submission_problems(submission: Submission) -> list[str]:
    """What keeps the submission from review, in words a contributor can act on."""
    problems = [f"{camel} is missing" for camel, field in REQUIRED_TO_SUBMIT.items() if not getattr(submission, field)]
    if submission.is_paid and not submission.base_price_cents:
        problems.append("basePriceCents is missing for a paid dataset")
    if submission.license_abbreviation and not submission.license_text.strip() and not spdx_license(submission):
        problems.append(
            f"licenseText is missing: '{submission.license_abbreviation}' is not an SPDX license of this instance, "
            "so give the exact text of the custom terms"
        )
    if submission.archive_upload is None:
        problems.append("no archive upload has completed (upload the .tar.gz first)")
    for label, upload in (("archive", submission.archive_upload), ("sample", submission.sample_upload)):
        problem = validation_problem(label, upload, submission.id) if upload is not None else None
        if problem:
            problems.append(problem)
    if not submission.consent_terms.exists():
        problems.append("consent terms are missing (how, and under which terms, the data was given)")
    if not submission.revenue_shares.exists():
        problems.append("contributors and their revenue shares are missing (they must sum to 10,000 basis points)")
    problems += license_problems(submission)  # lineage: a parent's license must allow this one
    return problems


def validation_problem(label: str, upload: Upload, submission_id: str) -> str | None:
    """Why an upload's validation keeps the submission from review, or None once it passed."""
    report = validation.brief(upload)
    where = f"GET /api/v1/submissions/{submission_id}/validation or the submission page"
    if report["status"] == "passed":
        return None
    if report["status"] == "failed":
        count = len(report["errors"])
        first = report["errors"][0]["message"] if report["errors"] else ""
        return (
            f"the uploaded {label} failed validation with {count} error(s) ({first}); the report at {where} "
            f"lists them: fix them and upload the {label} again"
        )
    return f"the uploaded {label} is still being validated; submit once it has passed (progress: {where})"


@transaction.atomic
def submit_submission(*, submission: Submission, agree: Any) -> Submission:
    if agree is not True:
        raise ValidationError({"agreeToSubmit": ["must be true: agree to the submission terms to submit"]})
    locked = Submission.objects.select_for_update().get(id=submission.id)
    if locked.status == Submission.Status.SUBMITTED:
        return locked  # submitting twice is the same as once
    if locked.status not in (Submission.Status.DRAFT, Submission.Status.REJECTED):
        raise SubmissionConflict(f"This submission is {locked.get_status_display().lower()}.")
    problems = submission_problems(locked)
    if problems:
        raise ValidationError("Cannot submit yet: " + "; ".join(problems) + ".")
    now = timezone.now()
    locked.status, locked.submitted_at, locked.updated_at = Submission.Status.SUBMITTED, now, now
    locked.save(update_fields=["status", "submitted_at", "updated_at"])
    return locked


@transaction.atomic
def delete_submission(*, submission: Submission) -> None:
    """Delete a draft, submitted or rejected submission (a tombstone row stays)."""
    locked = Submission.objects.select_for_update().get(id=submission.id)
    if locked.status == Submission.Status.APPROVED:
        raise PermissionDenied("This submission is approved and published: it cannot be deleted.")
    now = timezone.now()
    locked.status, locked.deleted_at, locked.updated_at = Submission.Status.DELETED, now, now
    locked.save(update_fields=["status", "deleted_at", "updated_at"])
    live = locked.uploads.exclude(status=Upload.Status.ABORTED)
    files = list(live.values_list("object_key", "s3_upload_id", "status"))
    live.update(status=Upload.Status.ABORTED, error="the submission was deleted")
    transaction.on_commit(lambda: _remove_files(files))


def _remove_files(files: list[tuple[str, str, str]]) -> None:
    """Free a deleted submission's parts and objects. A failure is logged: the object sits in the
    quarantine prefix, which holds nothing published."""
    for key, s3_upload_id, status in files:
        try:
            if status in (Upload.Status.UPLOADING, Upload.Status.COMPLETING):
                storage.abort_multipart(key, upload_id=s3_upload_id)
            else:
                storage.delete(key)
        except Exception:
            logger.exception("could not remove %s of a deleted submission", key)


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


def review_queue(*, user: User) -> list[Submission]:
    """Submissions waiting for this reviewer, oldest first."""
    waiting = Submission.objects.filter(status=Submission.Status.SUBMITTED).exclude(created_by=user)
    if not user.is_staff:
        organizations = Membership.objects.filter(user=user, role__in=REVIEWER_ROLES).values("organization")
        waiting = waiting.filter(organization__in=organizations)
    return list(waiting.select_related("organization", "created_by").order_by("submitted_at", "id"))


def _license_for_approval(submission: Submission) -> License:
    known = spdx_license(submission)
    if known is not None:
        return known
    terms = submission.consent_terms.order_by("-created_at", "-id").first()
    # Custom terms grant no more than the contributors consented to.
    permissions = Permissions(
        commercial_use=bool(terms and terms.commercial_use),
        ai_training=bool(terms and terms.ai_training),
        derivatives=False,
        redistribution=bool(terms and terms.redistribution),
        attribution=True,
        share_alike=False,
    )
    return create_license(
        name=submission.license_name or submission.license_abbreviation,
        text=submission.license_text,
        permissions=permissions,
        url=submission.license_url,
        organization=submission.organization,
    )


DATASHEET_FIELDS = [
    field.name
    for field in Submission._meta.get_fields()
    if field.concrete and field.model is Submission and field.name in {f.name for f in Dataset._meta.fields}
    and field.name not in {"id", "organization", "name", "status", "created_at", "updated_at", "license"}
]  # fmt: skip


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
        raise PermissionDenied("Only the organization's reviewers or staff review a submission, never its author.")
    if locked.status != Submission.Status.SUBMITTED:
        raise SubmissionConflict(f"This submission is {locked.get_status_display().lower()}, not waiting for review.")
    problems = submission_problems(locked)
    archive = locked.archive_upload
    if problems or archive is None:
        raise ValidationError("It cannot be approved: " + "; ".join(problems) + ".")
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
    )
    now = timezone.now()
    Submission.objects.filter(id=locked.id).update(
        status=Submission.Status.APPROVED,
        dataset=dataset,
        version=version,
        reviewed_by=reviewer,
        reviewed_at=now,
        review_reason="",
        updated_at=now,
    )
    return version


@transaction.atomic
def reject_submission(*, submission: Submission, reviewer: User, reason: Any) -> Submission:
    """Send it back with a reason the contributor reads; they may edit it and submit again."""
    if not isinstance(reason, str) or not reason.strip():
        raise ValidationError({"reason": ["Say why it is rejected: the contributor reads it to fix the submission."]})
    locked = Submission.objects.select_for_update().get(id=submission.id)
    if not can_review(reviewer, locked):
        raise PermissionDenied("Only the organization's reviewers or staff review a submission, never its author.")
    if locked.status != Submission.Status.SUBMITTED:
        raise SubmissionConflict(f"This submission is {locked.get_status_display().lower()}, not waiting for review.")
    now = timezone.now()
    locked.status, locked.reviewed_by, locked.reviewed_at = Submission.Status.REJECTED, reviewer, now
    locked.review_reason, locked.updated_at = reason.strip(), now
    locked.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_reason", "updated_at"])
    return locked
