"""The staff admin, branded with the site's name. Staff look here; they act through the pages
and services (approve, mark paid, refund, take down), which write the evidence rows. So every
evidence or state-machine model is shown read-only (``ReadOnlyAdmin``): the admin cannot edit or
delete a grant, a ledger entry, a log entry, a download record or a consent record."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import HttpRequest
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from marketplace.models import (
    Dataset,
    DatasetVersion,
    Invitation,
    Membership,
    Notification,
    Organization,
    ParquetExport,
    RevenueShare,
    Submission,
    Upload,
    User,
    Validation,
)

admin.site.site_header = format_lazy(_("{site} administration"), site=settings.SITE_NAME)
admin.site.site_title = settings.SITE_NAME
admin.site.index_title = _("What staff can look up")


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shown, never written: rows made by the services, as evidence or as a state they move."""

    list_per_page = 50
    show_full_result_count = False  # a COUNT(*) over millions of download records per page view

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "email", "is_staff", "is_active", "language", "date_joined", "last_login"]
    list_filter = ["is_staff", "is_superuser", "is_active", "language"]
    search_fields = ["username", "email", "first_name", "last_name", "public_id"]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "approved_to_upload", "approved_at", "withdrawal_releases", "created_at"]
    list_filter = ["approved_to_upload", "withdrawal_releases"]
    search_fields = ["name", "slug"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organization", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__username", "user__email", "organization__name", "organization__slug"]
    list_select_related = ["user", "organization"]
    autocomplete_fields = ["user", "organization"]


class DatasetVersionInline(admin.TabularInline):
    model = DatasetVersion
    extra = 0
    can_delete = False
    fields = ["number", "filename", "size_bytes", "sha256", "license", "published_at"]
    readonly_fields = ["number", "filename", "size_bytes", "sha256", "license", "published_at"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # versions are published by the publishing service only


@admin.register(Dataset)
class DatasetAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "organization", "status", "visibility", "is_paid", "published_at"]
    list_filter = ["status", "visibility", "is_paid", "task"]
    search_fields = ["name", "slug", "id"]
    list_select_related = ["organization"]
    readonly_fields = ["id", "created_at", "search_vector", "current_version", "status", "removed_at", "removal_reason"]
    inlines = [DatasetVersionInline]


@admin.register(DatasetVersion)
class DatasetVersionAdmin(ReadOnlyAdmin):
    list_display = ["dataset", "number", "filename", "size_bytes", "license", "published_at"]
    search_fields = ["dataset__name", "dataset__slug", "sha256", "filename"]
    list_select_related = ["dataset", "license"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "organization", "role", "created_at", "expires_at", "accepted_at", "revoked_at"]
    search_fields = ["email", "organization__name"]
    list_select_related = ["organization"]
    exclude = ["token_hash"]
    readonly_fields = ["created_at", "accepted_at", "accepted_by", "invited_by"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # invitations are sent from the organization's members page, which emails the link


@admin.register(Submission)
class SubmissionAdmin(ReadOnlyAdmin):
    list_display = ["name", "organization", "created_by", "status", "submitted_at", "reviewed_by", "reviewed_at"]
    list_filter = ["status", "visibility", "is_paid"]
    search_fields = ["name", "id", "organization__name", "created_by__username"]
    list_select_related = ["organization", "created_by", "reviewed_by"]
    date_hierarchy = "created_at"


@admin.register(Upload)
class UploadAdmin(ReadOnlyAdmin):
    list_display = ["id", "submission", "kind", "filename", "size_bytes", "status", "created_at", "completed_at"]
    list_filter = ["status", "kind"]
    search_fields = ["id", "filename", "sha256", "submission__name"]
    list_select_related = ["submission"]


@admin.register(Validation)
class ValidationAdmin(ReadOnlyAdmin):
    list_display = ["upload", "status", "attempts", "archive_size", "started_at", "finished_at"]
    list_filter = ["status"]
    search_fields = ["upload__id", "archive_sha256"]


@admin.register(ParquetExport)
class ParquetExportAdmin(ReadOnlyAdmin):
    list_display = ["upload", "status", "attempts", "created_at", "finished_at"]
    list_filter = ["status"]
    search_fields = ["upload__id"]


@admin.register(RevenueShare)
class RevenueShareAdmin(ReadOnlyAdmin):
    list_display = ["submission", "user", "payee_name", "payee_email", "basis_points"]
    search_fields = ["submission__name", "user__username", "payee_email", "payee_name"]
    list_select_related = ["submission", "user"]


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["user", "kind", "created_at", "read_at", "emailed_at"]
    list_filter = ["kind"]
    search_fields = ["user__username", "user__email"]
    list_select_related = ["user"]
    date_hierarchy = "created_at"
