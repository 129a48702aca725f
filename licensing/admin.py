from django.contrib import admin

from licensing.keys.limits import describe
from licensing.licenses import sha256_text
from licensing.models import ApiKey, License


@admin.register(License)
class LicenseAdmin(admin.ModelAdmin):
    list_display = ["__str__", "name", "commercial_use", "ai_training", "share_alike", "text_sha256"]
    search_fields = ["spdx_id", "name"]

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        # Terms are evidence: a change is a new license, never an edit.
        return [f.name for f in License._meta.fields] if obj else ["text_sha256"]

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        if not change:
            obj.text_sha256 = sha256_text(obj.text)
        super().save_model(request, obj, form, change)


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
    readonly_fields = ["prefix", "key_hash", "created_at", "last_used_at", "limit", "organization", "reaches"]
    exclude = ["datasets"]

    @admin.display(description="Reaches")
    def reaches(self, obj: ApiKey) -> str:
        return describe(obj)

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False  # keys are created by their owner, who alone sees the raw key
