"""Licenses (SPDX or custom terms, each with the hash of its exact text) and API keys."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from marketplace.ids import new_id

if TYPE_CHECKING:
    from marketplace.models import Submission

SHA256_HEX = r"^[0-9a-f]{64}$"


class License(models.Model):
    """A license text, immutable once created: new terms are a new row with a new hash."""

    spdx_id = models.CharField(
        max_length=64, unique=True, null=True, blank=True, help_text="SPDX identifier; empty for custom terms."
    )
    name = models.CharField(max_length=200)
    url = models.URLField(blank=True)
    text = models.TextField(help_text="The exact terms a licensee accepts.")
    text_sha256 = models.CharField(max_length=64, editable=False)
    organization = models.ForeignKey(
        "marketplace.Organization",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="custom_licenses",
        help_text="Owner of custom terms; empty for platform-wide licenses.",
    )
    commercial_use = models.BooleanField()
    ai_training = models.BooleanField()
    derivatives = models.BooleanField()
    redistribution = models.BooleanField()
    attribution = models.BooleanField()
    share_alike = models.BooleanField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["spdx_id", "name"]
        constraints = [
            models.CheckConstraint(condition=~Q(text=""), name="license_text_not_empty"),
            models.CheckConstraint(condition=Q(text_sha256__regex=SHA256_HEX), name="license_sha256_hex"),
            models.CheckConstraint(
                condition=Q(spdx_id__isnull=False) | Q(organization__isnull=False),
                name="license_custom_has_owner",
            ),
        ]
        # The database also checks text_sha256 = sha256(text): see migration 0002.

    def __str__(self) -> str:
        return self.spdx_id or self.name

    @property
    def abbreviation(self) -> str:
        return self.spdx_id or self.name


class ApiKeyScope(models.TextChoices):
    READ = "read", _("Read: catalog, your grants and submissions")
    DOWNLOAD = "download", _("Download: get download URLs for datasets you may use")
    UPLOAD = "upload", _("Upload: create submissions and upload archives")


class ApiKeyLimit(models.TextChoices):
    ALL = "all", _("All my access")
    ORGANIZATION = "organization", _("One organization")
    DATASETS = "datasets", _("Only these datasets")


class ApiKey(models.Model):
    """A bearer key for the API. Only the SHA-256 of the key is stored; it is shown once.

    ``limit`` narrows what the key reaches, never widens it: ``all`` acts with everything its
    owner may do; ``organization`` only on that organization and its datasets; ``datasets`` only
    on the chosen datasets (a dataset removed from the set is simply out of reach). How each API
    route applies it: licensing/keys/limits.py."""

    Scope = ApiKeyScope
    Limit = ApiKeyLimit

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, help_text="The first characters of the key, to recognise it.")
    key_hash = models.CharField(max_length=64, unique=True)
    scopes = ArrayField(models.CharField(max_length=16, choices=ApiKeyScope.choices))
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    limit = models.CharField(max_length=16, choices=ApiKeyLimit.choices, default=ApiKeyLimit.ALL)
    organization = models.ForeignKey(
        "marketplace.Organization",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text="The one organization a key limited to an organization acts on.",
    )
    datasets = models.ManyToManyField(
        "marketplace.Dataset",
        blank=True,
        related_name="+",
        help_text="The datasets a key limited to datasets acts on.",
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(limit=ApiKeyLimit.ORGANIZATION, organization__isnull=False)
                | (~Q(limit=ApiKeyLimit.ORGANIZATION) & Q(organization__isnull=True)),
                name="apikey_organization_iff_limited_to_it",
            ),
            models.CheckConstraint(condition=Q(limit__in=ApiKeyLimit.values), name="apikey_limit_known"),
            models.CheckConstraint(condition=Q(key_hash__regex=SHA256_HEX), name="apikey_hash_hex"),
            models.CheckConstraint(condition=Q(scopes__len__gt=0), name="apikey_has_scope"),
            models.CheckConstraint(condition=Q(scopes__contained_by=ApiKeyScope.values), name="apikey_scopes_known"),
            models.CheckConstraint(condition=Q(expires_at__gt=F("created_at")), name="apikey_expires_after_creation"),
            models.CheckConstraint(condition=~Q(name=""), name="apikey_named"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def is_active(self, at: datetime | None = None) -> bool:
        moment = at or timezone.now()
        return self.revoked_at is None and self.expires_at > moment

    @property
    def state(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= timezone.now():
            return "expired"
        return "active"


class ConsentTermsQuerySet(models.QuerySet["ConsentTerms"]):
    def current_for(self, submission: Submission) -> ConsentTerms | None:
        """The submission's current consent terms: the newest (terms are appended, never edited)."""
        return self.filter(submission=submission).order_by("-created_at", "-id").first()


class ConsentTerms(models.Model):
    """The terms under which a dataset's data was given: the scope, the exact text contributors
    saw (with its SHA-256, checked by the database) and how they withdraw. Immutable: a change
    is a new row, and the submission points at the newest."""

    submission = models.ForeignKey("marketplace.Submission", on_delete=models.CASCADE, related_name="consent_terms")
    ai_training = models.BooleanField()
    commercial_use = models.BooleanField()
    research_only = models.BooleanField()
    redistribution = models.BooleanField()
    derivatives = models.BooleanField(help_text="Whether works derived from the data (edits, adaptations) are allowed.")
    scope_text = models.TextField(blank=True, help_text="Anything the flags do not say.")
    consent_text = models.TextField(help_text="The exact text contributors agreed to.")
    consent_text_sha256 = models.CharField(max_length=64, editable=False)
    collection_start = models.DateField()
    collection_end = models.DateField()
    withdrawal_process = models.TextField(help_text="How a contributor withdraws consent.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = ConsentTermsQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=~Q(consent_text=""), name="consent_text_not_empty"),
            models.CheckConstraint(condition=~Q(withdrawal_process=""), name="consent_withdrawal_explained"),
            models.CheckConstraint(
                condition=Q(collection_end__gte=F("collection_start")), name="consent_period_ordered"
            ),
            models.CheckConstraint(
                condition=Q(research_only=False) | Q(commercial_use=False), name="consent_research_only_not_commercial"
            ),
            models.CheckConstraint(condition=Q(consent_text_sha256__regex=SHA256_HEX), name="consent_sha256_hex"),
        ]

    def __str__(self) -> str:
        return f"consent terms {self.consent_text_sha256[:12]}"


class ConsentRecord(models.Model):
    """One contributor's consent, pseudonymous: no name or email, only an id the organization
    can map back. Append-only evidence."""

    terms = models.ForeignKey(ConsentTerms, on_delete=models.PROTECT, related_name="records")
    contributor_id = models.CharField(max_length=128, help_text="A pseudonymous id, never a name or email.")
    scope = models.CharField(max_length=200, blank=True)
    terms_sha256 = models.CharField(max_length=64)
    given_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["terms", "contributor_id"]
        constraints = [
            models.UniqueConstraint(fields=["terms", "contributor_id"], name="consent_record_once_per_contributor"),
            models.CheckConstraint(condition=Q(terms_sha256__regex=SHA256_HEX), name="consent_record_sha256_hex"),
            models.CheckConstraint(condition=~Q(contributor_id=""), name="consent_record_has_contributor"),
        ]

    def __str__(self) -> str:
        return f"{self.contributor_id} under {self.terms_sha256[:12]}"


class LicenseGrant(models.Model):
    """Evidence that a licensee accepted the exact terms of a dataset version: who, for which
    organization, the SHA-256 of the terms text shown (and the text itself), when, and with
    which user agent. Append-only: the database refuses updates and deletes (migration 0005).

    A grant covers every version of its dataset whose terms hash equals ``terms_sha256``: the
    licensee agreed to that text, whichever version number it came with."""

    class Source(models.TextChoices):
        WEB = "web", _("Accepted on the dataset page")
        API = "api", _("Accepted through the API")
        PAYMENT = "payment", _("Created by a recorded payment")
        IMPORT = "import", _("Carried over from the instance the dataset moved from")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="license_grants")
    organization = models.ForeignKey(
        "marketplace.Organization", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        help_text="The licensee's organization the terms were accepted for; empty for a person.",
    )  # fmt: skip
    dataset = models.ForeignKey("marketplace.Dataset", on_delete=models.PROTECT, related_name="license_grants")
    version = models.ForeignKey("marketplace.DatasetVersion", on_delete=models.PROTECT, related_name="+")
    license = models.ForeignKey(License, on_delete=models.PROTECT, related_name="grants")
    terms_text = models.TextField(help_text="The exact terms text shown and accepted.")
    terms_sha256 = models.CharField(max_length=64)
    source = models.CharField(max_length=16, choices=Source.choices)
    user_agent = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "dataset", "terms_sha256"], name="grant_lookup_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(terms_sha256__regex=SHA256_HEX), name="grant_terms_sha256_hex"),
            models.CheckConstraint(
                condition=Q(source__in=["web", "api", "payment", "import"]), name="grant_source_known"
            ),
        ]
        # The database also checks terms_sha256 = sha256(terms_text): see migration 0005.

    def __str__(self) -> str:
        return f"grant {self.id}: {self.user_id} accepted {self.terms_sha256[:12]}"


class AccessRequest(models.Model):
    """A request for access to a restricted dataset. Moves pending -> approved | rejected, and
    approved -> revoked, by conditional updates; a rejected or revoked requester may ask again
    (a new row), so the history stays."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        REVOKED = "revoked", _("Revoked")

    dataset = models.ForeignKey("marketplace.Dataset", on_delete=models.PROTECT, related_name="access_requests")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="access_requests")
    full_name = models.CharField(max_length=200)
    organization_name = models.CharField(max_length=200)
    intended_use = models.TextField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    auto_approved = models.BooleanField(default=False)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True, help_text="Why it was rejected or revoked: shown to the requester.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["dataset", "user"],
                condition=Q(status__in=["pending", "approved"]),
                name="access_request_one_open_per_user",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "approved", "rejected", "revoked"]), name="access_request_status"
            ),
            models.CheckConstraint(
                condition=Q(status="pending") | Q(decided_at__isnull=False), name="access_request_decided_has_time"
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["rejected", "revoked"]) | ~Q(reason=""),
                name="access_request_refusal_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(full_name="") & ~Q(organization_name="") & ~Q(intended_use=""),
                name="access_request_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"access to {self.dataset_id} for {self.user_id} ({self.status})"


class Invoice(models.Model):
    """What a licensee owes for a paid dataset. The terms shown when the invoice was opened are
    kept, so that the payment can create the grant for exactly those terms."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        PAID = "paid", pgettext_lazy("invoice status", "Paid")
        VOID = "void", _("Voided")
        EXPIRED = "expired", _("Expired")
        REFUNDED = "refunded", _("Refunded")

    id = models.CharField(primary_key=True, max_length=32, default=new_id, editable=False)
    dataset = models.ForeignKey("marketplace.Dataset", on_delete=models.PROTECT, related_name="invoices")
    version = models.ForeignKey("marketplace.DatasetVersion", on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="invoices")
    organization = models.ForeignKey(
        "marketplace.Organization", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    base_price_cents = models.PositiveIntegerField()
    platform_fee_cents = models.PositiveIntegerField()
    amount_cents = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    provider = models.CharField(max_length=32)
    terms_text = models.TextField()
    terms_sha256 = models.CharField(max_length=64)
    user_agent = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    paid_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(
        null=True, blank=True, help_text="An open invoice past this moment can no longer be paid (INVOICE_EXPIRY_DAYS)."
    )
    closed_at = models.DateTimeField(null=True, blank=True, help_text="When it was voided, expired or refunded.")
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        help_text="Who voided or refunded it; empty when it expired.",
    )  # fmt: skip
    closed_reason = models.TextField(blank=True, help_text="Why it was voided or refunded, in the closer's words.")

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["dataset", "user"], condition=Q(status="open"), name="invoice_one_open_per_user"
            ),
            models.CheckConstraint(
                condition=Q(amount_cents=F("base_price_cents") + F("platform_fee_cents")), name="invoice_amount_sum"
            ),
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="invoice_amount_positive"),
            models.CheckConstraint(
                condition=Q(status__in=["open", "paid", "void", "expired", "refunded"]), name="invoice_status"
            ),
            models.CheckConstraint(
                condition=~Q(status="paid") | Q(paid_at__isnull=False), name="invoice_paid_has_time"
            ),
            models.CheckConstraint(condition=Q(terms_sha256__regex=SHA256_HEX), name="invoice_terms_sha256_hex"),
        ]

    def __str__(self) -> str:
        return f"invoice {self.id} ({self.status})"


class Payment(models.Model):
    """A recorded payment of an invoice: append-only evidence, one per invoice."""

    invoice = models.OneToOneField(Invoice, on_delete=models.PROTECT, related_name="payment")
    amount_cents = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    provider = models.CharField(max_length=32)
    reference = models.CharField(max_length=200, blank=True, help_text="The provider's or the bank's reference.")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        help_text="Who marked the invoice paid; empty for a provider callback or a management command.",
    )  # fmt: skip
    grant = models.OneToOneField(LicenseGrant, on_delete=models.PROTECT, related_name="payment")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.CheckConstraint(condition=Q(amount_cents__gt=0), name="payment_amount_positive")]

    def __str__(self) -> str:
        return f"payment of {self.invoice_id}"


class Refund(models.Model):
    """A refunded payment: the evidence that the money went back and that the grant the payment
    created no longer licenses anything. Written in the transaction that posts the ledger's
    reversal and moves the invoice to refunded; append-only (migration 0012), one per payment."""

    payment = models.OneToOneField(Payment, on_delete=models.PROTECT, related_name="refund")
    grant = models.OneToOneField(
        LicenseGrant, on_delete=models.PROTECT, related_name="refund", help_text="The grant it revoked."
    )
    transaction = models.OneToOneField(
        "LedgerTransaction", on_delete=models.PROTECT, related_name="refund_record", help_text="The ledger's reversal."
    )
    amount_cents = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    reason = models.TextField(help_text="Why staff refunded it; the licensee reads it.")
    refunded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        help_text="Staff who refunded it; empty for a provider callback or a management command.",
    )  # fmt: skip
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="refund_has_reason"),
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="refund_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"refund of {self.payment_id}"


class DownloadRecord(models.Model):
    """Every download URL issued: who, which version and file, under which grant, when.
    Append-only audit evidence, and the source of the organization's download analytics."""

    class Kind(models.TextChoices):
        ARCHIVE = "archive", _("Archive")
        SAMPLE = "sample", _("Sample")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="downloads")
    api_key = models.ForeignKey(ApiKey, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    dataset = models.ForeignKey("marketplace.Dataset", on_delete=models.PROTECT, related_name="downloads")
    version = models.ForeignKey("marketplace.DatasetVersion", on_delete=models.PROTECT, related_name="+")
    grant = models.ForeignKey(LicenseGrant, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    # Why no grant is needed, when there is none: "member" of the owning organization, or "sample".
    basis = models.CharField(max_length=16)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # The MDC download session names its record twice, as `accessRecordId` (a cuid-like id) and as
    # `downloadToken` (dlt_<uuid>); both are opaque, unlike the sequential primary key. Null for
    # the records issued before they were kept.
    public_id = models.CharField(max_length=32, unique=True, null=True, default=new_id, editable=False)
    token = models.UUIDField(unique=True, null=True, default=uuid.uuid4, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["dataset", "created_at"], name="download_dataset_time_idx"),
            models.Index(fields=["version", "user"], name="download_version_user_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=["archive", "sample"]), name="download_kind"),
            models.CheckConstraint(condition=Q(basis__in=["grant", "member", "sample"]), name="download_basis"),
            models.CheckConstraint(condition=~Q(basis="grant") | Q(grant__isnull=False), name="download_grant_basis"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} of {self.version_id} by {self.user_id}"


class ConsentWithdrawal(models.Model):
    """A contributor's withdrawal of consent for some records of a published version, recorded
    by the contributor or by the owner on their behalf. Append-only. Its existence marks the
    version withdrawn: new downloads of it answer 410 (published versions themselves are
    immutable, so the mark lives here)."""

    dataset = models.ForeignKey("marketplace.Dataset", on_delete=models.PROTECT, related_name="withdrawals")
    version = models.ForeignKey("marketplace.DatasetVersion", on_delete=models.PROTECT, related_name="+")
    contributor_id = models.CharField(max_length=128, blank=True, help_text="Pseudonymous, as in consent records.")
    record_ids = ArrayField(models.CharField(max_length=200), help_text="Ids of the withdrawn records.")
    file_hashes = ArrayField(models.CharField(max_length=64), blank=True, default=list)
    reason = models.TextField(blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    on_behalf = models.BooleanField(help_text="Recorded by the owner on the contributor's behalf.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(record_ids__len__gt=0), name="withdrawal_names_records"),
        ]

    def __str__(self) -> str:
        return f"withdrawal of {len(self.record_ids)} records from {self.version_id}"


class RemovalStatement(models.Model):
    """The removal-feed entry of a withdrawal, signed (DSSE, the instance key) in the transaction
    that records the withdrawal, and the index of the transparency-log entry naming its SHA-256.
    Withdrawals recorded before statements were signed have none."""

    withdrawal = models.OneToOneField(ConsentWithdrawal, on_delete=models.PROTECT, related_name="statement")
    envelope = models.JSONField(help_text="DSSE envelope of the removal statement.")
    statement_sha256 = models.CharField(max_length=64)
    log_index = models.BigIntegerField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(statement_sha256__regex=SHA256_HEX), name="removal_statement_sha256_hex"
            ),
        ]

    def __str__(self) -> str:
        return f"statement of withdrawal {self.withdrawal_id}"


class RemovalNotice(models.Model):
    """A licensee who downloaded a version told of a withdrawal from it, and when (if ever) they
    acknowledged deleting the records. The organization sees who did and who did not."""

    withdrawal = models.ForeignKey(ConsentWithdrawal, on_delete=models.PROTECT, related_name="notices")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="removal_notices")
    version = models.ForeignKey("marketplace.DatasetVersion", on_delete=models.PROTECT, related_name="+")
    notified_at = models.DateTimeField(default=timezone.now)
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-notified_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["withdrawal", "user", "version"], name="notice_once_per_version"),
        ]

    def __str__(self) -> str:
        return f"notice of {self.withdrawal_id} to {self.user_id}"


class Rerelease(models.Model):
    """The job that turns withdrawals into a clean version: the dataset's current version rewritten
    without the withdrawn files and index rows, validated, then published (or held for review, as
    the organization chose). One per withdrawal; each removes every withdrawal of the dataset
    recorded so far, so a later one finds nothing left to remove."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting to start")
        RUNNING = "running", _("Writing the new archive")
        IN_REVIEW = "in_review", _("Waiting for a reviewer")
        PUBLISHED = "published", _("Published")
        NOTHING_TO_REMOVE = "nothing_to_remove", _("Nothing left to remove")
        SUPERSEDED = "superseded", _("Replaced by a later re-release")
        FAILED = "failed", _("Failed")

    dataset = models.ForeignKey("marketplace.Dataset", on_delete=models.PROTECT, related_name="rereleases")
    withdrawal = models.OneToOneField(ConsentWithdrawal, on_delete=models.PROTECT, related_name="rerelease")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    source_version = models.ForeignKey(
        "marketplace.DatasetVersion", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        help_text="The version rewritten.",
    )  # fmt: skip
    submission = models.ForeignKey(
        "marketplace.Submission", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    version = models.ForeignKey(
        "marketplace.DatasetVersion", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        help_text="The version it published.",
    )  # fmt: skip
    removed_files = models.JSONField(default=list, blank=True, help_text="[{path, size, sha256}] left out.")
    removed_rows = models.JSONField(default=dict, blank=True, help_text="{index file path: rows left out}.")
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(status="published") | Q(version__isnull=False),
                                   name="rerelease_published_has_version"),
            models.CheckConstraint(condition=~Q(status="failed") | ~Q(error=""), name="rerelease_failure_explained"),
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"re-release of {self.dataset_id} ({self.status})"


class ContributorClaim(models.Model):
    """A link an organization hands one contributor: whoever opens it and signs in binds their
    account to the pseudonymous ``contributor_id`` of the organization's consent records, and to
    the balance owed to ``payee_email`` when it names one. Only the SHA-256 of the token is kept.
    Single-use (claimed by a conditional update), expiring, revocable; never deleted, so the
    claimed rows are the evidence of who holds which id. Licensees never see them."""

    organization = models.ForeignKey("marketplace.Organization", on_delete=models.PROTECT, related_name="claims")
    contributor_id = models.CharField(max_length=128, blank=True, help_text="As in the consent records.")
    payee_email = models.EmailField(blank=True, help_text="A revenue-share payee named by this address.")
    sent_to = models.EmailField(blank=True, help_text="Where the link was emailed; empty when handed over.")
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="contributor_claims"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["claimed_by", "organization"], name="claim_holder_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(token_hash__regex=SHA256_HEX), name="claim_token_hash_hex"),
            models.CheckConstraint(condition=~Q(contributor_id="") | ~Q(payee_email=""), name="claim_names_something"),
            models.CheckConstraint(
                condition=Q(claimed_at__isnull=True, claimed_by__isnull=True)
                | Q(claimed_at__isnull=False, claimed_by__isnull=False),
                name="claim_claimed_has_holder",
            ),
            models.CheckConstraint(condition=Q(expires_at__gt=F("created_at")), name="claim_expires_after_creation"),
            # One holder per pseudonymous id (and per payee address) of an organization.
            models.UniqueConstraint(
                fields=["organization", "contributor_id"],
                condition=Q(claimed_at__isnull=False) & ~Q(contributor_id=""),
                name="claim_contributor_held_once",
            ),
            models.UniqueConstraint(
                Lower("payee_email"),
                "organization",
                condition=Q(claimed_at__isnull=False) & ~Q(payee_email=""),
                name="claim_payee_held_once",
            ),
        ]

    def __str__(self) -> str:
        return f"claim of {self.contributor_id or self.payee_email} in {self.organization_id}"

    @property
    def state(self) -> str:
        if self.claimed_at:
            return "claimed"
        if self.revoked_at:
            return "revoked"
        if self.expires_at <= timezone.now():
            return "expired"
        return "open"


class PayoutDetails(models.Model):
    """Where a person wants to be paid: what staff read when they send a payout batch. One row per
    person, replaced on change (the history of payouts keeps what was used)."""

    class Method(models.TextChoices):
        BANK = "bank", _("Bank transfer")
        PAYPAL = "paypal", _("PayPal")
        OTHER = "other", _("Other")

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="payout_details")
    method = models.CharField(max_length=8, choices=Method.choices)
    account_holder = models.CharField(max_length=200)
    account = models.CharField(max_length=200, help_text="IBAN or account number, PayPal address, ...")
    bank_name = models.CharField(max_length=200, blank=True)
    notes = models.TextField(blank=True, max_length=2000)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(method__in=["bank", "paypal", "other"]), name="payout_details_method"),
            models.CheckConstraint(condition=~Q(account_holder="") & ~Q(account=""), name="payout_details_complete"),
        ]

    def __str__(self) -> str:
        return f"payout details of {self.user_id}"


# --- The revenue-share ledger (licensing/ledger.py writes it) ---------------------------------


class LedgerAccount(models.Model):
    """An account of the double-entry ledger, named by a stable ``code``: ``cash:received``
    (money licensees paid us), ``platform:fees``, ``payable:user:<id>``,
    ``payable:payee:<email>``, ``payable:org:<id>`` (what we owe a contributor or an
    organization), ``payout:pending`` (payouts sent to the bank, not yet confirmed) and
    ``platform:refund-shortfall`` (refunds of money already paid out). Balances are sums of
    entries, never stored; the row is what a payout locks so that two cannot spend one balance."""

    class Kind(models.TextChoices):
        CASH = "cash", _("Cash")
        FEES = "fees", _("Platform fees")
        PAYABLE = "payable", _("Payable to a contributor")
        PAYOUT = "payout", _("Payouts in transit")
        SHORTFALL = "shortfall", _("Refund shortfall")

    code = models.CharField(max_length=300, unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    name = models.CharField(max_length=200, help_text="Who or what the account is, for people.")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="ledger_accounts"
    )
    payee_email = models.EmailField(blank=True)
    organization = models.ForeignKey(
        "marketplace.Organization", on_delete=models.PROTECT, null=True, blank=True, related_name="ledger_accounts"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["cash", "fees", "payable", "payout", "shortfall"]), name="ledger_account_kind"
            ),
            models.CheckConstraint(
                condition=~Q(kind="payable")
                | Q(user__isnull=False, organization__isnull=True, payee_email="")
                | Q(user__isnull=True, organization__isnull=False, payee_email="")
                | (Q(user__isnull=True, organization__isnull=True) & ~Q(payee_email="")),
                name="ledger_payable_names_one_payee",
            ),
        ]

    def __str__(self) -> str:
        return self.code


class PayoutBatch(models.Model):
    """Payouts staff send together. Creating the batch takes the amounts off the payees'
    balances at once (a ledger transaction), so a balance cannot be paid twice; marking it paid
    with the bank's reference moves the money out of cash (another transaction). Its state moves
    pending -> paid, or pending -> cancelled (a third transaction gives the amounts back to the
    payees' balances), by a conditional update."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        PAID = "paid", pgettext_lazy("payout status", "Paid")
        CANCELLED = "cancelled", _("Cancelled")

    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    paid_at = models.DateTimeField(null=True, blank=True)
    reference = models.CharField(max_length=200, blank=True, help_text="The bank's or provider's reference.")
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.TextField(blank=True, help_text="Why staff cancelled it.")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["pending", "paid", "cancelled"]), name="payout_batch_status"
            ),
            models.CheckConstraint(
                condition=~Q(status="paid") | (Q(paid_at__isnull=False, paid_by__isnull=False) & ~Q(reference="")),
                name="payout_batch_paid_has_reference",
            ),
            models.CheckConstraint(
                condition=~Q(status="cancelled")
                | (Q(cancelled_at__isnull=False, cancelled_by__isnull=False) & ~Q(cancel_reason="")),
                name="payout_batch_cancelled_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"payout batch {self.id} ({self.status})"


class LedgerTransaction(models.Model):
    """One event that moves money: a payment, its refund, a payout batch, or the batch's
    confirmation. Its entries sum to zero in its single currency (a deferred database trigger
    checks every commit), and ``idempotency_key`` names the source event, so posting it again
    finds this row instead of a second one. Append-only, like its entries."""

    class Kind(models.TextChoices):
        PAYMENT = "payment", _("Payment")
        REFUND = "refund", _("Refund")
        PAYOUT = "payout", _("Payout batch created")
        PAYOUT_PAID = "payout_paid", _("Payout batch paid")
        PAYOUT_CANCELLED = "payout_cancelled", _("Payout batch cancelled")

    idempotency_key = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    currency = models.CharField(max_length=3)
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    dataset = models.ForeignKey(
        "marketplace.Dataset", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    submission = models.ForeignKey(
        "marketplace.Submission", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        help_text="Whose revenue shares split the payment; empty when the dataset has none.",
    )  # fmt: skip
    payout_batch = models.ForeignKey(
        PayoutBatch, on_delete=models.PROTECT, null=True, blank=True, related_name="transactions"
    )
    memo = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["payment", "refund", "payout", "payout_paid", "payout_cancelled"]),
                name="ledger_transaction_kind",
            ),
            models.CheckConstraint(condition=Q(currency__regex=r"^[a-z]{3}$"), name="ledger_transaction_currency"),
            models.CheckConstraint(
                condition=~Q(kind__in=["payment", "refund"]) | Q(payment__isnull=False, dataset__isnull=False),
                name="ledger_payment_names_its_payment",
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=["payout", "payout_paid", "payout_cancelled"]) | Q(payout_batch__isnull=False),
                name="ledger_payout_names_its_batch",
            ),
        ]

    def __str__(self) -> str:
        return self.idempotency_key


class LedgerEntry(models.Model):
    """One line of a transaction, in integer minor units (cents): positive is a debit, negative
    a credit. What we owe a payee is the negated sum of their payable account's entries."""

    transaction = models.ForeignKey(LedgerTransaction, on_delete=models.PROTECT, related_name="entries")
    account = models.ForeignKey(LedgerAccount, on_delete=models.PROTECT, related_name="entries")
    amount = models.BigIntegerField()

    class Meta:
        ordering = ["transaction", "id"]
        indexes = [models.Index(fields=["account", "transaction"], name="ledger_entry_account_idx")]
        constraints = [models.CheckConstraint(condition=~Q(amount=0), name="ledger_entry_not_zero")]
        # The database also checks that each transaction's entries sum to zero: see migration 0006.

    def __str__(self) -> str:
        return f"{self.account_id} {self.amount:+d}"
