"""Log entries for licensing events, one call from each service that makes the change, inside its
transaction. Payloads name ids and hashes only: the log is public, so no names, emails or
free-text reasons go in it."""

from __future__ import annotations

import hashlib
from typing import Any

from licensing.models import AccessRequest, ConsentWithdrawal, LicenseGrant, RemovalStatement
from marketplace.models import Dataset
from provenance import dsse, log, signing, statement
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


def removal_statement(withdrawal: ConsentWithdrawal) -> dict[str, Any]:
    """The removal-feed entry of a withdrawal as it is signed: which version, which records and
    files to delete. Ids and hashes only (no reason, no names): the feed is public."""
    version = withdrawal.version
    return {
        "_type": statement.REMOVAL_TYPE,
        "withdrawalId": withdrawal.id,
        "dataset": {"id": withdrawal.dataset_id, "slug": withdrawal.dataset.slug},
        "version": version.number,
        "versionSha256": version.sha256,
        "recordIds": list(withdrawal.record_ids),
        "fileHashes": sorted(withdrawal.file_hashes),
        "withdrawnAt": withdrawal.created_at.isoformat(),
    }


def consent_withdrawn(withdrawal: ConsentWithdrawal) -> LogEntry:
    """Sign the withdrawal's removal statement (DSSE, the instance key) and log its SHA-256, so a
    licensee can prove offline that the feed entry they were shown is the one the log holds.
    Records the envelope, digest and log index as its ``RemovalStatement`` (inside its transaction)."""
    payload = dsse.canonical_json(removal_statement(withdrawal))
    envelope, key = signing.sign(statement.REMOVAL_PAYLOAD_TYPE, payload)
    digest = hashlib.sha256(payload).hexdigest()
    entry = log.append(
        kind=LogEntry.Kind.WITHDRAWAL,
        subject=log.manifest_subject(withdrawal.dataset_id, withdrawal.version.number),
        payload={"withdrawalId": withdrawal.id, "recordCount": len(withdrawal.record_ids),
                 "fileHashes": sorted(withdrawal.file_hashes), "statementSha256": digest, "keyId": key.key_id},
    )  # fmt: skip
    RemovalStatement.objects.create(
        withdrawal=withdrawal, envelope=envelope, statement_sha256=digest, log_index=entry.index
    )
    return entry


def dataset_taken_down(dataset: Dataset) -> LogEntry:
    """Called by ``marketplace.services.takedown_dataset`` in its transaction."""
    return log.append(kind=LogEntry.Kind.TAKEDOWN, subject=f"dataset:{dataset.id}", payload={"status": dataset.status})
