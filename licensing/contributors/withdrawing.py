"""A contributor withdraws themselves: from every dataset that holds their records, or from one,
with a reason or none. Each published version that still holds their records gets a withdrawal in
their own name, which the consent workflow turns into a re-release without them
(``licensing.consent.withdrawals``, ``licensing.consent.releases``).

The contributor does not know their record ids; the instance finds them. The datasheet names the
column of the index files holding each row's contributor id (``contributor_id_column``); the rows
of the version's exported tables (the viewer's Parquet copy) whose value there is the contributor's
id are theirs. Each such row gives the record id (the ``record_id_column`` value) and every archive
member it names (a path, or a part of one after a "/"), whose SHA-256 comes from the signed
manifest: the removal feed then tells licensees exactly what to delete.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from licensing.consent import withdrawals
from licensing.contributors.claims import held_by
from licensing.models import ConsentRecord, ConsentWithdrawal, ContributorClaim
from marketplace.inspection.index_rows import names_of
from marketplace.models import DatasetVersion, ParquetExport, User
from marketplace.viewer import exports, queries, tables
from provenance import manifests

MAX_ROWS = 100_000


@dataclass
class Found:
    """A contributor's records in one version, or why they could not be told apart."""

    record_ids: list[str] = field(default_factory=list)
    file_hashes: list[str] = field(default_factory=list)
    rows: int = 0
    problem: str = ""


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def records_of(version: DatasetVersion, contributor_id: str) -> Found:
    """The records of ``contributor_id`` in ``version``: read from its exported tables."""
    dataset = version.dataset
    column = dataset.contributor_id_column.strip()
    if not column:
        return Found(problem=f"{dataset.name} does not say which column of its files names contributors.")
    archive, _ = exports.version_uploads(version)
    export = ParquetExport.objects.filter(upload=archive, status=ParquetExport.Status.READY).first()
    if archive is None or export is None:
        return Found(problem=f"The tables of {dataset.name} version {version.number} are not indexed yet.")
    try:
        files = manifests.signed_files(version).files
    except (manifests.ManifestMissing, manifests.ManifestInvalid) as exc:
        return Found(problem=str(exc))
    member_by_name: dict[str, dict[str, Any]] = {}
    for member in files:
        for name in names_of([str(member["path"])]):
            member_by_name.setdefault(name, member)
    record_column = dataset.record_id_column.strip()
    found = Found()
    records: dict[str, None] = {}
    hashes: dict[str, None] = {}
    connection = tables.connect()
    try:
        for table in export.tables:
            names = [str(c["name"]) for c in table.get("columns", [])]
            if column not in names:
                continue
            source = str(queries.local_copy(table)).replace("'", "''")
            result = connection.execute(
                f"SELECT * FROM read_parquet('{source}') WHERE CAST({_quoted(column)} AS VARCHAR) = ? LIMIT ?",  # noqa: S608 (a checked column, our own path)
                [contributor_id, MAX_ROWS],
            )
            header = [d[0] for d in result.description]
            for row in result.fetchall():
                found.rows += 1
                values = dict(zip(header, row, strict=True))
                if record_column and values.get(record_column) not in (None, ""):
                    records[str(values[record_column])] = None
                for value in values.values():
                    named = member_by_name.get(value) if isinstance(value, str) else None
                    if named:
                        hashes[str(named["sha256"])] = None
                        if not record_column:
                            records[str(named["path"])] = None
    finally:
        connection.close()
    found.record_ids, found.file_hashes = list(records), list(hashes)
    if found.rows and not found.record_ids:
        found.problem = f"Your rows in {dataset.name} name no record id and no file."
    return found


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
    of all), all or nothing. Each withdrawal names the records found in its version; where none
    can be told apart, it names the contributor id, and the version stops serving downloads until
    the organization publishes one without them."""
    reason = reason.strip()
    if len(reason) > 2000:
        raise ValidationError({"reason": "Keep the reason under 2,000 characters."})
    held = holdings(user, dataset_id=dataset_id)
    if not held:
        if dataset_id is not None:
            raise ValidationError("None of your records is in a published version of this dataset any more.")
        raise ValidationError("None of your records is in a published version of any dataset any more.")
    found = [(holding, records_of(holding.version, holding.claim.contributor_id)) for holding in held]
    made: list[ConsentWithdrawal] = []
    with transaction.atomic():
        for holding, records in found:
            made.append(
                withdrawals.withdraw_consent(
                    by=user,
                    dataset=holding.version.dataset,
                    version_number=holding.version.number,
                    record_ids=records.record_ids or [holding.claim.contributor_id],
                    file_hashes=records.file_hashes,
                    contributor_id=holding.claim.contributor_id,
                    reason=reason,
                )
            )
    return made
