"""Consent withdrawal: a contributor (or the owner on their behalf) withdraws consent for some
records of a published version.

The withdrawal row is the evidence and the mark: a version with a withdrawal answers 410 to new
downloads, naming the newest later version without a withdrawal (the replacement the owner
publishes without those records). Licensees who downloaded the version are emailed, and the
dataset's removal feed lists what to delete.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.core.mail import send_mass_mail
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from licensing.access.access_requests import can_manage_dataset
from licensing.consent import releases
from licensing.models import ConsentWithdrawal, ContributorClaim, DownloadRecord, RemovalNotice, Rerelease
from marketplace.models import Dataset, DatasetVersion, Notification, RevenueShare, User
from marketplace.notifications.messages import language_of
from marketplace.notifications.services import notify_licensees
from provenance import events as provenance_events

SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
MAX_RECORDS = 100_000


def withdrawn_versions(dataset_id: str) -> QuerySet[DatasetVersion]:
    """The versions that serve no new downloads: those a withdrawal names, and those a re-release
    found withdrawn records in (a withdrawal from version 1 also reaches a version 2 that still
    holds the records)."""
    named = ConsentWithdrawal.objects.filter(dataset_id=dataset_id).values("version_id")
    rewritten = (
        Rerelease.objects.filter(dataset_id=dataset_id, source_version__isnull=False)
        .exclude(removed_files=[], removed_rows={})
        .values("source_version_id")
    )
    return DatasetVersion.objects.filter(dataset_id=dataset_id).filter(Q(id__in=named) | Q(id__in=rewritten))


def is_withdrawn(version: DatasetVersion) -> bool:
    return withdrawn_versions(version.dataset_id).filter(id=version.id).exists()


def replacement_for(version: DatasetVersion) -> DatasetVersion | None:
    """The newest published version after ``version`` that is not withdrawn."""
    return (
        DatasetVersion.objects.filter(
            dataset_id=version.dataset_id, number__gt=version.number, published_at__isnull=False
        )
        .exclude(id__in=withdrawn_versions(version.dataset_id).values("id"))
        .order_by("-number")
        .first()
    )


def gone_message(version: DatasetVersion) -> str:
    replacement = replacement_for(version)
    if replacement is None:
        return _(
            "Version %(number)s (%(filename)s) was withdrawn: contributors withdrew consent for some records. "
            "No replacement version is published yet."
        ) % {"number": version.number, "filename": version.filename}
    return _(
        "Version %(number)s (%(filename)s) was withdrawn: contributors withdrew consent for some records. "
        "Use version %(replacement)s (%(replacement_filename)s), published without those records."
    ) % {
        "number": version.number,
        "filename": version.filename,
        "replacement": replacement.number,
        "replacement_filename": replacement.filename,
    }


def is_contributor(user: User, version: DatasetVersion) -> bool:
    """A person with a revenue share in the submission that published this version."""
    return RevenueShare.objects.filter(submission__version=version, user=user).exists()


def holds_contributor_id(user: User, dataset: Dataset, contributor_id: str) -> bool:
    """The person claimed this pseudonymous id of the dataset's organization (see
    ``licensing.contributors.claims``)."""
    return (
        bool(contributor_id)
        and ContributorClaim.objects.filter(
            organization_id=dataset.organization_id, contributor_id=contributor_id, claimed_by=user
        ).exists()
    )


def _strings(value: Any, field: str, *, required: bool) -> list[str]:
    if value is None and not required:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
        raise ValidationError({field: _("must be a list of non-empty strings")})
    items = [item.strip() for item in value]
    if required and not items:
        raise ValidationError({field: _("name at least one record")})
    if len(items) > MAX_RECORDS:
        raise ValidationError({field: _("at most %(max_records)s items per withdrawal") % {"max_records": MAX_RECORDS}})
    return items


def withdraw_consent(
    *,
    by: User,
    dataset: Dataset,
    version_number: int,
    record_ids: Any,
    file_hashes: Any = None,
    contributor_id: str = "",
    reason: str = "",
) -> ConsentWithdrawal:
    """Record a withdrawal and notify, after commit, every licensee who downloaded the version."""
    version = dataset.versions.filter(number=version_number, published_at__isnull=False).first()
    if version is None:
        raise ValidationError(
            {
                "version": _("%(dataset)s has no published version %(version_number)s.")
                % {"dataset": dataset.name, "version_number": version_number}
            }
        )
    manager = can_manage_dataset(by, dataset)
    own = is_contributor(by, version) or holds_contributor_id(by, dataset, contributor_id.strip())
    if not manager and not own:
        raise PermissionDenied(
            _("Only a contributor of this version, or an owner or admin on their behalf, withdraws.")
        )
    records = _strings(record_ids, "recordIds", required=True)
    if any(len(item) > 200 for item in records):
        raise ValidationError({"recordIds": _("record ids are at most 200 characters")})
    hashes = [item.lower() for item in _strings(file_hashes, "fileHashes", required=False)]
    bad = [item for item in hashes if not SHA256_HEX.match(item)]
    if bad:
        raise ValidationError({"fileHashes": _("not SHA-256 hex: %(items)s") % {"items": ", ".join(bad[:3])}})
    if len(contributor_id) > 128:
        raise ValidationError({"contributorId": _("at most 128 characters")})
    with transaction.atomic():
        withdrawal = ConsentWithdrawal.objects.create(
            dataset=dataset,
            version=version,
            contributor_id=contributor_id.strip(),
            record_ids=records,
            file_hashes=hashes,
            reason=reason.strip(),
            recorded_by=by,
            on_behalf=not own,
        )
        provenance_events.consent_withdrawn(withdrawal)
        releases.schedule(withdrawal)
        _notify_downloaders(withdrawal, version)
        notify_licensees(dataset=dataset, kind=Notification.Kind.CONSENT_WITHDRAWN, params={"version": version.number})
    return withdrawal


def _notify_downloaders(withdrawal: ConsentWithdrawal, version: DatasetVersion) -> None:
    """Record a notice for, and email after commit, everyone who downloaded the version's archive:
    what to delete, where the signed feed is, and how to acknowledge the deletion."""
    dataset = withdrawal.dataset
    downloaders = DownloadRecord.objects.filter(version=version, kind=DownloadRecord.Kind.ARCHIVE).values("user_id")
    users = list(User.objects.filter(id__in=downloaders).order_by("id"))
    RemovalNotice.objects.bulk_create(
        [RemovalNotice(withdrawal=withdrawal, user=user, version=version) for user in users], ignore_conflicts=True
    )
    records = withdrawal.record_ids
    words = {
        "dataset": dataset.name,
        "number": version.number,
        "filename": version.filename,
        "records": ", ".join(records[:50]) + (" …" if len(records) > 50 else ""),
        "feed": f"/api/v1/datasets/{dataset.id}/removals",
        "acknowledgement": f"/api/v1/datasets/{dataset.id}/removals/{withdrawal.id}/acknowledgement",
    }
    mails = []
    for user in users:
        if not user.email:
            continue
        with translation.override(language_of(user)):  # each downloader reads it in their own language
            subject = _("Consent withdrawn: delete records of %(dataset)s version %(number)s") % words
            body = _(
                "You downloaded %(filename)s. %(gone)s\n\n"
                "Withdrawn record ids: %(records)s\n"
                "The full list, with file hashes, signed and logged in the transparency log, is in the removal feed: "
                "%(feed)s\n\n"
                "Delete these records from your copies and from data derived from them, then tell the organization "
                "you did: POST %(acknowledgement)s"
            ) % {**words, "gone": gone_message(version)}
        mails.append((subject, body, settings.DEFAULT_FROM_EMAIL, [user.email]))
    transaction.on_commit(lambda: send_mass_mail(mails, fail_silently=False))


def removal_feed(dataset: Dataset) -> list[dict[str, Any]]:
    """Every withdrawal of the dataset, oldest first, machine-readable: what to delete, the signed
    statement saying so and its place in the transparency log, and the clean version to use."""
    withdrawals = (
        ConsentWithdrawal.objects.filter(dataset=dataset)
        .select_related("version", "rerelease__version", "rerelease__source_version", "statement")
        .order_by("created_at", "id")
    )
    items = []
    for withdrawal in withdrawals:
        replacement = replacement_for(withdrawal.version)
        rerelease = getattr(withdrawal, "rerelease", None)
        signed = getattr(withdrawal, "statement", None)
        items.append(
            {
                "id": withdrawal.id,
                "withdrawnAt": withdrawal.created_at.isoformat(),
                "version": withdrawal.version.number,
                "versionSha256": withdrawal.version.sha256,
                "recordIds": withdrawal.record_ids,
                "fileHashes": withdrawal.file_hashes,
                "reason": withdrawal.reason,
                "replacementVersion": replacement.number if replacement else None,
                "rerelease": releases.rerelease_json(rerelease) if rerelease is not None else None,
                "statement": signed.envelope if signed else None,
                "statementSha256": signed.statement_sha256 if signed else None,
                "logIndex": signed.log_index if signed else None,
            }
        )
    return items


def _withdrawal_of(dataset: Dataset, withdrawal_id: int) -> ConsentWithdrawal:
    withdrawal = ConsentWithdrawal.objects.filter(dataset=dataset, id=withdrawal_id).select_related("version").first()
    if withdrawal is None:
        raise ObjectDoesNotExist(
            _("%(dataset)s has no withdrawal %(withdrawal_id)s.")
            % {"dataset": dataset.name, "withdrawal_id": withdrawal_id}
        )
    return withdrawal


def acknowledge_removal(*, user: User, dataset: Dataset, withdrawal_id: int) -> list[RemovalNotice]:
    """The licensee says they deleted the withdrawn records (every notice of theirs for this
    withdrawal). Saying it again keeps the first time."""
    withdrawal = _withdrawal_of(dataset, withdrawal_id)
    notices = RemovalNotice.objects.filter(withdrawal=withdrawal, user=user)
    if not notices.exists():
        raise ObjectDoesNotExist(
            _(
                "You were not asked to delete records of withdrawal %(withdrawal_id)s: only "
                "licensees who downloaded version %(number)s of %(dataset)s are."
            )
            % {"withdrawal_id": withdrawal_id, "number": withdrawal.version.number, "dataset": dataset.name}
        )
    notices.filter(acknowledged_at__isnull=True).update(acknowledged_at=timezone.now())
    return list(notices.select_related("version"))


def acknowledgements(
    *, by: User, dataset: Dataset, withdrawal_id: int
) -> tuple[ConsentWithdrawal, list[RemovalNotice]]:
    """Who was told of a withdrawal and who acknowledged deleting the records: for the dataset's
    owners and admins."""
    if not can_manage_dataset(by, dataset):
        raise PermissionDenied(
            _("Only owners and admins of %(organization)s see who acknowledged.")
            % {"organization": dataset.organization.name}
        )
    withdrawal = _withdrawal_of(dataset, withdrawal_id)
    notices = withdrawal.notices.select_related("user", "version").order_by("acknowledged_at", "user__username")
    return withdrawal, list(notices)


def notices_for(user: User) -> list[RemovalNotice]:
    """The removal notices a licensee received, newest first."""
    return list(
        RemovalNotice.objects.filter(user=user)
        .select_related("withdrawal__dataset", "version")
        .order_by("-notified_at", "-id")
    )


def rereleases(*, by: User, dataset: Dataset) -> list[Rerelease]:
    """The dataset's re-release jobs, newest first: for its owners and admins."""
    if not can_manage_dataset(by, dataset):
        raise PermissionDenied(
            _("Only owners and admins of %(organization)s see its re-releases.")
            % {"organization": dataset.organization.name}
        )
    return list(Rerelease.objects.filter(dataset=dataset).select_related("source_version", "version"))
