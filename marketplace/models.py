"""Organizations and their members, datasets and their immutable published versions."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractUser
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from marketplace.ids import new_id

SHA256_HEX = r"^[0-9a-f]{64}$"
# Slugs that would shadow API routes (GET /api/datasets/filters).
RESERVED_SLUGS = ("filters",)
# What the catalog lists: the predicate of its partial indexes (see marketplace/catalog.py).
LISTED = Q(status="published", visibility__in=["public", "restricted"])


class User(AbstractUser):
    """A person. Username is the login; email is unique (case-insensitive) where given."""

    # The id the MDC answers show (a submission's `createdBy`): opaque like every other id there,
    # where the sequential primary key would tell how many users an instance has.
    public_id = models.CharField(max_length=32, unique=True, default=new_id, editable=False)
    # The language their emails are written in: the one they last chose with the switcher while
    # signed in (settings.LANGUAGES), empty until then (the site's LANGUAGE_CODE).
    language = models.CharField(max_length=8, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), condition=~Q(email=""), name="user_email_unique_ci"),
        ]


class Organization(models.Model):
    id = models.CharField(primary_key=True, max_length=32, default=new_id, editable=False)
    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    website = models.URLField(blank=True)
    approved_to_upload = models.BooleanField(
        default=False, help_text="Staff approval: members may create submissions and upload archives."
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class WithdrawalReleases(models.TextChoices):
        AUTOMATIC = "automatic", _("Published at once")
        REVIEW = "review", _("Held for a reviewer")

    withdrawal_releases = models.CharField(
        max_length=16, choices=WithdrawalReleases.choices, default=WithdrawalReleases.AUTOMATIC,
        help_text="What happens to the version made without withdrawn records.",
    )  # fmt: skip
    moved_to = models.URLField(
        max_length=300, blank=True, help_text="Where the organization lives now, if its owners moved it away."
    )
    moved_at = models.DateTimeField(null=True, blank=True)
    moved_datasets = models.JSONField(
        default=dict, blank=True, help_text="For each dataset id here, its address at the new home."
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(approved_to_upload=False) | Q(approved_at__isnull=False),
                name="organization_approval_has_time",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class MembershipRole(models.TextChoices):
    OWNER = "owner", _("Owner")
    ADMIN = "admin", _("Admin")
    MEMBER = "member", _("Member")
    REVIEWER = "reviewer", _("Reviewer")


class Membership(models.Model):
    Role = MembershipRole

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["organization__name", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="membership_unique_user_per_org"),
            models.CheckConstraint(condition=Q(role__in=MembershipRole.values), name="membership_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.role}) in {self.organization}"


class Task(models.TextChoices):
    """The MDC task enum (contract E2/E8)."""

    NA = "N/A", _("Not applicable")
    NLP = "NLP", _("Natural language processing")
    ASR = "ASR", _("Automatic speech recognition")
    LID = "LID", _("Language identification")
    TTS = "TTS", _("Text to speech")
    MT = "MT", _("Machine translation")
    LM = "LM", _("Language modelling")
    LLM = "LLM", _("Large language models")
    NLU = "NLU", _("Natural language understanding")
    NLG = "NLG", _("Natural language generation")
    CALL = "CALL", _("Computer-assisted language learning")
    RAG = "RAG", _("Retrieval-augmented generation")
    CV = "CV", _("Computer vision")
    ML = "ML", _("Machine learning")
    OTH = "OTH", _("Other")


class Visibility(models.TextChoices):
    PUBLIC = "public", _("Public")
    RESTRICTED = "restricted", _("Restricted (access on request)")
    PRIVATE = "private", _("Private (organization members only)")


class Datasheet(models.Model):
    """The datasheet of the MDC submission contract (E8), shared by a dataset and the submission
    that brings it in."""

    # 255: what the MDC platform accepts (CreateSubmissionRequest, UpdateSubmissionRequest).
    name = models.CharField(max_length=255)
    short_description = models.CharField(max_length=500, blank=True)
    long_description = models.TextField(blank=True, help_text="Markdown.")
    locale = models.CharField(max_length=35, blank=True, help_text="BCP 47 language tag, e.g. en-GB.")
    task = models.CharField(max_length=8, choices=Task.choices, blank=True)
    format = models.CharField(max_length=50, blank=True, help_text="e.g. TSV, JSONL, Parquet, WAV.")
    # Not in the MDC contract's datasheet: set through /api/v1 and the page. When a contributor
    # withdraws consent, the re-release drops the rows of index files whose value in this column
    # names a withdrawn record.
    record_id_column = models.CharField(
        max_length=100,
        blank=True,
        help_text="The column of the index files (CSV, TSV, JSON Lines) that names a record.",
    )
    # Also not in the contract: the column holding each row's contributor id (Common Voice's
    # ``client_id``), the pseudonymous id of the consent records. A contributor who withdraws
    # themselves is resolved to their rows through it.
    contributor_id_column = models.CharField(
        max_length=100,
        blank=True,
        help_text="The column of the index files that holds each record's contributor id.",
    )
    license_url = models.URLField(blank=True)
    other = models.TextField(blank=True)
    restrictions = models.TextField(blank=True)
    forbidden_usage = models.TextField(blank=True)
    additional_conditions = models.TextField(blank=True)
    intended_usage = models.TextField(blank=True)
    ethical_review_process = models.TextField(blank=True)
    point_of_contact_full_name = models.CharField(max_length=200, blank=True)
    point_of_contact_email = models.EmailField(blank=True)
    funded_by_full_name = models.CharField(max_length=200, blank=True)
    funded_by_email = models.EmailField(blank=True)
    legal_contact_full_name = models.CharField(max_length=200, blank=True)
    legal_contact_email = models.EmailField(blank=True)
    created_by_full_name = models.CharField(max_length=200, blank=True)
    created_by_email = models.EmailField(blank=True)
    show_contact_info = models.BooleanField(default=False)
    show_compliance_attributes = models.BooleanField(default=True)
    exclusivity_opt_out = models.BooleanField(default=False)
    auto_approve_access_requests = models.BooleanField(default=False)

    is_paid = models.BooleanField(default=False)
    base_price_cents = models.PositiveIntegerField(null=True, blank=True)
    currency = models.CharField(max_length=3, default="usd")
    visibility = models.CharField(max_length=16, choices=Visibility.choices, default=Visibility.PUBLIC)

    class Meta:
        abstract = True


class Dataset(Datasheet):
    Visibility = Visibility

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")
        REMOVED = "removed", _("Removed")

    id = models.CharField(primary_key=True, max_length=32, default=new_id, editable=False)
    slug = models.SlugField(max_length=100, unique=True)
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="datasets")
    license = models.ForeignKey(
        "licensing.License", on_delete=models.PROTECT, null=True, blank=True, related_name="datasets"
    )
    tags = models.JSONField(default=list, blank=True)

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True)
    removed_at = models.DateTimeField(null=True, blank=True)
    removal_reason = models.TextField(blank=True)

    # Denormalised by publish_version for the catalog: one row answers a listing, no joins.
    current_version = models.ForeignKey(
        "DatasetVersion", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    size_bytes = models.BigIntegerField(default=0)
    has_sample = models.BooleanField(default=False)
    # Kept current by a database trigger (migration 0003): name (A), short description (B),
    # long description and tags (C).
    search_vector = SearchVectorField(null=True, editable=False)

    class Meta:
        ordering = ["-published_at", "-created_at"]
        indexes = [
            models.Index(fields=["status", "visibility", "-published_at"], name="dataset_catalog_idx"),
            # The catalog walks these in order and stops at the page (partial: listed rows only).
            models.Index(F("published_at").desc(), F("id").desc(), name="dataset_listed_newest_idx", condition=LISTED),
            models.Index(F("size_bytes").desc(), name="dataset_listed_size_idx", condition=LISTED),
            # No pending list: a catalog is read far more than written, and a long pending
            # list makes every search scan it.
            GinIndex(fields=["search_vector"], name="dataset_search_idx", fastupdate=False),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(is_paid=False) | Q(base_price_cents__isnull=False, base_price_cents__gt=0),
                name="dataset_paid_has_price",
            ),
            models.CheckConstraint(condition=Q(currency="usd"), name="dataset_currency_supported"),
            models.CheckConstraint(condition=~Q(slug__in=RESERVED_SLUGS), name="dataset_slug_not_reserved"),
            models.CheckConstraint(
                condition=~Q(status="published") | Q(published_at__isnull=False),
                name="dataset_published_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(status="removed") | Q(removed_at__isnull=False), name="dataset_removed_has_time"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class DatasetVersion(models.Model):
    """One archive of a dataset. Once published the row can be neither changed nor deleted
    (a database trigger refuses it): corrections are new versions."""

    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    archive_key = models.CharField(max_length=500, help_text="Object key in storage (generated).")
    filename = models.CharField(max_length=255, unique=True, help_text="Version-specific download name.")
    size_bytes = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    license = models.ForeignKey("licensing.License", on_delete=models.PROTECT, related_name="versions")
    license_text_sha256 = models.CharField(max_length=64, help_text="The exact terms this version is sold under.")
    sample_key = models.CharField(max_length=500, blank=True)
    sample_filename = models.CharField(max_length=255, blank=True)
    sample_size_bytes = models.BigIntegerField(null=True, blank=True)
    # Written once, at insert (publish_version): the row is immutable once published.
    changelog = models.TextField(blank=True, help_text="What changed from the previous version (empty for v1).")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["dataset", "-number"]
        get_latest_by = "number"
        constraints = [
            models.UniqueConstraint(fields=["dataset", "number"], name="version_unique_number"),
            models.CheckConstraint(condition=Q(number__gte=1), name="version_number_positive"),
            models.CheckConstraint(condition=Q(size_bytes__gt=0), name="version_size_positive"),
            models.CheckConstraint(condition=Q(sha256__regex=SHA256_HEX), name="version_sha256_hex"),
            models.CheckConstraint(
                condition=Q(license_text_sha256__regex=SHA256_HEX), name="version_license_sha256_hex"
            ),
            models.CheckConstraint(
                condition=Q(filename__regex=r"^[A-Za-z0-9][A-Za-z0-9._-]*\.(tar\.gz|tgz)$"),
                name="version_filename_bare_targz",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.dataset} v{self.number}"


class SearchWord(models.Model):
    """The catalog's vocabulary (words of names, short descriptions and tags, kept by the
    search trigger), against which a query's misspelt words are corrected."""

    word = models.CharField(primary_key=True, max_length=40)

    class Meta:
        indexes = [GinIndex(fields=["word"], name="searchword_trgm_idx", opclasses=["gin_trgm_ops"])]

    def __str__(self) -> str:
        return self.word


class Invitation(models.Model):
    """An invitation to join an organization, sent by email. Only the SHA-256 of its token is
    stored; the link in the email carries the token."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=16, choices=MembershipRole.choices, default=MembershipRole.MEMBER)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(role__in=MembershipRole.values), name="invitation_role_valid"),
            models.CheckConstraint(condition=Q(token_hash__regex=SHA256_HEX), name="invitation_token_hash_hex"),
            models.UniqueConstraint(
                Lower("email"),
                "organization",
                condition=Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="invitation_one_open_per_email",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} to {self.organization} as {self.role}"

    @property
    def state(self) -> str:
        if self.accepted_at:
            return "accepted"
        if self.revoked_at:
            return "revoked"
        if self.expires_at <= timezone.now():
            return "expired"
        return "open"


class Submission(Datasheet):
    """A contributor's proposal of a new dataset (or a new version of one): its datasheet,
    license and pricing, and later its archive, consent terms and revenue split. Reviewers
    approve it into a published version. Deleting leaves a tombstone, so that a repeated
    delete answers 410 rather than 404."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted for review")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        DELETED = "deleted", _("Deleted")

    id = models.CharField(primary_key=True, max_length=32, default=new_id, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="submissions")
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="submissions")
    dataset = models.ForeignKey(
        Dataset, on_delete=models.PROTECT, null=True, blank=True, related_name="submissions",
        help_text="The dataset this submission adds a version to; empty for a new dataset.",
    )  # fmt: skip
    # Not in the MDC contract's datasheet (E8): set through /api/v1 and the page. Required before a
    # version of an existing dataset is submitted; approval copies it onto the version.
    changelog = models.TextField(blank=True, help_text="What changed in this version.")
    # As the contributor named it: an SPDX id of the contract's list or custom terms' name.
    license_abbreviation = models.CharField(max_length=100, blank=True)
    license_name = models.CharField(max_length=200, blank=True)
    license_text = models.TextField(
        blank=True, help_text="The exact terms licensees accept, when the license is custom (not an SPDX id)."
    )
    archive_upload = models.ForeignKey(
        "Upload", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        help_text="The latest completed archive upload.",
    )  # fmt: skip
    sample_upload = models.ForeignKey("Upload", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(null=True, blank=True)
    # The MDC submission answers when the contributor opted out of exclusivity, not only whether.
    exclusivity_opted_out_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_reason = models.TextField(blank=True, help_text="Why it was rejected: shown to the contributor.")
    version = models.ForeignKey(
        "DatasetVersion", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        help_text="The version its approval published.",
    )  # fmt: skip
    parents: models.ManyToManyField[DatasetVersion, Any] = models.ManyToManyField(
        "DatasetVersion", blank=True, related_name="child_submissions",
        help_text="Published versions this dataset derives from (its lineage); their licenses must allow it.",
    )  # fmt: skip

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="rejected") | (Q(reviewed_at__isnull=False) & ~Q(review_reason="")),
                name="submission_rejected_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(status="approved") | Q(reviewed_at__isnull=False, version__isnull=False),
                name="submission_approved_has_version",
            ),
            models.CheckConstraint(
                condition=Q(is_paid=False) | Q(base_price_cents__isnull=False, base_price_cents__gt=0),
                name="submission_paid_has_price",
            ),
            models.CheckConstraint(
                condition=~Q(status="deleted") | Q(deleted_at__isnull=False), name="submission_deleted_has_time"
            ),
            models.CheckConstraint(
                condition=~Q(status="submitted") | Q(submitted_at__isnull=False),
                name="submission_submitted_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.status})"


class Upload(models.Model):
    """One multipart upload of a submission's archive or sample, straight to storage.

    The object lands under a generated key in the quarantine prefix; the client's filename is
    kept as data only. ``id`` is the contract's ``fileUploadId``, ``s3_upload_id`` its ``uploadId``.
    """

    class Kind(models.TextChoices):
        ARCHIVE = "archive", _("Archive")
        SAMPLE = "sample", _("Sample")

    class Status(models.TextChoices):
        UPLOADING = "uploading", _("Uploading")
        COMPLETING = "completing", _("Completing")
        COMPLETED = "completed", _("Completed")
        FAILED = "failed", _("Failed verification")
        ABORTED = "aborted", _("Aborted")

    id = models.CharField(primary_key=True, max_length=32, default=new_id, editable=False)
    submission = models.ForeignKey("Submission", on_delete=models.CASCADE, related_name="uploads")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    filename = models.CharField(max_length=255, help_text="As the client named it; never used as a key.")
    size_bytes = models.BigIntegerField()
    mime_type = models.CharField(max_length=100)
    object_key = models.CharField(max_length=500, unique=True)
    s3_upload_id = models.CharField(max_length=1024)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.UPLOADING)
    sha256 = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True)  # in English, as the API answers it
    # ``error`` untranslated (a gettext_noop template) and its params, for pages to show in the
    # reader's language (``marketplace.inspection.texts``); empty on rows older than them.
    error_template = models.TextField(blank=True)
    error_params = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(size_bytes__gt=0), name="upload_size_positive"),
            models.CheckConstraint(
                condition=~Q(status="completed") | Q(sha256__regex=SHA256_HEX, completed_at__isnull=False),
                name="upload_completed_has_hash",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.filename} ({self.status})"


class RevenueShare(models.Model):
    """A contributor's share of a submission's revenue, in basis points. A submission's shares sum
    to exactly 10,000: the service checks it, and a deferred database trigger refuses any
    transaction that would leave another sum."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="revenue_shares")
    user = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    payee_name = models.CharField(max_length=200, blank=True)
    payee_email = models.EmailField(blank=True)
    basis_points = models.PositiveIntegerField()

    class Meta:
        ordering = ["-basis_points", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(basis_points__gte=1, basis_points__lte=10_000), name="share_basis_points_range"
            ),
            models.CheckConstraint(
                condition=Q(user__isnull=False) | (~Q(payee_name="") & ~Q(payee_email="")),
                name="share_names_its_payee",
            ),
            models.UniqueConstraint(fields=["submission", "user"], name="share_once_per_user"),
            models.UniqueConstraint(
                Lower("payee_email"), "submission", condition=~Q(payee_email=""), name="share_once_per_email"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.basis_points} bp to {self.user or self.payee_name}"


class Validation(models.Model):
    """The check of one completed upload by a worker that read every byte of it: the archive's
    SHA-256, every member's path, size, SHA-256 and type (kept for the provenance manifest),
    and the errors and warnings the contributor sees. One per upload; runs again after a crash
    land on the same row."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for a worker")
        RUNNING = "running", _("Being validated")
        PASSED = "passed", _("Passed")
        FAILED = "failed", _("Failed")

    upload = models.OneToOneField(Upload, on_delete=models.CASCADE, related_name="validation")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    archive_format = models.CharField(max_length=8, blank=True, help_text="tar, tar.gz or zip, from the bytes.")
    archive_sha256 = models.CharField(max_length=64, blank=True)
    archive_size = models.BigIntegerField(null=True, blank=True)
    files = models.JSONField(default=list, blank=True, help_text="[{path, size, sha256, type}], in archive order.")
    errors = models.JSONField(default=list, blank=True)
    warnings = models.JSONField(default=list, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, help_text="Why the last attempt stopped early (storage, database).")
    quarantine_key = models.CharField(
        max_length=500, blank=True, help_text="Set while a passed archive's quarantine copy awaits deletion."
    )
    progress_bytes = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "updated_at"], name="validation_status_updated")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="passed") | Q(archive_sha256__regex=SHA256_HEX, finished_at__isnull=False),
                name="validation_passed_has_hash",
            ),
        ]

    def __str__(self) -> str:
        return f"validation of {self.upload_id} ({self.status})"


class ParquetExport(models.Model):
    """The tables of one validated upload (archive or sample) converted to Parquet, for the dataset
    viewer and for clients that read Parquet (pandas, Hugging Face ``datasets``, DuckDB).

    ``tables`` lists one entry per tabular member: ``{"path", "split", "key", "sha256", "size",
    "rows", "columns": [{"name", "type", "statistics"}], "index": {"key", "sha256", "size"},
    "database": {"key", "sha256", "size"}}`` (``index``, the search index, and ``database``, the
    table as a DuckDB database for filters, written by the index job: absent until it runs, None
    when there is none), in archive order; ``problems`` the
    members that could not be converted, each with a sentence saying why. One per upload; a rerun
    lands on the same row."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for a worker")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    upload = models.OneToOneField(Upload, on_delete=models.CASCADE, related_name="parquet_export")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    tables = models.JSONField(default=list, blank=True)
    problems = models.JSONField(default=list, blank=True, help_text="[{path, message}]: members left out.")
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True, help_text="Why the export failed, or why the last attempt stopped.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "updated_at"], name="parquet_export_status_updated")]

    def __str__(self) -> str:
        return f"parquet export of {self.upload_id} ({self.status})"


class Notification(models.Model):
    """Something that happened to a person's requests, invoices, submissions or licensed datasets.
    Stored as a kind and its parameters, never as sentences: the page renders it in the reader's
    language, the email in the recipient's (marketplace/notifications/messages.py)."""

    class Kind(models.TextChoices):
        ACCESS_APPROVED = "access_approved", _("Access approved")
        ACCESS_REJECTED = "access_rejected", _("Access rejected")
        INVOICE_PAID = "invoice_paid", _("Invoice paid")
        REVIEW_APPROVED = "review_approved", _("Submission approved")
        REVIEW_REJECTED = "review_rejected", _("Submission sent back")
        CONSENT_WITHDRAWN = "consent_withdrawn", _("Consent withdrawn from a licensed dataset")
        TAKEN_DOWN = "taken_down", _("A licensed dataset was taken down")
        RERELEASED = "rereleased", _("A licensed dataset was re-released")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    params = models.JSONField(default=dict, blank=True, help_text="The values its sentence names.")
    link = models.CharField(max_length=500, blank=True, help_text="The page it is about (a path).")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at", "-created_at"], name="notification_user_unread")]

    def __str__(self) -> str:
        return f"{self.kind} for {self.user_id}"
