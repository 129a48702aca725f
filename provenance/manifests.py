"""Signed manifests of published versions, and the log entries of provenance events.

``record_publication`` runs inside ``publish_version``'s transaction: a version, its manifest and
its log entry commit together or not at all, so no published version lacks a manifest. Signing is
local (Ed25519, microseconds) and nothing here talks to storage: the file list comes from the
``Validation`` row the worker wrote after reading every byte.

Personal data stays out: consent records enter as digests of their pseudonymous fields, the
revenue split as one digest; the manifest is public.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import QuerySet

from licensing.models import ConsentRecord, ConsentTerms, License
from marketplace.models import DatasetVersion, Submission, Upload
from marketplace.submissions.reports import report_for
from provenance import dsse, log, signing, statement
from provenance.models import LogEntry, Manifest


def sha256_json(value: Any) -> str:
    return hashlib.sha256(dsse.canonical_json(value)).hexdigest()


def license_id(license: License) -> str:
    """The SPDX id, or an SPDX ``LicenseRef-`` for custom terms (SPDX 2.3 annex D)."""
    return license.spdx_id or f"LicenseRef-datacollective-{license.pk}"


def _consent(submission: Submission | None) -> dict[str, Any] | None:
    if submission is None:
        return None
    terms = ConsentTerms.objects.current_for(submission)
    if terms is None:
        return None
    records: QuerySet[ConsentRecord] = terms.records.order_by("contributor_id")
    return {
        "termsSha256": terms.consent_text_sha256,
        "recordDigests": [
            sha256_json({"contributorId": r.contributor_id, "scope": r.scope, "termsSha256": r.terms_sha256,
                         "givenAt": r.given_at.isoformat()})
            for r in records
        ],
    }  # fmt: skip


def _revenue_split_sha256(submission: Submission | None) -> str | None:
    if submission is None:
        return None
    shares = [
        {"payee": f"user:{share.user_id}" if share.user_id else f"email:{share.payee_email.lower()}",
         "basisPoints": share.basis_points}
        for share in submission.revenue_shares.order_by("id")
    ]  # fmt: skip
    return sha256_json(shares) if shares else None


def parents_of(submission: Submission | None) -> list[dict[str, Any]]:
    if submission is None:
        return []
    parents = submission.parents.select_related("dataset", "manifest").order_by("dataset_id", "number")
    return [
        {
            "dataset": parent.dataset_id,
            "version": parent.number,
            "archiveSha256": parent.sha256,
            "manifestSha256": getattr(getattr(parent, "manifest", None), "statement_sha256", None),
        }
        for parent in parents
    ]


def build_statement(version: DatasetVersion, *, submission: Submission | None = None) -> dict[str, Any]:
    """The statement of a version published from ``submission`` (its validated archive upload, consent,
    split and parents), or of one published outside the submission flow (an import: no submission)."""
    dataset = version.dataset
    upload: Upload | None = submission.archive_upload if submission is not None else None
    validation = getattr(upload, "validation", None) if upload else None
    files = [
        {"path": f["path"], "size": f["size"], "sha256": f["sha256"]}
        for f in (validation.files if validation is not None and validation.status == "passed" else [])
    ]
    subjects = [{"name": version.filename, "digest": {"sha256": version.sha256}}]
    subjects += [{"name": f["path"], "digest": {"sha256": f["sha256"]}} for f in files]
    predicate = {
        "dataset": {"id": dataset.id, "slug": dataset.slug, "name": dataset.name},
        "version": version.number,
        "organization": {"id": dataset.organization_id, "slug": dataset.organization.slug},
        "archive": {"name": version.filename, "sha256": version.sha256, "size": version.size_bytes,
                    "format": validation.archive_format if validation is not None else None},
        "files": files,
        "filesMerkleRoot": statement.files_merkle_root((f["path"], f["sha256"]) for f in files),
        "license": {"id": license_id(version.license), "textSha256": version.license_text_sha256},
        "consent": _consent(submission),
        "revenueSplitSha256": _revenue_split_sha256(submission),
        "validationReportSha256": sha256_json(report_for(upload)) if validation is not None and upload else None,
        "parents": parents_of(submission),
        "publishedAt": (version.published_at or version.created_at).isoformat(),
    }  # fmt: skip
    return {
        "_type": statement.STATEMENT_TYPE,
        "subject": subjects,
        "predicateType": statement.PREDICATE_TYPE,
        "predicate": predicate,
    }


def record_publication(*, version: DatasetVersion, submission: Submission | None = None) -> Manifest:
    """Sign the version's manifest and append its publish entry (call inside the publishing
    transaction)."""
    payload = dsse.canonical_json(build_statement(version, submission=submission))
    envelope, key = signing.sign(dsse.IN_TOTO_PAYLOAD_TYPE, payload)
    digest = hashlib.sha256(payload).hexdigest()
    manifest = Manifest.objects.create(version=version, envelope=envelope, statement_sha256=digest, signing_key=key)
    log.append(
        kind=LogEntry.Kind.PUBLISH,
        subject=log.manifest_subject(version.dataset_id, version.number),
        payload={"archiveSha256": version.sha256, "manifestSha256": digest, "keyId": key.key_id},
    )
    return manifest


def verified_statement(manifest: Manifest) -> dict[str, Any]:
    """The statement of a stored manifest after checking its signature and digest, so that the API
    never serves an envelope that was altered in the database."""
    _, payload, _ = dsse.open_envelope(manifest.envelope, signing.public_keys())
    if hashlib.sha256(payload).hexdigest() != manifest.statement_sha256:
        raise dsse.EnvelopeError("the manifest's payload does not match its recorded digest")
    parsed: dict[str, Any] = json.loads(payload)
    return parsed


class ManifestMissing(ObjectDoesNotExist):
    """A version has no signed manifest: there is no signed file list to read."""


class ManifestInvalid(Exception):
    """A version's stored manifest fails its signature or digest check, or describes another
    version: using it would trust a file list nobody signed."""


@dataclass(frozen=True)
class SignedFiles:
    manifest: Manifest
    files: list[dict[str, Any]]  # {"path", "size", "sha256"}, as signed


def signed_files(version: DatasetVersion) -> SignedFiles:
    """The files of a version as its manifest signs them, after checking the signature, the digest
    and that the statement names this very version. Diffs, deltas, the stored members and the
    re-release after a withdrawal all read the file list here, never from the database."""
    manifest = Manifest.objects.filter(version=version).first()
    if manifest is None:
        raise ManifestMissing(f"Version {version.number} has no signed manifest, so its files are not known.")
    try:
        stated = verified_statement(manifest)
    except dsse.EnvelopeError as exc:
        raise ManifestInvalid(f"The stored manifest of version {version.number} fails its check: {exc}.") from exc
    predicate = stated.get("predicate") or {}
    names = ((predicate.get("dataset") or {}).get("id"), predicate.get("version"))
    if names != (version.dataset_id, version.number):
        raise ManifestInvalid(f"The stored manifest of version {version.number} describes another version.")
    return SignedFiles(manifest=manifest, files=list(predicate.get("files") or []))
