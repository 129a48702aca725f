"""Drafts: a contributor's submission of a dataset, its datasheet edits, submitting and deleting.

The writes behind the MDC contract's E7-E10 (``../shared/mdc-sdk-contract.md``) and the pages.
Payloads arrive in the contract's camelCase and are checked here, so that the API and the
browser refuse the same things with the same messages.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.db import transaction
from django.utils import timezone

from licensing.licenses import spdx_license
from marketplace import storage
from marketplace.models import (
    Dataset,
    Membership,
    Organization,
    RevenueShare,
    Submission,
    Task,
    Upload,
    User,
    Visibility,
)
from marketplace.submissions import reports
from marketplace.submissions.rules import (
    BOOLEAN_FIELDS,
    DATASHEET_FIELDS,
    EMAIL_FIELDS,
    MAX_PRICE_CENTS,
    MDC_TEXT_LIMITS,
    MIN_PRICE_CENTS,
    NULLABLE,
    REQUIRED_TO_SUBMIT,
    STRING_FIELDS,
    UPDATABLE,
    UPLOADER_ROLES,
    SubmissionConflict,
    SubmissionGone,
    effective_text_limit,
    ensure_editable,
    is_editable,
    text_limit,
)
from provenance.lineage import license_problems

logger = logging.getLogger(__name__)


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
    ensure_editable(locked, what="its datasheet can no longer be edited")
    opted_out_before = locked.exclusivity_opt_out
    for field, value in changes.items():
        setattr(locked, field, value)
    if locked.exclusivity_opt_out != opted_out_before:
        locked.exclusivity_opted_out_at = timezone.now() if locked.exclusivity_opt_out else None
    if changes.get("is_paid") is False:
        locked.base_price_cents = None
    if "license_abbreviation" in changes:
        # With the SDK's License enum, `license` and `licenseUrl` are not sent: derive them.
        known = spdx_license(locked.license_abbreviation)
        if known is not None:
            locked.license_name = changes.get("license_name") or known.name
            locked.license_url = changes.get("license_url") or known.url
    if locked.is_paid and not locked.base_price_cents:
        raise ValidationError({"basePriceCents": ["a paid dataset needs basePriceCents (with currency 'usd')"]})
    locked.status = Submission.Status.DRAFT
    locked.updated_at = timezone.now()
    locked.save()
    return locked


def submission_problems(submission: Submission) -> list[str]:
    """What keeps the submission from review, in words a contributor can act on."""
    problems = [f"{camel} is missing" for camel, field in REQUIRED_TO_SUBMIT.items() if not getattr(submission, field)]
    if submission.is_paid and not submission.base_price_cents:
        problems.append("basePriceCents is missing for a paid dataset")
    if (
        submission.license_abbreviation
        and not submission.license_text.strip()
        and not spdx_license(submission.license_abbreviation)
    ):
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
    report = reports.brief(upload)
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
    if not is_editable(locked):
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
