"""Licenses (SPDX or custom terms, each with the hash of its exact text) and API keys."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

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
    READ = "read", "Read: catalog, your grants and submissions"
    DOWNLOAD = "download", "Download: get download URLs for datasets you may use"
    UPLOAD = "upload", "Upload: create submissions and upload archives"


class ApiKey(models.Model):
    """A bearer key for the API. Only the SHA-256 of the key is stored; it is shown once."""

    Scope = ApiKeyScope

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, help_text="The first characters of the key, to recognise it.")
    key_hash = models.CharField(max_length=64, unique=True)
    scopes = ArrayField(models.CharField(max_length=16, choices=ApiKeyScope.choices))
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
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


class ConsentTerms(models.Model):
    """The terms under which a dataset's data was given: the scope, the exact text contributors
    saw (with its SHA-256, checked by the database) and how they withdraw. Immutable: a change
    is a new row, and the submission points at the newest."""

    submission = models.ForeignKey("marketplace.Submission", on_delete=models.CASCADE, related_name="consent_terms")
    ai_training = models.BooleanField()
    commercial_use = models.BooleanField()
    research_only = models.BooleanField()
    redistribution = models.BooleanField()
    scope_text = models.TextField(blank=True, help_text="Anything the flags do not say.")
    consent_text = models.TextField(help_text="The exact text contributors agreed to.")
    consent_text_sha256 = models.CharField(max_length=64, editable=False)
    collection_start = models.DateField()
    collection_end = models.DateField()
    withdrawal_process = models.TextField(help_text="How a contributor withdraws consent.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

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
