"""Provenance evidence: signing keys, signed manifests of published versions, and the append-only
transparency log with its signed tree heads. Every table here is append-only: the database
refuses UPDATE and DELETE (migration 0001's triggers)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

SHA256_HEX = r"^[0-9a-f]{64}$"


class SigningKey(models.Model):
    """A public key this instance signed with. Kept forever so that rotation never orphans an
    old signature."""

    key_id = models.CharField(primary_key=True, max_length=64, help_text="SHA-256 of the DER public key, hex.")
    public_pem = models.TextField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.CheckConstraint(condition=Q(key_id__regex=SHA256_HEX), name="signingkey_id_hex")]

    def __str__(self) -> str:
        return f"key {self.key_id[:16]}"


class Manifest(models.Model):
    """The DSSE envelope of a published version's in-toto statement. ``statement_sha256`` is the
    SHA-256 of the envelope's payload bytes: the digest children name as their parent's."""

    version = models.OneToOneField(
        "marketplace.DatasetVersion", on_delete=models.PROTECT, related_name="manifest", primary_key=True
    )
    envelope = models.JSONField()
    statement_sha256 = models.CharField(max_length=64, unique=True)
    signing_key = models.ForeignKey(SigningKey, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(statement_sha256__regex=SHA256_HEX), name="manifest_sha256_hex"),
        ]

    def __str__(self) -> str:
        return f"manifest of {self.version_id}"


class LogEntry(models.Model):
    """One leaf of the transparency log. ``leaf_data`` is the exact canonical JSON that was hashed
    (kept as text, because jsonb would reorder it); the database checks that ``leaf_hash`` is its
    RFC 6962 leaf hash."""

    class Kind(models.TextChoices):
        PUBLISH = "publish", _("A version was published")
        GRANT = "grant", _("A license grant was recorded")
        ACCESS = "access", _("An access request was decided")
        WITHDRAWAL = "withdrawal", _("Consent was withdrawn")
        TAKEDOWN = "takedown", _("A dataset was taken down")

    index = models.BigIntegerField(primary_key=True, help_text="Leaf index, from 0, without gaps.")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    subject = models.CharField(max_length=200, help_text="What the entry is about, e.g. dataset:ID/version:N.")
    payload = models.JSONField()
    leaf_data = models.TextField()
    leaf_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["index"]
        indexes = [models.Index(fields=["subject", "index"], name="logentry_subject_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(index__gte=0), name="logentry_index_nonnegative"),
            models.CheckConstraint(condition=Q(leaf_hash__regex=SHA256_HEX), name="logentry_leaf_hash_hex"),
            models.CheckConstraint(condition=Q(kind__in=["publish", "grant", "access", "withdrawal", "takedown"]),
                                   name="logentry_kind_known"),
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"log entry {self.index} ({self.kind})"


class SignedTreeHead(models.Model):
    """The log's root at a size, signed (a DSSE envelope whose payload names size, root and time)."""

    tree_size = models.BigIntegerField(primary_key=True)
    root_hash = models.CharField(max_length=64)
    envelope = models.JSONField()
    signing_key = models.ForeignKey(SigningKey, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-tree_size"]
        constraints = [
            models.CheckConstraint(condition=Q(tree_size__gte=0), name="treehead_size_nonnegative"),
            models.CheckConstraint(condition=Q(root_hash__regex=SHA256_HEX), name="treehead_root_hex"),
        ]

    def __str__(self) -> str:
        return f"tree head {self.tree_size}"


class VersionMembers(models.Model):
    """Whether the files of a published version are stored one by one, content-addressed
    (``provenance.members``), so that a delta download can link to each. Not evidence, unlike the
    tables above: a job's state, which moves pending -> ready (or failed) by conditional updates."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Being stored")
        READY = "ready", _("Stored")
        FAILED = "failed", _("The archive does not match its manifest")

    version = models.OneToOneField(
        "marketplace.DatasetVersion", on_delete=models.PROTECT, related_name="stored_members", primary_key=True
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    files = models.PositiveIntegerField(default=0, help_text="Files the version's manifest lists.")
    stored = models.PositiveIntegerField(default=0, help_text="Files this version stored for the first time.")
    reused = models.PositiveIntegerField(default=0, help_text="Files already stored, by an earlier version or run.")
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)
    ready_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "updated_at"], name="versionmembers_status_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=["pending", "ready", "failed"]),
                                   name="versionmembers_status_known"),
            models.CheckConstraint(condition=~Q(status="ready") | Q(ready_at__isnull=False),
                                   name="versionmembers_ready_at"),
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"members of {self.version_id} ({self.status})"


class OriginKey(models.Model):
    """A public key another instance (an *origin*) publishes and signed with: what an import or a
    followed catalog checks that instance's manifests and tree heads against. Kept forever, like
    ``SigningKey``: evidence signed by it stays checkable after the origin rotates or goes away."""

    origin = models.URLField(max_length=300, help_text="The instance's base URL, e.g. https://data.example.org.")
    key_id = models.CharField(max_length=64, help_text="SHA-256 of the DER public key, hex.")
    public_pem = models.TextField()
    confirmed = models.BooleanField(
        default=False, help_text="Read from the origin's own key list, not only from a bundle it signed."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["origin", "created_at"]
        constraints = [
            models.UniqueConstraint(fields=["origin", "key_id"], name="originkey_unique"),
            models.CheckConstraint(condition=Q(key_id__regex=SHA256_HEX), name="originkey_id_hex"),
        ]

    def __str__(self) -> str:
        return f"{self.origin} key {self.key_id[:16]}"


class OrganizationImport(models.Model):
    """An organization's bundle, exported by another instance, being imported here. The bundle is
    kept in storage (``bundle_key``) as the evidence the import rests on; ``mapping`` names, for
    every id the bundle used, the id it has here (the same where it was free). The state moves
    queued -> running -> done (or failed) by conditional updates."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Importing")
        DONE = "done", _("Imported")
        FAILED = "failed", _("Failed")

    id = models.BigAutoField(primary_key=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    bundle_key = models.CharField(max_length=300)
    bundle_sha256 = models.CharField(max_length=64)
    bundle_size = models.BigIntegerField()
    origin = models.URLField(max_length=300, blank=True)
    organization = models.ForeignKey(
        "marketplace.Organization", on_delete=models.PROTECT, null=True, blank=True, related_name="imports"
    )
    requested_slug = models.SlugField(max_length=80, blank=True)
    trust_bundle_keys = models.BooleanField(
        default=False, help_text="Import even if the origin cannot be asked for its keys (it is gone)."
    )
    keys_confirmed = models.BooleanField(default=False)
    mapping = models.JSONField(default=dict, blank=True)
    summary = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", help_text="Who becomes its owner."
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        help_text="The staff member who started it.",
    )  # fmt: skip
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=["queued", "running", "done", "failed"]),
                                   name="organizationimport_status_known"),
            models.CheckConstraint(condition=~Q(status="done") | Q(organization__isnull=False),
                                   name="organizationimport_done_has_org"),
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"import {self.id} from {self.origin or '?'} ({self.status})"


class ImportedVersion(models.Model):
    """Where an imported version came from: the origin's manifest exactly as the origin signed it,
    its publish entry there and the inclusion proof to the origin's signed tree head, so that
    anyone can still check the version against the origin's keys. Append-only."""

    version = models.OneToOneField(
        "marketplace.DatasetVersion", on_delete=models.PROTECT, related_name="imported_from", primary_key=True
    )
    organization_import = models.ForeignKey(OrganizationImport, on_delete=models.PROTECT, related_name="versions")
    origin = models.URLField(max_length=300)
    origin_dataset_id = models.CharField(max_length=32)
    origin_number = models.PositiveIntegerField()
    origin_manifest = models.JSONField(help_text="The DSSE envelope as the origin signed it.")
    origin_key = models.ForeignKey(OriginKey, on_delete=models.PROTECT, related_name="+")
    origin_log_index = models.BigIntegerField(null=True, blank=True)
    origin_inclusion_proof = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    def __str__(self) -> str:
        return f"{self.version_id} from {self.origin}"


class ImportedGrant(models.Model):
    """A license grant the origin recorded, brought along by an import. The licensee is named by
    the origin's pseudonymous public id; an owner of the organization here attaches it to the
    licensee's account (``attached_to``), which then holds a grant of its own."""

    organization_import = models.ForeignKey(OrganizationImport, on_delete=models.PROTECT, related_name="grants")
    dataset = models.ForeignKey("marketplace.Dataset", on_delete=models.PROTECT, related_name="imported_grants")
    version = models.ForeignKey(
        "marketplace.DatasetVersion", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    origin_licensee = models.CharField(max_length=64, help_text="The licensee's public id at the origin.")
    terms_sha256 = models.CharField(max_length=64, blank=True)
    source = models.CharField(max_length=32, blank=True)
    accepted_at = models.DateTimeField()
    attached_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    attached_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["dataset", "accepted_at", "id"]

    def __str__(self) -> str:
        return f"grant to {self.origin_licensee} of {self.dataset_id}"


# --- Federation and witnessing (issue 20, parts 4 and 5) ----------------------------------------


class Peer(models.Model):
    """Another instance this one follows (lists its catalog, verified), witnesses (cosigns its tree
    heads) or collects cosignatures from (it witnesses this one). Not evidence: the follow state and
    the last outcome move on each run. Never deleted, so its heads, alarms and cosignatures keep it."""

    url = models.URLField(max_length=300, unique=True, help_text="The instance's base URL, no trailing slash.")
    name = models.CharField(max_length=200, blank=True, help_text="Its catalog's title, from its feed.")
    following = models.BooleanField(default=False, help_text="List its catalog here.")
    witnessing = models.BooleanField(default=False, help_text="Cosign its tree heads.")
    collecting = models.BooleanField(default=False, help_text="It witnesses us: collect its cosignatures of our heads.")
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="+")  # fmt: skip
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    synced_at = models.DateTimeField(null=True, blank=True, help_text="The last sync of its catalog, ok or not.")
    sync_error = models.TextField(blank=True, help_text="Why the last sync failed, in words; empty when it worked.")
    datasets_listed = models.PositiveIntegerField(default=0)
    datasets_verified = models.PositiveIntegerField(default=0)
    witnessed_at = models.DateTimeField(null=True, blank=True)
    witness_error = models.TextField(blank=True)
    collected_at = models.DateTimeField(null=True, blank=True)
    collect_error = models.TextField(blank=True)

    class Meta:
        ordering = ["url"]

    def __str__(self) -> str:
        return self.name or self.url


class RemoteDataset(models.Model):
    """A dataset of a followed peer's catalog as this instance last read and checked it. Its bytes
    and pages stay at the origin; ``verified`` is true only when its manifest, archive digest and
    log entry checked out against the peer's keys and the tree heads this instance saw."""

    peer = models.ForeignKey(Peer, on_delete=models.PROTECT, related_name="datasets")
    origin_id = models.CharField(max_length=64, help_text="The dataset's id at the origin.")
    name = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    publisher = models.CharField(max_length=300, blank=True)
    license = models.CharField(max_length=500, blank=True, help_text="The SPDX id, or the URL of custom terms.")
    version = models.PositiveIntegerField(null=True, blank=True)
    size_bytes = models.BigIntegerField(null=True, blank=True)
    archive_sha256 = models.CharField(max_length=64, blank=True)
    manifest_sha256 = models.CharField(max_length=64, blank=True)
    log_index = models.BigIntegerField(null=True, blank=True)
    page_url = models.URLField(max_length=500, help_text="The dataset's page at the origin.")
    verified = models.BooleanField(default=False)
    reason = models.TextField(blank=True, help_text="Why it is not verified, in words.")
    gone = models.BooleanField(default=False, help_text="No longer in the peer's catalog.")
    first_seen_at = models.DateTimeField(default=timezone.now, editable=False)
    checked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["peer", "origin_id"], name="remotedataset_unique"),
            models.CheckConstraint(condition=Q(verified=False) | Q(reason=""), name="remotedataset_verified_no_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.name} at {self.peer_id}"


class PeerTreeHead(models.Model):
    """A tree head a peer signed, as this instance received it (the signature checked). Evidence:
    every later head must be consistent with these, and two of one size must agree. Append-only."""

    peer = models.ForeignKey(Peer, on_delete=models.PROTECT, related_name="tree_heads")
    tree_size = models.BigIntegerField()
    root_hash = models.CharField(max_length=64)
    timestamp = models.CharField(max_length=64, help_text="The time the peer signed into the head.")
    envelope = models.JSONField()
    key_id = models.CharField(max_length=64)
    seen_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["peer", "tree_size"]
        constraints = [
            models.UniqueConstraint(fields=["peer", "tree_size", "root_hash"], name="peertreehead_unique"),
            models.CheckConstraint(condition=Q(root_hash__regex=SHA256_HEX), name="peertreehead_root_hex"),
        ]

    def __str__(self) -> str:
        return f"{self.peer_id}: tree head {self.tree_size}"


class SplitViewAlarm(models.Model):
    """A peer showed two histories: two signed heads of one size with different roots, or a head
    that no valid consistency proof links to an earlier one. Both signed heads are kept as the
    evidence (each checks against the peer's key). Append-only."""

    class Kind(models.TextChoices):
        SAME_SIZE = "same_size", _("Two signed heads of one size with different roots")
        INCONSISTENT = "inconsistent", _("The consistency proof does not link the heads")
        NO_PROOF = "no_proof", _("The peer gave no valid consistency proof")

    class Role(models.TextChoices):
        FOLLOWER = "follower", _("Following its catalog")
        WITNESS = "witness", _("Witnessing its log")

    peer = models.ForeignKey(Peer, on_delete=models.PROTECT, related_name="alarms")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    role = models.CharField(max_length=16, choices=Role.choices)
    message = models.TextField()
    first_head = models.JSONField(help_text="The earlier signed head (DSSE envelope).")
    second_head = models.JSONField(help_text="The signed head that contradicts it.")
    proof = models.JSONField(null=True, blank=True, help_text="The peer's answer when asked for a consistency proof.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=["same_size", "inconsistent", "no_proof"]),
                                   name="splitviewalarm_kind_known"),
            models.CheckConstraint(condition=Q(role__in=["follower", "witness"]), name="splitviewalarm_role_known"),
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"alarm {self.id}: {self.peer_id} ({self.kind})"


class Cosignature(models.Model):
    """This instance, as a witness, cosigned a peer's tree head after checking its signature and
    its consistency with every head seen before (C2SP tlog-cosignature in spirit: an Ed25519
    signature over ``cosignature/v1``, the time and the checkpoint). Append-only."""

    peer = models.ForeignKey(Peer, on_delete=models.PROTECT, related_name="cosignatures")
    origin = models.CharField(max_length=300, help_text="The checkpoint's origin line: the peer's URL without scheme.")
    tree_size = models.BigIntegerField()
    root_hash = models.CharField(max_length=64)
    cosigned_at = models.BigIntegerField(help_text="Seconds since the epoch, signed into the cosignature.")
    key_id = models.CharField(max_length=64, help_text="This instance's key that cosigned.")
    origin_key_id = models.CharField(max_length=64, help_text="The peer's key that signed the head.")
    signature = models.CharField(max_length=200, help_text="Base64 Ed25519 signature.")
    tree_head = models.JSONField(help_text="The peer's signed head (DSSE envelope).")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-tree_size", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["peer", "tree_size", "root_hash", "key_id"], name="cosignature_unique"),
            models.CheckConstraint(condition=Q(root_hash__regex=SHA256_HEX), name="cosignature_root_hex"),
        ]

    def __str__(self) -> str:
        return f"cosignature of {self.origin} at {self.tree_size}"


class CollectedCosignature(models.Model):
    """A witness's cosignature of one of this instance's own tree heads, fetched from the witness
    and checked against its keys and our head of that size. Served with the tree head. Append-only."""

    witness = models.ForeignKey(Peer, on_delete=models.PROTECT, related_name="collected")
    tree_size = models.BigIntegerField()
    root_hash = models.CharField(max_length=64)
    key_id = models.CharField(max_length=64, help_text="The witness's key.")
    document = models.JSONField(help_text="The cosignature as the witness publishes it.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-tree_size", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["witness", "tree_size", "key_id"], name="collectedcosignature_unique"),
        ]

    def __str__(self) -> str:
        return f"cosignature by {self.witness_id} of our head {self.tree_size}"
