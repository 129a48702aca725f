"""Importing an organization another instance exported (``provenance.bundles``) into a new
organization here, with its provenance intact.

1. **Keys.** The bundle names its origin. The origin is asked for its published keys
   (``/api/v1/provenance/keys``); only those are trusted. An origin that cannot be reached (it
   shut down) is refused unless the importer says so (``trust_bundle_keys``): the keys then come
   from the bundle alone, and the log entries say that they were not confirmed.
2. **Check.** ``verify.verify_bundle`` checks the bundle offline against those keys: the closing
   signature over every file's size and SHA-256, each manifest's signature, each manifest's log
   entry against the origin's signed tree head, each archive's SHA-256. Nothing is written before
   it passes. A bundle that only refers to its archives is refused: they must move too.
3. **Copy.** A second pass streams each archive and sample into this instance's storage, hashing
   as it goes; a byte that differs from the first pass stops the import and removes what it stored.
4. **Record**, in one transaction: the organization (the importer its owner), licenses, datasets
   and versions with the ids and addresses the origin gave them where they are free here, the
   consent terms and records, withdrawals (a withdrawn version stays withdrawn), and the grants
   (kept as ``ImportedGrant`` until an owner attaches them to accounts here). Each version keeps the
   origin's manifest as the origin signed it (``ImportedVersion``) and is served with that envelope
   co-signed by this instance, so it verifies with either instance's key. Its publish entry in this
   log cites the origin's entry: the origin, its log index, tree size and root, and the key.
"""

from __future__ import annotations

import hashlib
import json
import logging
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from config import outbound
from licensing.licenses import Permissions, create_license
from licensing.models import ConsentRecord, ConsentTerms, ConsentWithdrawal, License
from marketplace import storage
from marketplace.catalog.search import forget_facets
from marketplace.ids import new_id
from marketplace.models import (
    Dataset,
    DatasetVersion,
    Datasheet,
    Membership,
    MembershipRole,
    Organization,
    Submission,
    User,
)
from marketplace.publishing import version_filename
from provenance import dsse, log, members, signing, verify
from provenance.models import ImportedGrant, ImportedVersion, LogEntry, Manifest, OrganizationImport, OriginKey

logger = logging.getLogger(__name__)

ROOT = "bundle/"
KEYS_TIMEOUT_SECONDS = 15
_DOCUMENT_LIMIT = 64 * 1024 * 1024
_CHUNK = 1024 * 1024


class ImportRefused(Exception):
    """The bundle cannot be imported; the message says why, for the person importing it."""


# --- 1. Keys ------------------------------------------------------------------------------------


def _origin_base(origin: Any) -> str:
    if not isinstance(origin, str):
        raise ImportRefused("The bundle does not name the instance it came from (organization.json has no origin).")
    parts = urllib.parse.urlsplit(origin)
    if parts.scheme not in {"http", "https"} or not parts.hostname or parts.username or parts.password:
        raise ImportRefused(f"The bundle's origin {origin!r} is not an http(s) address of an instance.")
    return origin.rstrip("/")


def fetch_published_keys(origin: str) -> list[dict[str, Any]]:
    """The keys the origin publishes, or ``ImportRefused`` saying why they could not be read."""
    url = f"{origin}/api/v1/provenance/keys"
    try:
        outbound.check(url)
    except outbound.AddressRefused as exc:
        raise ImportRefused(f"The bundle's origin cannot be asked for its keys: {exc}") from None
    request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310 (checked scheme)
    try:
        with urllib.request.urlopen(request, timeout=KEYS_TIMEOUT_SECONDS) as response:  # noqa: S310
            data = json.loads(response.read(1024 * 1024))
    except urllib.error.HTTPError as exc:
        raise ImportRefused(f"{origin} answered {exc.code} when asked for its public keys ({url}).") from None
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ImportRefused(f"{origin} could not be reached to ask for its public keys ({reason}).") from None
    except ValueError:
        raise ImportRefused(f"{origin} did not answer its key list ({url}) with JSON.") from None
    keys = data.get("keys") if isinstance(data, dict) else None
    if not isinstance(keys, list) or not keys:
        raise ImportRefused(f"{origin} publishes no public keys at {url}.")
    return keys


def _store_keys(origin: str, keys: list[dict[str, Any]], *, confirmed: bool) -> list[OriginKey]:
    stored = []
    for item in keys:
        pem = item.get("publicKeyPem") if isinstance(item, dict) else None
        if not isinstance(pem, str):
            raise ImportRefused(f"A key {origin} lists has no PEM text.")
        try:
            key_id = dsse.key_id(dsse.load_public_pem(pem.encode()))
        except ValueError:
            raise ImportRefused(f"A key {origin} lists is not an Ed25519 public key.") from None
        row, created = OriginKey.objects.get_or_create(
            origin=origin, key_id=key_id, defaults={"public_pem": pem, "confirmed": confirmed}
        )
        if confirmed and not created and not row.confirmed:
            OriginKey.objects.filter(pk=row.pk).update(confirmed=True)
            row.confirmed = True
        stored.append(row)
    return stored


# --- 2 and 3. Check, then copy ------------------------------------------------------------------


def _peek(path: Path, names: set[str]) -> dict[str, Any]:
    """The JSON documents ``names`` (without the root folder), read from the start of the bundle."""
    found: dict[str, Any] = {}
    with tarfile.open(path, "r|gz") as tar:
        for member in tar:
            name = member.name.removeprefix(ROOT)
            if name in names and member.isfile() and (stream := tar.extractfile(member)) is not None:
                found[name] = json.loads(stream.read(_DOCUMENT_LIMIT))
                if len(found) == len(names):
                    break
    return found


@dataclass
class _Contents:
    documents: dict[str, Any] = field(default_factory=dict)
    lines: dict[str, list[Any]] = field(default_factory=dict)
    stored: dict[str, str] = field(default_factory=dict)  # bundle path -> storage key
    signed: dict[str, Any] = field(default_factory=dict)


class _Hashing:
    """A file object that hashes what is read through it."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream, self.digest, self.size = stream, hashlib.sha256(), 0

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size if size and size > 0 else _CHUNK)
        self.digest.update(data)
        self.size += len(data)
        return data


def _copy(path: Path, job: OrganizationImport, listed: dict[str, tuple[int, str]]) -> _Contents:
    contents = _Contents()
    try:
        with tarfile.open(path, "r|gz") as tar:
            for member in tar:
                name = member.name.removeprefix(ROOT)
                stream = tar.extractfile(member) if member.isfile() else None
                if stream is None:
                    continue
                if name.endswith(".json") or name == "FORMAT":
                    contents.documents[name] = json.loads(stream.read(_DOCUMENT_LIMIT)) if name != "FORMAT" else None
                elif name.endswith(".jsonl"):
                    text = stream.read(_DOCUMENT_LIMIT).decode("utf-8")
                    contents.lines[name] = [json.loads(line) for line in text.splitlines() if line.strip()]
                else:
                    key = f"imports/{job.id}/{name}"
                    hashing = _Hashing(stream)
                    storage.put_stream(key, hashing, content_type="application/gzip")  # type: ignore[arg-type]
                    contents.stored[name] = key
                    if (hashing.size, hashing.digest.hexdigest()) != listed.get(name):
                        raise ImportRefused(
                            f"{name} changed while it was being imported: its bytes are not the ones signed."
                        )
    except BaseException:
        _remove(contents)
        raise
    return contents


def _remove(contents: _Contents) -> None:
    for key in contents.stored.values():
        try:
            storage.delete(key)
        except Exception:  # best effort: a leftover object under imports/ is harmless and named by the job
            logger.warning("could not remove %s after a failed import", key, exc_info=True)


def _listed(signed: dict[str, Any]) -> dict[str, tuple[int, str]]:
    return {item["path"]: (int(item["size"]), str(item["sha256"])) for item in signed.get("files", [])}


def _signed_payload(path: Path, keys: list[Any]) -> dict[str, Any]:
    envelope = _peek_last(path)
    _, payload, _ = dsse.open_envelope(envelope, keys)
    parsed: dict[str, Any] = json.loads(payload)
    return parsed


def _peek_last(path: Path) -> Any:
    with tarfile.open(path, "r|gz") as tar:
        envelope = None
        for member in tar:
            if member.name == f"{ROOT}bundle.dsse.json" and (stream := tar.extractfile(member)) is not None:
                envelope = json.loads(stream.read(_DOCUMENT_LIMIT))
    if envelope is None:
        raise ImportRefused("The bundle has no closing signature (bundle.dsse.json): it is incomplete.")
    return envelope


# --- 4. Record ----------------------------------------------------------------------------------


def _when(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def _free_slug(model: type[Organization] | type[Dataset], wanted: str) -> str:
    slug, n = wanted, 1
    while model.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{wanted[:90]}-{n}"
    return slug


def _free_id(model: type[Organization] | type[Dataset], wanted: Any) -> str:
    if isinstance(wanted, str) and wanted and len(wanted) <= 32 and not model.objects.filter(id=wanted).exists():
        return wanted
    return new_id()


def _license(document: dict[str, Any], organization: Organization) -> License:
    existing = License.objects.filter(text_sha256=document["textSha256"])
    custom = bool(document.get("custom"))
    found = existing.filter(organization=organization if custom else None).first()
    if found is not None:
        return found
    flags = document.get("permissions") or {}
    return create_license(
        name=document.get("name") or "Imported terms", text=document["text"],
        spdx_id=None if custom else document.get("spdxId"), url=document.get("url") or "",
        organization=organization if custom else None,
        permissions=Permissions(
            commercial_use=bool(flags.get("commercialUse")), ai_training=bool(flags.get("aiTraining")),
            derivatives=bool(flags.get("derivatives")), redistribution=bool(flags.get("redistribution")),
            attribution=bool(flags.get("attribution")), share_alike=bool(flags.get("shareAlike")),
        ),
    )  # fmt: skip


DATASHEET_FIELDS = [f.name for f in Datasheet._meta.concrete_fields if f.name != "id"]


@dataclass
class _Run:
    job: OrganizationImport
    contents: _Contents
    keys: list[OriginKey]
    origin: str
    organization: Organization | None = None
    licenses: dict[str, License] = field(default_factory=dict)
    mapping: dict[str, Any] = field(default_factory=lambda: {"datasets": {}})
    counts: dict[str, int] = field(default_factory=dict)

    def count(self, what: str, n: int = 1) -> None:
        self.counts[what] = self.counts.get(what, 0) + n

    def key_of(self, envelope: Any) -> OriginKey:
        for key in self.keys:
            try:
                dsse.open_envelope(envelope, [dsse.load_public_pem(key.public_pem.encode())])
            except dsse.EnvelopeError:
                continue
            return key
        raise ImportRefused("A manifest is signed by none of the origin's keys.")  # verify_bundle checked it


def _dataset_folders(documents: dict[str, Any]) -> list[str]:
    folders = [name.removesuffix("/dataset.json") for name in documents if name.endswith("/dataset.json")]
    return sorted(folders, key=lambda folder: (str(documents[f"{folder}/dataset.json"].get("created_at")), folder))


def _record(run: _Run) -> Organization:
    documents = run.contents.documents
    origin_org = documents["organization.json"]
    slug = run.job.requested_slug or _free_slug(Organization, str(origin_org.get("slug") or "imported"))
    if run.job.requested_slug and Organization.objects.filter(slug=slug).exists():
        raise ImportRefused(f"The address '{slug}' is taken by another organization here: choose another.")
    organization = Organization.objects.create(
        id=_free_id(Organization, origin_org.get("id")), slug=slug, name=origin_org.get("name") or slug,
        description=origin_org.get("description") or "", website=origin_org.get("website") or "",
    )  # fmt: skip
    Membership.objects.create(organization=organization, user=run.job.created_by, role=MembershipRole.OWNER)
    run.organization = organization
    run.mapping["organization"] = {"id": organization.id, "slug": organization.slug,
                                   "originId": origin_org.get("id"), "originSlug": origin_org.get("slug")}  # fmt: skip
    for name, document in sorted(documents.items()):
        if name.startswith("licenses/") and isinstance(document, dict):
            run.licenses[document["textSha256"]] = _license(document, organization)
    for folder in _dataset_folders(documents):
        _record_dataset(run, folder)
    return organization


def _record_dataset(run: _Run, folder: str) -> None:
    documents = run.contents.documents
    sheet: dict[str, Any] = documents[f"{folder}/dataset.json"]
    origin_id = str(sheet.get("id"))
    dataset = Dataset(
        id=_free_id(Dataset, origin_id), slug=_free_slug(Dataset, str(sheet.get("slug") or "imported")),
        organization=run.organization, tags=sheet.get("tags") or [],
        created_at=_when(sheet.get("created_at")) or timezone.now(), removal_reason=sheet.get("removal_reason") or "",
        license=run.licenses.get(sheet.get("license") or ""), visibility=sheet.get("visibility") or "public",
        **{name: sheet[name] for name in DATASHEET_FIELDS if name in sheet and name != "visibility"},
    )  # fmt: skip
    dataset.save()
    run.mapping["datasets"][origin_id] = {"id": dataset.id, "slug": dataset.slug, "originSlug": sheet.get("slug")}
    numbers = sorted(
        int(name.removeprefix(f"{folder}/versions/").split("/")[0])
        for name in documents
        if name.startswith(f"{folder}/versions/") and name.endswith("/version.json")
    )
    versions: dict[int, DatasetVersion] = {}
    for number in numbers:
        versions[number] = _record_version(run, dataset, f"{folder}/versions/{number}", origin_id)
    current = versions.get(sheet.get("currentVersion") or 0) or (versions[numbers[-1]] if numbers else None)
    removed = sheet.get("status") == Dataset.Status.REMOVED
    Dataset.objects.filter(id=dataset.id).update(
        status=Dataset.Status.REMOVED if removed else (Dataset.Status.PUBLISHED if current else Dataset.Status.DRAFT),
        removed_at=_when(sheet.get("removed_at")) if removed else None,
        published_at=_when(sheet.get("published_at")) or (current.published_at if current else None),
        current_version=current, size_bytes=current.size_bytes if current else 0,
        has_sample=bool(current and current.sample_key), license=current.license if current else dataset.license,
    )  # fmt: skip
    transaction.on_commit(forget_facets)  # written with UPDATE: the catalog's counts and answers go
    for item in run.contents.lines.get(f"{folder}/withdrawals.jsonl", []):
        version = versions.get(int(item.get("version") or 0))
        if version is None:
            continue
        ConsentWithdrawal.objects.create(
            dataset=dataset, version=version, contributor_id=item.get("contributorId") or "",
            record_ids=item.get("recordIds") or ["(unnamed)"], file_hashes=item.get("fileHashes") or [],
            reason=item.get("reason") or "", recorded_by=run.job.created_by, on_behalf=bool(item.get("onBehalf")),
            created_at=_when(item.get("withdrawnAt")) or timezone.now(),
        )  # fmt: skip
        run.count("withdrawals")
    grants = [
        ImportedGrant(
            organization_import=run.job,
            dataset=dataset,
            version=versions.get(int(item.get("version") or 0)),
            origin_licensee=str(item.get("licensee") or ""),
            terms_sha256=str(item.get("termsSha256") or ""),
            source=str(item.get("source") or ""),
            accepted_at=_when(item.get("acceptedAt")) or timezone.now(),
        )  # fmt: skip
        for item in run.contents.lines.get(f"{folder}/grants.jsonl", [])
    ]
    ImportedGrant.objects.bulk_create(grants)
    run.count("grants", len(grants))
    run.count("ledgerTransactions", len(run.contents.lines.get(f"{folder}/ledger.jsonl", [])))
    run.count("datasets")


def _record_version(run: _Run, dataset: Dataset, folder: str, origin_dataset_id: str) -> DatasetVersion:
    documents = run.contents.documents
    stated: dict[str, Any] = documents[f"{folder}/version.json"]
    license = run.licenses[stated["license"]]
    number = int(stated["number"])
    archive_key = run.contents.stored[f"{folder}/archive"]
    sample_key = run.contents.stored.get(f"{folder}/sample", "")
    version = DatasetVersion.objects.create(
        dataset=dataset, number=number, archive_key=archive_key,
        filename=version_filename(dataset=dataset, number=number),
        size_bytes=stated["sizeBytes"], sha256=stated["sha256"], license=license,
        license_text_sha256=license.text_sha256, sample_key=sample_key,
        sample_filename=f"{dataset.slug}-v{number}-sample.tar.gz" if sample_key else "",
        sample_size_bytes=stated.get("sampleSizeBytes") if sample_key else None,
        changelog=stated.get("changelog") or "", published_at=_when(stated.get("publishedAt")) or timezone.now(),
    )  # fmt: skip
    origin_envelope = documents[f"{folder}/manifest.dsse.json"]
    origin_key = run.key_of(origin_envelope)
    payload_type, payload, _ = dsse.open_envelope(
        origin_envelope, [dsse.load_public_pem(origin_key.public_pem.encode())]
    )
    ours, key = signing.sign(payload_type, payload)
    cosigned = {**origin_envelope, "signatures": [*origin_envelope["signatures"], *ours["signatures"]]}
    digest = hashlib.sha256(payload).hexdigest()
    Manifest.objects.create(version=version, envelope=cosigned, statement_sha256=digest, signing_key=key)
    proof = documents.get(f"{folder}/inclusion-proof.json")
    log.append(
        kind=LogEntry.Kind.PUBLISH,
        subject=log.manifest_subject(version.dataset_id, number),
        payload={
            "archiveSha256": version.sha256, "manifestSha256": digest, "keyId": key.key_id,
            "importedFrom": {
                "origin": run.origin, "dataset": origin_dataset_id, "version": number, "keyId": origin_key.key_id,
                "keyConfirmed": origin_key.confirmed, "logIndex": (proof or {}).get("leafIndex"),
                "treeSize": (proof or {}).get("treeSize"), "rootHash": (proof or {}).get("rootHash"),
            },
        },
    )  # fmt: skip
    ImportedVersion.objects.create(
        version=version, organization_import=run.job, origin=run.origin, origin_dataset_id=origin_dataset_id,
        origin_number=number, origin_manifest=origin_envelope, origin_key=origin_key,
        origin_log_index=proof.get("leafIndex") if proof else None, origin_inclusion_proof=proof,
    )  # fmt: skip
    _record_consent(run, dataset, version, documents.get(f"{folder}/consent.json"))
    members.schedule(version)
    run.count("versions")
    return version


def _record_consent(run: _Run, dataset: Dataset, version: DatasetVersion, consent: Any) -> None:
    """The version's consent, as a submission approved by the import (the record withdrawals and
    the contributor pages read)."""
    now = timezone.now()
    assert run.organization is not None  # noqa: S101 (set by _record before any dataset)
    submission = Submission.objects.create(
        organization=run.organization, created_by=run.job.created_by, dataset=dataset, version=version,
        status=Submission.Status.APPROVED, submitted_at=now, reviewed_at=now, reviewed_by=run.job.created_by,
        **{name: getattr(dataset, name) for name in DATASHEET_FIELDS},
    )  # fmt: skip
    terms_doc = consent.get("terms") if isinstance(consent, dict) else None
    if not terms_doc:
        return
    terms = ConsentTerms.objects.create(
        submission=submission, created_by=run.job.created_by,
        **{name: bool(terms_doc.get(name)) for name in
           ("ai_training", "commercial_use", "research_only", "redistribution", "derivatives")},
        scope_text=terms_doc.get("scope") or "", consent_text=terms_doc["consentText"],
        consent_text_sha256=hashlib.sha256(terms_doc["consentText"].encode()).hexdigest(),
        withdrawal_process=terms_doc.get("withdrawalProcess") or "",
        collection_start=date.fromisoformat(terms_doc["collectionStart"]),
        collection_end=date.fromisoformat(terms_doc["collectionEnd"]),
    )  # fmt: skip
    records = [
        ConsentRecord(terms=terms, contributor_id=r["contributorId"], scope=r.get("scope") or "",
                      terms_sha256=r["termsSha256"], given_at=datetime.fromisoformat(r["givenAt"]))
        for r in consent.get("records") or []
    ]  # fmt: skip
    ConsentRecord.objects.bulk_create(records)
    run.count("consentRecords", len(records))


# --- The job ------------------------------------------------------------------------------------


def start(
    *,
    bundle: IO[bytes],
    user: User,
    slug: str = "",
    trust_bundle_keys: bool = False,
    requested_by: User | None = None,
    queue: bool = True,
) -> OrganizationImport:
    """Store an uploaded bundle and queue its import; the job's page and API answer its state."""
    key = f"imports/incoming/{new_id()}.tar.gz"
    hashing = _Hashing(bundle)
    storage.put_stream(key, hashing, content_type="application/gzip")  # type: ignore[arg-type]
    digest, size = hashing.digest, hashing.size
    if size == 0:
        storage.delete(key)
        raise ImportRefused("The bundle is empty: send the .tar.gz file the other instance's export gave you.")
    job = OrganizationImport.objects.create(
        bundle_key=key,
        bundle_sha256=digest.hexdigest(),
        bundle_size=size,
        requested_slug=slug,
        trust_bundle_keys=trust_bundle_keys,
        created_by=user,
        requested_by=requested_by,
    )
    if queue:
        transaction.on_commit(lambda: enqueue(job.id), robust=True)
    return job


IMPORT_TASK = "marketplace.tasks.import_organization"


def enqueue(job_id: int) -> None:
    from celery import current_app

    current_app.send_task(IMPORT_TASK, args=(job_id,))


def run(job_id: int) -> OrganizationImport:
    """Import the queued bundle of job ``job_id`` (the worker's task). Runs once: a job that is
    not queued is left alone."""
    claimed = OrganizationImport.objects.filter(id=job_id, status=OrganizationImport.Status.QUEUED).update(
        status=OrganizationImport.Status.RUNNING
    )
    job = OrganizationImport.objects.select_related("created_by").get(id=job_id)
    if not claimed:
        return job
    try:
        with tempfile.TemporaryDirectory(prefix="dc-import-") as folder:
            path = Path(folder) / "bundle.tar.gz"
            storage.download_to(job.bundle_key, str(path))
            _import(job, path)
    except ImportRefused as exc:
        _fail(job, str(exc))
    except (verify.Mismatch, tarfile.TarError, ValueError, KeyError, TypeError, dsse.EnvelopeError) as exc:
        _fail(job, f"The bundle does not check out: {exc}")
    except Exception as exc:  # storage or the database failed: say so on the job rather than leave it running
        logger.exception("import %s stopped", job_id)
        _fail(job, f"The import stopped ({type(exc).__name__}: {exc}); nothing of it was kept. Start it again.")
    job.refresh_from_db()
    return job


def import_file(*, path: Path, user: User, slug: str = "", trust_bundle_keys: bool = False) -> OrganizationImport:
    """Import a bundle on this machine's disk at once (``manage.py import_bundle``)."""
    with path.open("rb") as bundle:
        job = start(bundle=bundle, user=user, slug=slug, trust_bundle_keys=trust_bundle_keys, queue=False)
    return run(job.id)


def _fail(job: OrganizationImport, message: str) -> None:
    logger.info("import %s refused: %s", job.id, message)
    OrganizationImport.objects.filter(id=job.id).update(
        status=OrganizationImport.Status.FAILED, error=message, finished_at=timezone.now()
    )


def _import(job: OrganizationImport, path: Path) -> None:
    head = _peek(path, {"organization.json", "keys.json"})
    if "organization.json" not in head:
        raise ImportRefused("This is not an organization bundle: it has no organization.json.")
    origin = _origin_base(head["organization.json"].get("origin"))
    OrganizationImport.objects.filter(id=job.id).update(origin=origin)
    try:
        published, confirmed = fetch_published_keys(origin), True
    except ImportRefused as exc:
        if not job.trust_bundle_keys:
            raise ImportRefused(
                f"{exc} Only keys the origin publishes are trusted. If that instance is gone for good, "
                "import again saying so (trust the bundle's keys): the log will record that they were not confirmed."
            ) from None
        published, confirmed = head.get("keys.json") or [], False
    keys = _store_keys(origin, published, confirmed=confirmed)
    public = [dsse.load_public_pem(key.public_pem.encode()) for key in keys]
    try:
        verify.verify_bundle(path, public)
    except verify.Mismatch as exc:
        raise ImportRefused(f"The bundle does not check out against the keys {origin} publishes: {exc}") from None
    signed = _signed_payload(path, public)
    if not signed.get("archivesIncluded"):
        raise ImportRefused(
            f"This bundle leaves the archives on {origin}: export the organization again with its archives "
            "included to move it here."
        )
    contents = _copy(path, job, _listed(signed))
    already = Manifest.objects.filter(
        statement_sha256__in=[
            hashlib.sha256(dsse.open_envelope(doc, public)[1]).hexdigest()
            for name, doc in contents.documents.items()
            if name.endswith("/manifest.dsse.json")
        ]
    ).select_related("version__dataset__organization")
    if (first := already.first()) is not None:
        _remove(contents)
        organization = first.version.dataset.organization
        raise ImportRefused(f"These versions are already on this instance, in the organization '{organization.name}'.")
    state = _Run(job=job, contents=contents, keys=keys, origin=origin)
    try:
        with transaction.atomic():
            organization = _record(state)
            OrganizationImport.objects.filter(id=job.id).update(
                status=OrganizationImport.Status.DONE, organization=organization, mapping=state.mapping,
                summary=state.counts, keys_confirmed=confirmed, finished_at=timezone.now(),
            )  # fmt: skip
    except IntegrityError as exc:
        _remove(contents)
        raise ImportRefused(f"The bundle's records conflict with this instance's: {exc}") from None
    except BaseException:
        _remove(contents)
        raise


def imports_of(user: User) -> Iterator[OrganizationImport]:
    yield from OrganizationImport.objects.filter(created_by=user).select_related("organization")
