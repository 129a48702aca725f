"""An organization's export: one signed, streamed ``.tar.gz`` bundle holding everything it needs to
live on another instance, in a documented, versioned format (``FORMAT``; the README's *Moving an
organization* describes every file).

    bundle/FORMAT                                  the format's name and version, one line
    bundle/organization.json                       the organization
    bundle/keys.json                               this instance's public keys (every key that signed)
    bundle/tree-head.json                          the signed tree head the inclusion proofs lead to
    bundle/licenses/<sha256 of the text>.json      each license with its exact text
    bundle/datasets/<id>/dataset.json              the datasheet, status, visibility, tags
    bundle/datasets/<id>/withdrawals.jsonl         consent withdrawals with their signed statements
    bundle/datasets/<id>/grants.jsonl              license grants (pseudonymous: the licensee's public id)
    bundle/datasets/<id>/ledger.jsonl              payments and refunds of the dataset, with entries
    bundle/datasets/<id>/versions/<n>/version.json          the version and where its archive is
    bundle/datasets/<id>/versions/<n>/manifest.dsse.json    its signed in-toto statement
    bundle/datasets/<id>/versions/<n>/inclusion-proof.json  the statement's log entry in tree-head.json
    bundle/datasets/<id>/versions/<n>/consent.json          consent terms, records and the split
    bundle/datasets/<id>/versions/<n>/archive, sample      the bytes, when archives are included
    bundle/bundle.dsse.json                        last: the signed list of every file above

The bundle is written as it is read: members come one at a time, archives are copied from
storage in pieces, and gzip compresses as it goes, so memory stays bounded whatever the size.
The closing envelope (payload type ``BUNDLE_PAYLOAD_TYPE``) names each earlier file's path, size
and SHA-256; ``provenance.verify.verify_bundle`` checks it offline.
"""

from __future__ import annotations

import hashlib
import json
import tarfile
import tempfile
import time
import zlib
from collections.abc import Iterable, Iterator
from typing import Any

from django.db.models import Prefetch
from django.utils import timezone

from licensing.models import ConsentTerms, ConsentWithdrawal, LedgerTransaction, License, LicenseGrant
from marketplace import storage
from marketplace.models import Dataset, DatasetVersion, Organization, Submission
from provenance import dsse, log, signing
from provenance.models import LogEntry, Manifest, SigningKey

FORMAT = "datacollective-organization-bundle/1"
BUNDLE_PAYLOAD_TYPE = "application/vnd.datacollective.bundle+json"
CHUNK = 1024 * 1024
SPOOL_BYTES = 8 * 1024 * 1024
ROOT = "bundle"


class _Gzip:
    """A gzip stream handed out piece by piece."""

    def __init__(self) -> None:
        self._compressor = zlib.compressobj(6, zlib.DEFLATED, 31)
        self.written = 0

    def feed(self, data: bytes) -> bytes:
        self.written += len(data)
        return self._compressor.compress(data)

    def finish(self) -> bytes:
        return self._compressor.flush()


class _Tar:
    """A tar stream (PAX) written member by member; each member's SHA-256 is kept for the closing
    envelope."""

    def __init__(self) -> None:
        self.gzip = _Gzip()
        self.files: list[dict[str, Any]] = []
        self.mtime = int(time.time())

    def _header(self, path: str, size: int) -> bytes:
        info = tarfile.TarInfo(f"{ROOT}/{path}")
        info.size, info.mtime, info.mode = size, self.mtime, 0o644
        return info.tobuf(format=tarfile.PAX_FORMAT)

    def member(self, path: str, data: bytes) -> bytes:
        self.files.append({"path": path, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()})
        block = self._header(path, len(data)) + data + bytes(-len(data) % tarfile.BLOCKSIZE)
        return self.gzip.feed(block)

    def json(self, path: str, value: Any) -> bytes:
        return self.member(path, json.dumps(value, indent=1, ensure_ascii=False, sort_keys=True).encode() + b"\n")

    def lines(self, path: str, values: Iterable[Any]) -> Iterator[bytes]:
        """JSON Lines of any length: spooled to a temporary file (its size goes in the header
        before its bytes), held in memory only while small."""
        digest, size = hashlib.sha256(), 0
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
            for value in values:
                line = json.dumps(value, ensure_ascii=False, sort_keys=True).encode() + b"\n"
                digest.update(line)
                size += len(line)
                spool.write(line)
            spool.seek(0)
            yield self.gzip.feed(self._header(path, size))
            while piece := spool.read(CHUNK):
                yield self.gzip.feed(piece)
        yield self.gzip.feed(bytes(-size % tarfile.BLOCKSIZE))
        self.files.append({"path": path, "size": size, "sha256": digest.hexdigest()})

    def stream(self, path: str, key: str, size: int) -> Iterator[bytes]:
        """A stored object's bytes as a member, read in pieces."""
        yield self.gzip.feed(self._header(path, size))
        digest, copied = hashlib.sha256(), 0
        body = storage.open_stream(key)
        try:
            while copied < size and (piece := body.read(min(CHUNK, size - copied))):
                digest.update(piece)
                copied += len(piece)
                yield self.gzip.feed(piece)
        finally:
            body.close()
        if copied != size:
            raise storage.StorageError(f"'{key}' holds {copied} bytes, not the {size} its version records.")
        yield self.gzip.feed(bytes(-size % tarfile.BLOCKSIZE))
        self.files.append({"path": path, "size": size, "sha256": digest.hexdigest()})

    def last(self, path: str, data: bytes) -> bytes:
        """A member left out of ``files``: the closing envelope that lists them."""
        return self.gzip.feed(self._header(path, len(data)) + data + bytes(-len(data) % tarfile.BLOCKSIZE))

    def close(self) -> bytes:
        ending = bytes(2 * tarfile.BLOCKSIZE)
        ending += bytes(-(self.gzip.written + len(ending)) % tarfile.RECORDSIZE)
        return self.gzip.feed(ending) + self.gzip.finish()


def _time(moment: Any) -> str | None:
    return moment.isoformat() if moment else None


def _datasheet(dataset: Dataset) -> dict[str, Any]:
    skip = {"organization", "license", "current_version", "datasheet_ptr"}
    values = {
        field.name: getattr(dataset, field.attname) for field in Dataset._meta.concrete_fields if field.name not in skip
    }
    return {
        **{name: _time(value) if hasattr(value, "isoformat") else value for name, value in values.items()},
        "license": _license_ref(dataset.license) if dataset.license else None,
        "currentVersion": dataset.current_version.number if dataset.current_version else None,
    }


def _license_ref(license: License) -> str:
    return license.text_sha256


def _license_json(license: License) -> dict[str, Any]:
    return {
        "spdxId": license.spdx_id, "name": license.name, "url": license.url, "text": license.text,
        "textSha256": license.text_sha256, "custom": license.organization_id is not None,
        "permissions": {
            "commercialUse": license.commercial_use, "aiTraining": license.ai_training,
            "derivatives": license.derivatives, "redistribution": license.redistribution,
            "attribution": license.attribution, "shareAlike": license.share_alike,
        },
    }  # fmt: skip


def _consent_json(submission: Submission | None) -> dict[str, Any] | None:
    if submission is None:
        return None
    terms = ConsentTerms.objects.current_for(submission)
    shares = [
        {
            "user": share.user.public_id if share.user else None,
            "payeeName": share.payee_name,
            "payeeEmail": share.payee_email,
            "basisPoints": share.basis_points,
        }
        for share in submission.revenue_shares.select_related("user").order_by("id")
    ]
    if terms is None:
        return {"terms": None, "records": [], "revenueSplit": shares}
    flags = ("ai_training", "commercial_use", "research_only", "redistribution", "derivatives")
    return {
        "terms": {
            **{name: getattr(terms, name) for name in flags},
            "scope": terms.scope_text, "consentText": terms.consent_text,
            "consentTextSha256": terms.consent_text_sha256, "withdrawalProcess": terms.withdrawal_process,
            "collectionStart": terms.collection_start.isoformat(), "collectionEnd": terms.collection_end.isoformat(),
            "createdAt": terms.created_at.isoformat(),
        },
        "records": [
            {"contributorId": r.contributor_id, "scope": r.scope, "termsSha256": r.terms_sha256,
             "givenAt": r.given_at.isoformat()}
            for r in terms.records.order_by("contributor_id").iterator(chunk_size=5000)
        ],
        "revenueSplit": shares,
    }  # fmt: skip


def _withdrawal_json(withdrawal: ConsentWithdrawal) -> dict[str, Any]:
    statement = getattr(withdrawal, "statement", None)
    return {
        "id": withdrawal.id, "version": withdrawal.version.number, "contributorId": withdrawal.contributor_id,
        "recordIds": withdrawal.record_ids, "fileHashes": withdrawal.file_hashes, "reason": withdrawal.reason,
        "onBehalf": withdrawal.on_behalf, "withdrawnAt": withdrawal.created_at.isoformat(),
        "statement": statement.envelope if statement else None,
        "statementSha256": statement.statement_sha256 if statement else None,
        "logIndex": statement.log_index if statement else None,
    }  # fmt: skip


def _grant_json(grant: LicenseGrant) -> dict[str, Any]:
    return {
        "id": grant.id, "licensee": grant.user.public_id, "organization": grant.organization_id,
        "version": grant.version.number, "termsSha256": grant.terms_sha256, "source": grant.source,
        "acceptedAt": grant.created_at.isoformat(),
    }  # fmt: skip


def _ledger_json(transaction: LedgerTransaction) -> dict[str, Any]:
    return {
        "idempotencyKey": transaction.idempotency_key, "kind": transaction.kind, "currency": transaction.currency,
        "memo": transaction.memo, "createdAt": transaction.created_at.isoformat(),
        "entries": [{"account": entry.account.code, "amount": entry.amount} for entry in transaction.entries.all()],
    }  # fmt: skip


def _keys_json() -> list[dict[str, Any]]:
    return [
        {"keyId": key.key_id, "publicKeyPem": key.public_pem, "createdAt": key.created_at.isoformat()}
        for key in SigningKey.objects.order_by("created_at", "key_id")
    ]


def _publish_entries(versions: list[DatasetVersion]) -> dict[str, int]:
    subjects = [log.manifest_subject(v.dataset_id, v.number) for v in versions]
    rows = LogEntry.objects.filter(kind=LogEntry.Kind.PUBLISH, subject__in=subjects).order_by("index")
    found: dict[str, int] = {}
    for subject, index in rows.values_list("subject", "index"):
        found.setdefault(subject, index)
    return found


def export_organization(organization: Organization, *, include_archives: bool, origin: str) -> Iterator[bytes]:
    """The bundle's gzip bytes, piece by piece. ``origin`` is this instance's base URL."""
    tar = _Tar()
    tree = log.load_tree()
    head = log.signed_tree_head(tree)
    yield tar.member("FORMAT", (FORMAT + "\n").encode())
    yield tar.json(
        "organization.json",
        {
            "id": organization.id, "slug": organization.slug, "name": organization.name,
            "description": organization.description, "website": organization.website,
            "createdAt": organization.created_at.isoformat(), "origin": origin,
        },
    )  # fmt: skip
    yield tar.json("keys.json", _keys_json())
    yield tar.json(
        "tree-head.json", {"treeSize": head.tree_size, "rootHash": head.root_hash, "envelope": head.envelope}
    )
    datasets = list(
        Dataset.objects.filter(organization=organization)
        .select_related("license", "current_version")
        .prefetch_related(
            Prefetch(
                "versions",
                queryset=DatasetVersion.objects.filter(published_at__isnull=False)
                .select_related("license")
                .order_by("number"),
            )
        )
        .order_by("created_at", "id")
    )
    licenses = {d.license_id: d.license for d in datasets if d.license} | {
        v.license_id: v.license for d in datasets for v in d.versions.all()
    }
    for license in sorted(licenses.values(), key=lambda item: item.text_sha256):
        yield tar.json(f"licenses/{license.text_sha256}.json", _license_json(license))
    for dataset in datasets:
        yield from _dataset(tar, dataset, tree=tree, head=head, include_archives=include_archives, origin=origin)
    payload = dsse.canonical_json(
        {
            "format": FORMAT, "origin": origin, "organization": organization.id,
            "createdAt": timezone.now().isoformat(), "treeSize": head.tree_size,
            "archivesIncluded": include_archives, "files": tar.files,
        }
    )  # fmt: skip
    envelope, _ = signing.sign(BUNDLE_PAYLOAD_TYPE, payload)
    yield tar.last("bundle.dsse.json", json.dumps(envelope, indent=1).encode() + b"\n")
    yield tar.close()


def _dataset(
    tar: _Tar, dataset: Dataset, *, tree: log.Tree, head: Any, include_archives: bool, origin: str
) -> Iterator[bytes]:
    base = f"datasets/{dataset.id}"
    yield tar.json(f"{base}/dataset.json", _datasheet(dataset))
    versions = list(dataset.versions.all())
    entries = _publish_entries(versions)
    manifests = {m.version_id: m for m in Manifest.objects.filter(version__in=versions)}
    submissions = {s.version_id: s for s in Submission.objects.filter(version__in=versions)}
    for version in versions:
        where = f"{base}/versions/{version.number}"
        archive_path = f"{where}/archive" if include_archives else None
        sample_path = f"{where}/sample" if include_archives and version.sample_key else None
        yield tar.json(
            f"{where}/version.json",
            {
                "number": version.number, "filename": version.filename, "sizeBytes": version.size_bytes,
                "sha256": version.sha256, "license": _license_ref(version.license), "changelog": version.changelog,
                "publishedAt": _time(version.published_at), "archive": archive_path,
                "archiveUrl": f"{origin}/datasets/{dataset.slug}/", "sampleFilename": version.sample_filename,
                "sampleSizeBytes": version.sample_size_bytes, "sample": sample_path,
            },
        )  # fmt: skip
        manifest = manifests.get(version.id)
        if manifest is not None:
            yield tar.json(f"{where}/manifest.dsse.json", manifest.envelope)
        index = entries.get(log.manifest_subject(dataset.id, version.number))
        if index is not None and index < tree.size:
            yield tar.json(f"{where}/inclusion-proof.json", log.inclusion(index=index, tree=tree, head=head))
        yield tar.json(f"{where}/consent.json", _consent_json(submissions.get(version.id)))
        if archive_path is not None:
            yield from tar.stream(archive_path, version.archive_key, version.size_bytes)
        if sample_path is not None and version.sample_size_bytes is not None:
            yield from tar.stream(sample_path, version.sample_key, version.sample_size_bytes)
    withdrawals = (
        ConsentWithdrawal.objects.filter(dataset=dataset).select_related("version", "statement").order_by("id")
    )
    yield from tar.lines(
        f"{base}/withdrawals.jsonl", (_withdrawal_json(w) for w in withdrawals.iterator(chunk_size=1000))
    )
    grants = LicenseGrant.objects.filter(dataset=dataset).select_related("user", "version").order_by("id")
    yield from tar.lines(f"{base}/grants.jsonl", (_grant_json(g) for g in grants.iterator(chunk_size=2000)))
    money = (
        LedgerTransaction.objects.filter(dataset=dataset)
        .prefetch_related("entries__account")
        .order_by("created_at", "id")
    )
    yield from tar.lines(f"{base}/ledger.jsonl", (_ledger_json(t) for t in money.iterator(chunk_size=1000)))
