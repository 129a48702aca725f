"""What a contributor sees of their data ("My contributions"): every dataset and version holding
their records, the exact consent they gave, the license it is sold under, how it is used in
aggregate (licensees and downloads per month, never who), their withdrawals and what became of
them. The page and ``GET /api/v1/me/contributions`` both read ``contributions_of``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db.models import Count, Q
from django.db.models.functions import TruncMonth

from licensing.consent import withdrawals as consent_withdrawals
from licensing.contributors.claims import held_by
from licensing.models import ConsentRecord, ConsentWithdrawal, ContributorClaim, DownloadRecord, License
from marketplace.models import Dataset, DatasetVersion, User


@dataclass
class VersionState:
    version: DatasetVersion
    withdrawn: bool
    replacement: DatasetVersion | None


@dataclass
class Usage:
    month: date
    licensees: int
    downloads: int


@dataclass
class Contribution:
    """One dataset holding the records of one claimed contributor id."""

    claim: ContributorClaim
    dataset: Dataset
    record: ConsentRecord  # the newest consent record: its terms are the consent text shown
    versions: list[VersionState] = field(default_factory=list)
    usage: list[Usage] = field(default_factory=list)
    withdrawals: list[ConsentWithdrawal] = field(default_factory=list)

    @property
    def license(self) -> License:
        version = self.dataset.current_version or self.versions[0].version
        return version.license

    @property
    def serving(self) -> list[VersionState]:
        return [state for state in self.versions if not state.withdrawn]

    @property
    def withdrawn(self) -> bool:
        return bool(self.withdrawals)


def contributions_of(user: User) -> list[Contribution]:
    """Everything the person's claimed ids hold, a few queries per dataset."""
    claims = [claim for claim in held_by(user) if claim.contributor_id]
    if not claims:
        return []
    mine = Q()
    for claim in claims:
        mine |= Q(contributor_id=claim.contributor_id, terms__submission__organization=claim.organization)
    records = (
        ConsentRecord.objects.filter(mine, terms__submission__version__published_at__isnull=False)
        .select_related(
            "terms__submission__version__license",
            "terms__submission__version__dataset__organization",
            "terms__submission__version__dataset__current_version__license",
        )
        .order_by("-terms__submission__version__number")
    )
    by_key: dict[tuple[int, str], Contribution] = {}
    claim_of = {(claim.organization_id, claim.contributor_id): claim for claim in claims}
    for record in records:
        version = record.terms.submission.version
        if version is None:  # filtered on a published version above
            continue
        dataset = version.dataset
        claim = claim_of[(dataset.organization_id, record.contributor_id)]
        item = by_key.setdefault((claim.id, dataset.id), Contribution(claim=claim, dataset=dataset, record=record))
        item.versions.append(VersionState(version=version, withdrawn=False, replacement=None))
    items = sorted(by_key.values(), key=lambda c: (c.dataset.name.lower(), c.claim.id))
    for item in items:
        withdrawn = set(consent_withdrawals.withdrawn_versions(item.dataset.id).values_list("id", flat=True))
        for state in item.versions:
            state.withdrawn = state.version.id in withdrawn
            if state.withdrawn:
                state.replacement = consent_withdrawals.replacement_for(state.version)
        item.withdrawals = list(
            ConsentWithdrawal.objects.filter(dataset=item.dataset, contributor_id=item.claim.contributor_id)
            .select_related("version", "rerelease__version")
            .annotate(
                told=Count("notices", distinct=True),
                acknowledged=Count("notices", filter=Q(notices__acknowledged_at__isnull=False), distinct=True),
            )
            .order_by("-created_at", "-id")
        )
        item.usage = [
            Usage(month=row["month"].date(), licensees=row["licensees"], downloads=row["downloads"])
            for row in DownloadRecord.objects.filter(
                version__in=[state.version for state in item.versions],
                kind=DownloadRecord.Kind.ARCHIVE,
                basis="grant",
            )
            .annotate(month=TruncMonth("created_at"))
            .values("month")
            .annotate(downloads=Count("id"), licensees=Count("user", distinct=True))
            .order_by("-month")
        ]
    return items
