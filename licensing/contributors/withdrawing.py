"""A contributor withdraws themselves: from every dataset that holds their records, or from one,
with a reason or none. Each published version that still holds their records gets a withdrawal in
their own name, which the consent workflow turns into a re-release without them
(``licensing.consent.withdrawals``, ``licensing.consent.releases``).

The contributor does not know their record ids; the instance finds them (``licensing.consent.
records``) so that the removal feed tells licensees exactly what to delete. Each withdrawal also
names the contributor id itself as a record: the re-release then drops every row whose
contributor-id column holds it, and every file those rows name, found again in the version it
rewrites.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from licensing.consent import withdrawals
from licensing.consent.records import records_of
from licensing.contributors.claims import held_by
from licensing.models import ConsentRecord, ConsentWithdrawal, ContributorClaim
from marketplace.models import DatasetVersion, User


@dataclass(frozen=True)
class Holding:
    """A published version that holds a contributor's consent record and is not withdrawn for them."""

    claim: ContributorClaim
    version: DatasetVersion


def holdings(user: User, *, dataset_id: str | None = None) -> list[Holding]:
    """The published versions holding the person's records, newest version first per dataset,
    leaving out those they withdrew from already."""
    result: list[Holding] = []
    for claim in held_by(user).exclude(contributor_id=""):
        versions = (
            DatasetVersion.objects.filter(
                published_at__isnull=False,
                dataset__organization=claim.organization,
                id__in=ConsentRecord.objects.filter(contributor_id=claim.contributor_id).values(
                    "terms__submission__version"
                ),
            )
            .exclude(id__in=ConsentWithdrawal.objects.filter(contributor_id=claim.contributor_id).values("version"))
            .select_related("dataset__organization")
            .order_by("dataset__name", "-number")
        )
        if dataset_id is not None:
            versions = versions.filter(dataset_id=dataset_id)
        result += [Holding(claim, version) for version in versions]
    return result


def withdraw_myself(*, user: User, dataset_id: str | None = None, reason: str = "") -> list[ConsentWithdrawal]:
    """Withdraw the person's consent from every version holding their records (of one dataset, or
    of all), all or nothing. Each withdrawal names the contributor id and the records found in its
    version now (none when its tables are not indexed yet: the re-release finds them)."""
    reason = reason.strip()
    if len(reason) > 2000:
        raise ValidationError({"reason": _("Keep the reason under 2,000 characters.")})
    held = holdings(user, dataset_id=dataset_id)
    if not held:
        if dataset_id is not None:
            raise ValidationError(_("None of your records is in a published version of this dataset any more."))
        raise ValidationError(_("None of your records is in a published version of any dataset any more."))
    found = [(holding, records_of(holding.version, holding.claim.contributor_id)) for holding in held]
    made: list[ConsentWithdrawal] = []
    with transaction.atomic():
        for holding, records in found:
            made.append(
                withdrawals.withdraw_consent(
                    by=user,
                    dataset=holding.version.dataset,
                    version_number=holding.version.number,
                    record_ids=[holding.claim.contributor_id, *records.record_ids],
                    file_hashes=records.file_hashes,
                    contributor_id=holding.claim.contributor_id,
                    reason=reason,
                )
            )
    return made
