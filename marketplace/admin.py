from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from marketplace.models import Dataset, DatasetVersion, Invitation, Membership, Organization, User

admin.site.register(User, UserAdmin)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "approved_to_upload", "approved_at", "created_at"]
    list_filter = ["approved_to_upload"]
    search_fields = ["name", "slug"]
    inlines = [MembershipInline]


class DatasetVersionInline(admin.TabularInline):
    model = DatasetVersion
    extra = 0
    can_delete = False
    readonly_fields = [f.name for f in DatasetVersion._meta.fields]

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False  # versions are published by the publishing service only


@admin.register(Dataset)
class DatasetAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "organization", "status", "visibility", "is_paid", "published_at"]
    list_filter = ["status", "visibility", "is_paid", "task"]
    search_fields = ["name", "slug", "id"]
    readonly_fields = ["id", "created_at"]
    inlines = [DatasetVersionInline]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "organization", "role", "created_at", "expires_at", "accepted_at", "revoked_at"]
    search_fields = ["email", "organization__name"]
    readonly_fields = ["token_hash", "created_at", "accepted_at", "accepted_by", "invited_by"]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False  # invitations are sent from the organization's members page, which emails the link
