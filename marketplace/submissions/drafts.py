"""Drafts: a contributor's submission of a dataset, its datasheet edits, submitting and deleting.

The writes behind the MDC contract's E7-E10 (``../shared/mdc-sdk-contract.md``) and the pages.
They take typed values (``inputs``), which the API and the pages build with the same checks, so
that both refuse the same things with the same messages.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop, ngettext

from licensing.consent import terms as consent
from licensing.consent.scope import license_beyond_consent
from licensing.licenses import spdx_license
from licensing.models import ConsentTerms, ConsentWithdrawal, Rerelease
from marketplace import storage
from marketplace.inspection.texts import finding_text
from marketplace.models import (
    Dataset,
    Membership,
    Organization,
    RevenueShare,
    Submission,
    Upload,
    User,
)
from marketplace.submissions import reports
from marketplace.submissions.inputs import MODEL_FIELD, DatasheetChanges, Share, split_refusal
from marketplace.submissions.rules import (
    DATASHEET_FIELDS,
    REQUIRED_TO_SUBMIT,
    UPLOADER_ROLES,
    SubmissionConflict,
    SubmissionGone,
    ensure_editable,
    is_editable,
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
            _(
                "%(organization)s is not approved to upload yet: staff approve organizations "
                "before their members can submit datasets."
            )
            % {"organization": waiting.organization.name}
        )
    raise PermissionDenied(
        _(
            "You are not an owner, admin or member of an organization approved to upload. "
            "Create an organization (/organizations/new/) or ask one to invite you."
        )
    )


def create_submission(*, user: User, name: str, long_description: str = "") -> Submission:
    """E7: a draft with its name and, optionally, its long description (checked: inputs.NewSubmission)."""
    organization = uploading_organization(user=user)
    return Submission.objects.create(
        organization=organization, created_by=user, name=name, long_description=long_description
    )


def _ensure_can_add_version(*, user: User, dataset: Dataset) -> None:
    if not Membership.objects.filter(organization=dataset.organization, user=user, role__in=UPLOADER_ROLES).exists():
        raise PermissionDenied(
            _("Only owners, admins and members of %(organization)s add versions.")
            % {"organization": dataset.organization.name}
        )
    if dataset.status != Dataset.Status.PUBLISHED:
        raise SubmissionConflict(
            _("%(dataset)s is %(status)s: it gets no new versions.")
            % {"dataset": dataset.name, "status": dataset.get_status_display().lower()}
        )
    if not dataset.organization.approved_to_upload:
        raise PermissionDenied(
            _("%(organization)s is not approved to upload yet.") % {"organization": dataset.organization.name}
        )


def create_version_submission(*, user: User, dataset: Dataset) -> Submission:
    """A draft of the next version of a published dataset, in the dataset's organization, carrying
    its current datasheet, license, consent terms and revenue split: approving it publishes version
    N+1 of the same dataset (a correction, or the re-release without records whose consent was
    withdrawn). Use ``open_version_draft``, which reuses the dataset's open draft instead."""
    _ensure_can_add_version(user=user, dataset=dataset)
    return draft_next_version(author=user, dataset=dataset)


def draft_next_version(*, author: User, dataset: Dataset) -> Submission:
    """The draft of version N+1, prefilled from the current version, without asking whether
    ``author`` may add versions: for the re-release after a consent withdrawal, which the
    organization's policy starts (its author is whoever recorded the withdrawal, often the
    contributor, who is no member)."""
    user = author
    license = dataset.license
    terms: dict[str, Any] = {}
    if license is not None:
        terms = {"license_abbreviation": license.spdx_id or license.name, "license_name": license.name}
        if not license.spdx_id:  # custom terms: the exact text licensees accepted
            terms["license_text"] = license.text
    # The datasheet is copied because approval writes the submission's datasheet over the
    # dataset's: a field the draft left empty would erase the dataset's.
    draft = Submission.objects.create(
        organization=dataset.organization,
        created_by=user,
        dataset=dataset,
        name=dataset.name,
        **{field: getattr(dataset, field) for field in DATASHEET_FIELDS},
        **terms,
    )
    published_by = Submission.objects.filter(version_id=dataset.current_version_id).first()
    if published_by is not None:
        # The consent terms, because the next version is mostly the same people's data given under
        # the same terms: the contributor changes them only when they changed (consent.carry_consent_over
        # copies them as new rows, since terms and records are evidence and never edited).
        consent.carry_consent_over(source=published_by, to=draft, user=user)
        # The revenue split, because the same contributors go on earning from the dataset unless
        # the organization says otherwise; rows are per submission, so the copy leaves the
        # published version's split as it was.
        RevenueShare.objects.bulk_create(
            RevenueShare(
                submission=draft,
                user_id=share.user_id,
                payee_name=share.payee_name,
                payee_email=share.payee_email,
                basis_points=share.basis_points,
            )
            for share in published_by.revenue_shares.all()
        )
    return draft


# A version in the works: a draft, a rejected submission its contributors fix, or one in review.
OPEN_STATUSES = (Submission.Status.DRAFT, Submission.Status.REJECTED, Submission.Status.SUBMITTED)


@transaction.atomic
def open_version_draft(*, user: User, dataset: Dataset) -> tuple[Submission, bool]:
    """The dataset's draft of its next version, and whether it was made now: an open one (a draft
    or a rejected submission, whoever in the organization started it) is reused, so that the page's
    button, ``POST /api/v1/datasets/{id}/versions`` and an SDK upload to an approved submission
    all land in the same draft rather than in rival versions N+1. While a version is in review
    there is nothing to open: 409."""
    # Locked, so that of two requests at once one makes the draft and the other finds it.
    dataset = Dataset.objects.select_for_update(of=("self",)).select_related("organization").get(id=dataset.id)
    _ensure_can_add_version(user=user, dataset=dataset)
    open_one = (
        Submission.objects.filter(dataset=dataset, status__in=OPEN_STATUSES)
        .select_related("organization")
        .order_by("created_at", "id")
        .first()
    )
    if open_one is None:
        return create_version_submission(user=user, dataset=dataset), True
    if open_one.status == Submission.Status.SUBMITTED:
        raise SubmissionConflict(
            _(
                "The next version of %(dataset)s is in review (submission '%(open_one)s'): start "
                "another once a reviewer has approved or rejected it."
            )
            % {"dataset": dataset.name, "open_one": open_one.id}
        )
    return open_one, False


def upload_destination(*, user: User, submission: Submission) -> Submission:
    """Where an upload addressed to ``submission`` goes (E11): the submission itself, or, when it
    is approved, the open draft of its dataset's next version (made now if there is none). The
    SDK documents uploading to an approved submission as the way to add a version."""
    if submission.status != Submission.Status.APPROVED or submission.dataset is None:
        return submission
    draft, _ = open_version_draft(user=user, dataset=submission.dataset)
    return draft


def version_draft_of(*, submission: Submission) -> Submission:
    """The draft an upload to an approved ``submission`` went to (E12-E14 name the approved one
    again, as the SDK keeps it in its state); ``submission`` itself otherwise, or when there is none."""
    if submission.status != Submission.Status.APPROVED or submission.dataset_id is None:
        return submission
    draft = (
        Submission.objects.filter(dataset_id=submission.dataset_id, status__in=OPEN_STATUSES)
        .order_by("created_at", "id")
        .first()
    )
    return draft or submission


def submission_for(*, user: User, submission_id: str) -> Submission:
    """A submission the user may change: 404 unknown, 410 deleted, 403 another organization's."""
    submission = Submission.objects.select_related("organization").filter(id=submission_id).first()
    if submission is None:
        raise Submission.DoesNotExist(
            _("No submission with id '%(submission_id)s'.") % {"submission_id": submission_id}
        )
    if not Membership.objects.filter(organization=submission.organization, user=user, role__in=UPLOADER_ROLES).exists():
        raise PermissionDenied(_("This submission belongs to an organization you cannot submit for."))
    if submission.status == Submission.Status.DELETED:
        raise SubmissionGone(_("Submission '%(submission_id)s' was deleted.") % {"submission_id": submission_id})
    return submission


@transaction.atomic
def set_revenue_split(*, submission: Submission, shares: Sequence[Share]) -> list[RevenueShare]:
    """Replace the split: users by username, or payees by name and email, with basis points
    that sum to exactly 10,000."""
    locked = Submission.objects.select_for_update().get(id=submission.id)
    ensure_editable(locked)
    problems: list[str] = []
    rows: list[RevenueShare] = []
    seen: set[str] = set()
    for position, share in enumerate(shares, start=1):
        if share.username is not None:
            user = User.objects.filter(username=share.username).first()
            if user is None:
                problems.append(f"contributor {position}: no user named {share.username!r}")
                continue
            who = f"user:{user.pk}"
            row = RevenueShare(submission=locked, user=user, basis_points=share.basis_points)
        else:
            who = f"email:{share.email.lower()}"
            row = RevenueShare(
                submission=locked, payee_name=share.name, payee_email=share.email, basis_points=share.basis_points
            )
        if who in seen:
            problems.append(f"contributor {position}: listed twice")
        seen.add(who)
        rows.append(row)
    total = sum(row.basis_points for row in rows)
    if not problems and total != 10_000:
        problems.append(f"the shares sum to {total} basis points; they must sum to exactly 10000 (100%)")
    if problems:
        raise split_refusal(problems)
    locked.revenue_shares.all().delete()
    created = RevenueShare.objects.bulk_create(rows)
    Submission.objects.filter(id=locked.id).update(updated_at=timezone.now())
    return created


@transaction.atomic
def update_submission(*, submission: Submission, changes: DatasheetChanges) -> Submission:
    """E8: write the checked changes of the datasheet (the license's name and URL follow an SPDX id)."""
    locked = Submission.objects.select_for_update().get(id=submission.id)
    ensure_editable(locked, what=_("its datasheet can no longer be edited"))
    opted_out_before = locked.exclusivity_opt_out
    values = changes.values
    for field, value in values.items():
        setattr(locked, field, value)
    if changes.changelog is not None:
        locked.changelog = changes.changelog
    if changes.record_id_column is not None:
        locked.record_id_column = changes.record_id_column
    if changes.contributor_id_column is not None:
        locked.contributor_id_column = changes.contributor_id_column
    if locked.exclusivity_opt_out != opted_out_before:
        locked.exclusivity_opted_out_at = timezone.now() if locked.exclusivity_opt_out else None
    if values.get("is_paid") is False:
        locked.base_price_cents = None
    if "license_abbreviation" in values:
        # With the SDK's License enum, `license` and `licenseUrl` are not sent: derive them.
        known = spdx_license(locked.license_abbreviation)
        if known is not None:
            locked.license_name = str(values.get("license_name") or known.name)
            locked.license_url = str(values.get("license_url") or known.url)
    if locked.is_paid and not locked.base_price_cents:
        raise ValidationError({"basePriceCents": ["a paid dataset needs basePriceCents (with currency 'usd')"]})
    locked.status = Submission.Status.DRAFT
    locked.updated_at = timezone.now()
    locked.save()
    return locked


# What the page says is missing, in the datasheet's words (the API names its fields instead).
MISSING_FOR_PEOPLE = {
    "name": gettext_lazy("Give the dataset a name (datasheet)."),
    "shortDescription": gettext_lazy("Write the short description (datasheet)."),
    "longDescription": gettext_lazy("Write the long description (datasheet)."),
    "locale": gettext_lazy("Give the language of the data (datasheet)."),
    "task": gettext_lazy("Choose the task (datasheet)."),
    "format": gettext_lazy("Give the format of the files (datasheet)."),
    "licenseAbbreviation": gettext_lazy("Choose a license (datasheet)."),
    "intendedUsage": gettext_lazy("Describe the intended usage (datasheet)."),
    "pointOfContactFullName": gettext_lazy("Name the point of contact (datasheet)."),
    "pointOfContactEmail": gettext_lazy("Give the point of contact's email (datasheet)."),
}


def submission_problems(submission: Submission, *, for_people: bool = False) -> list[str]:
    """What keeps the submission from review, in words a contributor can act on: the API's name
    the contract's fields; ``for_people`` (the pages) names them as the datasheet does."""
    missing = [camel for camel in REQUIRED_TO_SUBMIT if not getattr(submission, MODEL_FIELD[camel])]
    if for_people:
        problems = [str(MISSING_FOR_PEOPLE[camel]) for camel in missing]
    else:
        problems = [f"{camel} is missing" for camel in missing]
    if submission.is_paid and not submission.base_price_cents:
        problems.append(
            _("Set the price of this paid dataset (datasheet).")
            if for_people
            else "basePriceCents is missing for a paid dataset"
        )
    if (
        submission.license_abbreviation
        and not submission.license_text.strip()
        and not spdx_license(submission.license_abbreviation)
    ):
        problems.append(
            _(
                "“%(license)s” is not a license of this instance: choose one, or paste the exact text of your "
                "custom terms (datasheet)."
            )
            % {"license": submission.license_abbreviation}
            if for_people
            else f"licenseText is missing: '{submission.license_abbreviation}' is not an SPDX license of this "
            "instance, so give the exact text of the custom terms"
        )
    version_of_a_dataset = submission.dataset_id is not None and submission.status != Submission.Status.APPROVED
    if version_of_a_dataset and not submission.changelog.strip():
        problems.append(
            _("Say what changed in this version (datasheet).")
            if for_people
            else "changelog is missing: say what changed in this version"
        )
    if submission.archive_upload is None:
        problems.append(
            _("Upload the archive (.tar.gz) and wait for it to complete (files).")
            if for_people
            else "no archive upload has completed (upload the .tar.gz first)"
        )
    for label, upload in (("archive", submission.archive_upload), ("sample", submission.sample_upload)):
        problem = validation_problem(label, upload, submission.id, for_people=for_people) if upload else None
        if problem:
            problems.append(problem)
    problems += _withdrawn_files(submission, for_people=for_people)
    terms = consent.current_terms(submission)
    if terms is None:
        problems.append(
            _("Save the consent terms: how, and under which terms, the data was given (consent).")
            if for_people
            else "consent terms are missing (how, and under which terms, the data was given)"
        )
    problems += _license_beyond_consent(submission, terms)
    if not submission.revenue_shares.exists():
        problems.append(
            _("Name the contributors and their shares of the revenue, adding up to 100 % (contributors).")
            if for_people
            else "contributors and their revenue shares are missing (they must sum to 10,000 basis points)"
        )
    problems += license_problems(submission)  # lineage: a parent's license must allow this one
    return problems


def _license_beyond_consent(submission: Submission, terms: ConsentTerms | None) -> list[str]:
    """A license may allow no more than the contributors consented to. Only an SPDX license can:
    custom terms are cut to the consent when they are approved (``custom_terms_permissions``). The
    re-release after a consent withdrawal is not held back: it only takes records out of a version
    published under the same license and consent, and holding it would keep the withdrawn records
    published."""
    license = spdx_license(submission.license_abbreviation)
    if terms is None or license is None or Rerelease.objects.filter(submission=submission).exists():
        return []
    return license_beyond_consent(consent=terms, license=license, license_name=license.abbreviation)


def _withdrawn_files(submission: Submission, *, for_people: bool = False) -> list[str]:
    """A new version must not bring back files whose consent was withdrawn from the dataset (a
    draft started before the withdrawal, or an old archive uploaded again)."""
    upload = submission.archive_upload
    validated = getattr(upload, "validation", None) if upload is not None else None
    if submission.dataset_id is None or validated is None or validated.status != "passed":
        return []
    withdrawals = ConsentWithdrawal.objects.filter(dataset_id=submission.dataset_id)
    hashes, records = set(), set()
    for withdrawal in withdrawals.only("file_hashes", "record_ids"):
        hashes.update(withdrawal.file_hashes)
        records.update(withdrawal.record_ids)
    if not hashes and not records:
        return []
    back = [f["path"] for f in validated.files if f.get("sha256") in hashes or f.get("path") in records]
    if not back:
        return []
    named = f"{', '.join(back[:3])}{', …' if len(back) > 3 else ''}"
    if for_people:
        return [
            ngettext(
                "The archive holds %(count)s file whose contributors withdrew consent (%(files)s): upload an "
                "archive without them.",
                "The archive holds %(count)s files whose contributors withdrew consent (%(files)s): upload an "
                "archive without them.",
                len(back),
            )
            % {"count": len(back), "files": named}
        ]
    return [
        f"the archive holds {len(back)} file{'s' if len(back) != 1 else ''} whose contributors withdrew consent "
        f"({named}): upload an archive without them"
    ]


def validation_problem(label: str, upload: Upload, submission_id: str, *, for_people: bool = False) -> str | None:
    """Why an upload's validation keeps the submission from review, or None once it passed; for
    ``for_people`` (the pages) in the reader's language, its first finding too."""
    report = reports.brief(upload)
    where = f"GET /api/v1/submissions/{submission_id}/validation or the submission page"
    if report["status"] == "passed":
        return None
    first = report["errors"][0]["message"] if report["errors"] else ""  # the API's problems are in English
    if for_people:
        first = finding_text(report["errors"][0]) if report["errors"] else ""
        archive = label == "archive"
        if report["status"] == "failed":
            return (
                _("The uploaded archive failed validation (%(first)s): fix what its report lists and upload it again.")
                if archive
                else _(
                    "The uploaded sample failed validation (%(first)s): fix what its report lists and upload it again."
                )
            ) % {"first": first}
        return (
            _("The uploaded archive is still being validated; submit once it has passed.")
            if archive
            else _("The uploaded sample is still being validated; submit once it has passed.")
        )
    if report["status"] == "failed":
        count = len(report["errors"])
        return (
            f"the uploaded {label} failed validation with {count} error(s) ({first}); the report at {where} "
            f"lists them: fix them and upload the {label} again"
        )
    return f"the uploaded {label} is still being validated; submit once it has passed (progress: {where})"


@transaction.atomic
def submit_submission(*, submission: Submission) -> Submission:
    """E9: hand the submission to review once nothing is missing (its contributor agreed to the
    submission terms: inputs.check_agreement)."""
    locked = Submission.objects.select_for_update().get(id=submission.id)
    if locked.status == Submission.Status.SUBMITTED:
        return locked  # submitting twice is the same as once
    if not is_editable(locked):
        raise SubmissionConflict(_("This submission is %(status)s.") % {"status": locked.get_status_display().lower()})
    problems = submission_problems(locked)
    if problems:
        raise ValidationError(_("Cannot submit yet: %(items)s.") % {"items": "; ".join(problems)})
    now = timezone.now()
    locked.status, locked.submitted_at, locked.updated_at = Submission.Status.SUBMITTED, now, now
    locked.save(update_fields=["status", "submitted_at", "updated_at"])
    return locked


@transaction.atomic
def delete_submission(*, submission: Submission) -> None:
    """Delete a draft, submitted or rejected submission (a tombstone row stays)."""
    locked = Submission.objects.select_for_update().get(id=submission.id)
    if locked.status == Submission.Status.APPROVED:
        raise PermissionDenied(_("This submission is approved and published: it cannot be deleted."))
    now = timezone.now()
    locked.status, locked.deleted_at, locked.updated_at = Submission.Status.DELETED, now, now
    locked.save(update_fields=["status", "deleted_at", "updated_at"])
    live = locked.uploads.exclude(status=Upload.Status.ABORTED)
    files = list(live.values_list("object_key", "s3_upload_id", "status"))
    deleted = gettext_noop("the submission was deleted")
    live.update(status=Upload.Status.ABORTED, error=deleted, error_template=deleted, error_params={})
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
