"""Licensing in the staff admin: licenses (new terms are added here), API keys (revoked on the
owner's page; shown here), and every evidence and money row read-only (marketplace.admin.ReadOnlyAdmin)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from licensing.keys.limits import describe
from licensing.licenses import sha256_text
from licensing.models import (
    AccessRequest,
    ApiKey,
    ConsentRecord,
    ConsentTerms,
    ConsentWithdrawal,
    ContributorClaim,
    DownloadRecord,
    Invoice,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    License,
    LicenseGrant,
    Payment,
    PayoutBatch,
    PayoutDetails,
    Refund,
    RemovalNotice,
    RemovalStatement,
    Rerelease,
)
from marketplace.admin import ReadOnlyAdmin


@admin.register(License)
class LicenseAdmin(admin.ModelAdmin):
    list_display = ["__str__", "name", "commercial_use", "ai_training", "share_alike", "text_sha256"]
    list_filter = ["commercial_use", "ai_training", "share_alike"]
    search_fields = ["spdx_id", "name"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # Terms are evidence: a change is a new license, never an edit.
        return [f.name for f in License._meta.fields] if obj else ["text_sha256"]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if not change:
            obj.text_sha256 = sha256_text(obj.text)
        super().save_model(request, obj, form, change)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = [
        "name", "user", "prefix", "scopes", "reaches", "created_at", "expires_at", "revoked_at", "last_used_at",
    ]  # fmt: skip
    list_filter = ["limit"]
    list_select_related = ["user", "organization"]
    search_fields = ["name", "prefix", "user__username"]
    # What a key reaches is its owner's choice, checked against what they may reach when the key
    # is made (licensing.keys.services): staff see it and may revoke the key, not widen it.
    readonly_fields = ["prefix", "created_at", "last_used_at", "limit", "organization", "reaches"]
    exclude = ["datasets", "key_hash"]

    @admin.display(description="Reaches")
    def reaches(self, obj: ApiKey) -> str:
        return describe(obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # keys are created by their owner, who alone sees the raw key


@admin.register(ConsentTerms)
class ConsentTermsAdmin(ReadOnlyAdmin):
    list_display = ["submission", "ai_training", "commercial_use", "research_only", "created_by", "created_at"]
    list_filter = ["ai_training", "commercial_use", "research_only"]
    search_fields = ["submission__name", "consent_text_sha256"]
    list_select_related = ["submission", "created_by"]


@admin.register(ConsentRecord)
class ConsentRecordAdmin(ReadOnlyAdmin):
    list_display = ["contributor_id", "terms", "scope", "given_at", "created_at"]
    search_fields = ["contributor_id", "terms_sha256"]


@admin.register(ConsentWithdrawal)
class ConsentWithdrawalAdmin(ReadOnlyAdmin):
    list_display = ["dataset", "version", "contributor_id", "on_behalf", "recorded_by", "created_at"]
    list_filter = ["on_behalf"]
    search_fields = ["dataset__name", "dataset__slug", "contributor_id"]
    list_select_related = ["dataset", "version", "recorded_by"]


@admin.register(RemovalStatement)
class RemovalStatementAdmin(ReadOnlyAdmin):
    list_display = ["withdrawal", "statement_sha256", "log_index", "created_at"]
    search_fields = ["statement_sha256"]


@admin.register(RemovalNotice)
class RemovalNoticeAdmin(ReadOnlyAdmin):
    list_display = ["withdrawal", "user", "version", "notified_at", "acknowledged_at"]
    search_fields = ["user__username", "user__email"]
    list_select_related = ["user", "version"]


@admin.register(Rerelease)
class RereleaseAdmin(ReadOnlyAdmin):
    list_display = ["dataset", "status", "source_version", "version", "created_at", "finished_at"]
    list_filter = ["status"]
    search_fields = ["dataset__name", "dataset__slug"]
    list_select_related = ["dataset", "source_version", "version"]


@admin.register(LicenseGrant)
class LicenseGrantAdmin(ReadOnlyAdmin):
    list_display = ["id", "user", "dataset", "version", "license", "source", "created_at"]
    list_filter = ["source"]
    search_fields = ["user__username", "user__email", "dataset__name", "dataset__slug", "terms_sha256"]
    list_select_related = ["user", "dataset", "version", "license"]
    date_hierarchy = "created_at"


@admin.register(AccessRequest)
class AccessRequestAdmin(ReadOnlyAdmin):
    list_display = ["dataset", "user", "full_name", "status", "auto_approved", "decided_by", "created_at"]
    list_filter = ["status", "auto_approved"]
    search_fields = ["dataset__name", "user__username", "user__email", "full_name", "organization_name"]
    list_select_related = ["dataset", "user", "decided_by"]


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    list_display = ["id", "dataset", "user", "amount", "status", "created_at", "paid_at", "expires_at"]
    list_filter = ["status", "currency", "provider"]
    search_fields = ["id", "dataset__name", "user__username", "user__email"]
    list_select_related = ["dataset", "user"]
    date_hierarchy = "created_at"

    @admin.display(description="amount", ordering="amount_cents")
    def amount(self, invoice: Invoice) -> str:
        return f"{invoice.amount_cents / 100:,.2f} {invoice.currency.upper()}"


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ["invoice", "amount_cents", "currency", "provider", "reference", "recorded_by", "created_at"]
    list_filter = ["provider", "currency"]
    search_fields = ["invoice__id", "reference"]
    list_select_related = ["invoice", "recorded_by"]


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = ["payment", "amount_cents", "currency", "refunded_by", "created_at"]
    search_fields = ["payment__invoice__id", "reason"]
    list_select_related = ["payment", "refunded_by"]


@admin.register(DownloadRecord)
class DownloadRecordAdmin(ReadOnlyAdmin):
    list_display = ["public_id", "user", "dataset", "version", "kind", "basis", "created_at"]
    list_filter = ["kind", "basis"]
    search_fields = ["public_id", "user__username", "dataset__slug"]
    list_select_related = ["user", "dataset", "version"]
    exclude = ["token"]
    date_hierarchy = "created_at"


@admin.register(ContributorClaim)
class ContributorClaimAdmin(ReadOnlyAdmin):
    list_display = ["organization", "contributor_id", "payee_email", "created_at", "claimed_by", "claimed_at"]
    search_fields = ["contributor_id", "payee_email", "organization__name"]
    list_select_related = ["organization", "claimed_by"]
    exclude = ["token_hash"]


@admin.register(PayoutDetails)
class PayoutDetailsAdmin(ReadOnlyAdmin):
    list_display = ["user", "method", "account_holder", "updated_at"]
    list_filter = ["method"]
    search_fields = ["user__username", "account_holder"]
    list_select_related = ["user"]


@admin.register(LedgerAccount)
class LedgerAccountAdmin(ReadOnlyAdmin):
    list_display = ["code", "kind", "name", "user", "organization", "created_at"]
    list_filter = ["kind"]
    search_fields = ["code", "name", "payee_email"]
    list_select_related = ["user", "organization"]


@admin.register(PayoutBatch)
class PayoutBatchAdmin(ReadOnlyAdmin):
    list_display = ["id", "currency", "status", "created_by", "created_at", "paid_at", "cancelled_at"]
    list_filter = ["status", "currency"]
    list_select_related = ["created_by"]


@admin.register(LedgerTransaction)
class LedgerTransactionAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "currency", "memo", "dataset", "created_at"]
    list_filter = ["kind", "currency"]
    search_fields = ["idempotency_key", "memo"]
    list_select_related = ["dataset"]
    date_hierarchy = "created_at"


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ["id", "transaction", "account", "amount"]
    search_fields = ["account__code", "transaction__idempotency_key"]
    list_select_related = ["transaction", "account"]
