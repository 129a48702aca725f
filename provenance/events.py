"""Log entries for licensing events, one call from each service that makes the change, inside its
transaction. Payloads name ids and hashes only: the log is public, so no names, emails or
free-text reasons go in it."""

from __future__ import annotations

from licensing.models import AccessRequest, ConsentWithdrawal, LicenseGrant
from marketplace.models import Dataset
from provenance import log
from provenance.models import LogEntry


def grant_recorded(grant: LicenseGrant) -> LogEntry:
    return log.append(
        kind=LogEntry.Kind.GRANT,
        subject=log.manifest_subject(grant.dataset_id, grant.version.number),
        payload={"grantId": grant.id, "termsSha256": grant.terms_sha256, "source": grant.source},
    )


def access_decided(access: AccessRequest) -> LogEntry | None:
    """Only decisions are logged (approved, rejected, revoked), not pending requests."""
    if access.status == AccessRequest.Status.PENDING:
        return None
    return log.append(
        kind=LogEntry.Kind.ACCESS,
        subject=f"dataset:{access.dataset_id}",
        payload={"accessRequestId": access.id, "status": access.status, "autoApproved": access.auto_approved},
    )


def consent_withdrawn(withdrawal: ConsentWithdrawal) -> LogEntry:
    return log.append(
        kind=LogEntry.Kind.WITHDRAWAL,
        subject=log.manifest_subject(withdrawal.dataset_id, withdrawal.version.number),
        payload={"withdrawalId": withdrawal.id, "recordCount": len(withdrawal.record_ids),
                 "fileHashes": sorted(withdrawal.file_hashes)},
    )  # fmt: skip


def dataset_taken_down(dataset: Dataset) -> LogEntry:
    """Called by ``marketplace.services.takedown_dataset`` in its transaction."""
    return log.append(kind=LogEntry.Kind.TAKEDOWN, subject=f"dataset:{dataset.id}", payload={"status": dataset.status})
