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
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mass_mail
from django.db import transaction

from licensing.access.access_requests import can_manage_dataset
from licensing.models import ConsentWithdrawal, DownloadRecord
from marketplace.models import Dataset, DatasetVersion, RevenueShare, User
from provenance import events as provenance_events

SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
MAX_RECORDS = 100_000


def is_withdrawn(version: DatasetVersion) -> bool:
    return ConsentWithdrawal.objects.filter(version=version).exists()


def replacement_for(version: DatasetVersion) -> DatasetVersion | None:
    """The newest published version after ``version`` that has no withdrawal."""
    return (
        DatasetVersion.objects.filter(
            dataset_id=version.dataset_id, number__gt=version.number, published_at__isnull=False
        )
        .exclude(id__in=ConsentWithdrawal.objects.filter(dataset_id=version.dataset_id).values("version_id"))
        .order_by("-number")
        .first()
    )


def gone_message(version: DatasetVersion) -> str:
    replacement = replacement_for(version)
    text = (
        f"Version {version.number} ({version.filename}) was withdrawn: contributors withdrew consent for some records."
    )
    if replacement is None:
        return text + " No replacement version is published yet."
    return text + f" Use version {replacement.number} ({replacement.filename}), published without those records."


def is_contributor(user: User, version: DatasetVersion) -> bool:
    """A person with a revenue share in the submission that published this version."""
    return RevenueShare.objects.filter(submission__version=version, user=user).exists()


def _strings(value: Any, field: str, *, required: bool) -> list[str]:
    if value is None and not required:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
        raise ValidationError({field: "must be a list of non-empty strings"})
    items = [item.strip() for item in value]
    if required and not items:
        raise ValidationError({field: "name at least one record"})
    if len(items) > MAX_RECORDS:
        raise ValidationError({field: f"at most {MAX_RECORDS} items per withdrawal"})
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
        raise ValidationError({"version": f"{dataset.name} has no published version {version_number}."})
    manager = can_manage_dataset(by, dataset)
    if not manager and not is_contributor(by, version):
        raise PermissionDenied("Only a contributor of this version, or an owner or admin on their behalf, withdraws.")
    records = _strings(record_ids, "recordIds", required=True)
    if any(len(item) > 200 for item in records):
        raise ValidationError({"recordIds": "record ids are at most 200 characters"})
    hashes = [item.lower() for item in _strings(file_hashes, "fileHashes", required=False)]
    bad = [item for item in hashes if not SHA256_HEX.match(item)]
    if bad:
        raise ValidationError({"fileHashes": f"not SHA-256 hex: {', '.join(bad[:3])}"})
    if len(contributor_id) > 128:
        raise ValidationError({"contributorId": "at most 128 characters"})
    with transaction.atomic():
        withdrawal = ConsentWithdrawal.objects.create(
            dataset=dataset,
            version=version,
            contributor_id=contributor_id.strip(),
            record_ids=records,
            file_hashes=hashes,
            reason=reason.strip(),
            recorded_by=by,
            on_behalf=manager and not is_contributor(by, version),
        )
        provenance_events.consent_withdrawn(withdrawal)
        downloaders = DownloadRecord.objects.filter(version=version, kind=DownloadRecord.Kind.ARCHIVE)
        recipients = list(
            User.objects.filter(id__in=downloaders.values("user_id")).exclude(email="").values_list("email", flat=True)
        )
        message = gone_message(version)
        subject = f"Consent withdrawn: delete records of {dataset.name} version {version.number}"
        body = (
            f"You downloaded {version.filename}. {message}\n\n"
            f"Withdrawn record ids: {', '.join(records[:50])}{' …' if len(records) > 50 else ''}\n"
            "The full list, with file hashes, is in the removal feed: "
            f"/api/v1/datasets/{dataset.id}/removals\n\n"
            "Delete these records from your copies and from data derived from them."
        )
        mails = [(subject, body, settings.DEFAULT_FROM_EMAIL, [email]) for email in recipients]
        transaction.on_commit(lambda: send_mass_mail(mails, fail_silently=False))
    return withdrawal


def removal_feed(dataset: Dataset) -> list[dict[str, Any]]:
    """Every withdrawal of the dataset, oldest first, machine-readable."""
    withdrawals = ConsentWithdrawal.objects.filter(dataset=dataset).select_related("version").order_by("created_at")
    items = []
    for withdrawal in withdrawals:
        replacement = replacement_for(withdrawal.version)
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
            }
        )
    return items
