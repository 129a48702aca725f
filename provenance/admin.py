"""Provenance in the staff admin: the transparency log, manifests, keys, moves and federation,
all read-only (they are evidence, or states the services move)."""

from __future__ import annotations

from django.contrib import admin

from marketplace.admin import ReadOnlyAdmin
from provenance.models import (
    CollectedCosignature,
    Cosignature,
    ImportedGrant,
    ImportedVersion,
    LogEntry,
    Manifest,
    OrganizationImport,
    OriginKey,
    Peer,
    PeerTreeHead,
    RemoteDataset,
    SignedTreeHead,
    SigningKey,
    SplitViewAlarm,
    VersionMembers,
)


@admin.register(LogEntry)
class LogEntryAdmin(ReadOnlyAdmin):
    list_display = ["index", "kind", "subject", "created_at"]
    list_filter = ["kind"]
    search_fields = ["subject"]


@admin.register(SignedTreeHead)
class SignedTreeHeadAdmin(ReadOnlyAdmin):
    list_display = ["tree_size", "root_hash", "signing_key", "created_at"]


@admin.register(SigningKey)
class SigningKeyAdmin(ReadOnlyAdmin):
    list_display = ["key_id", "created_at"]


@admin.register(Manifest)
class ManifestAdmin(ReadOnlyAdmin):
    list_display = ["version", "statement_sha256", "signing_key", "created_at"]
    search_fields = ["statement_sha256", "version__dataset__slug"]
    list_select_related = ["version__dataset", "signing_key"]


@admin.register(VersionMembers)
class VersionMembersAdmin(ReadOnlyAdmin):
    list_display = ["version", "status", "attempts", "updated_at", "ready_at"]
    list_filter = ["status"]
    list_select_related = ["version__dataset"]


@admin.register(OriginKey)
class OriginKeyAdmin(ReadOnlyAdmin):
    list_display = ["origin", "key_id", "confirmed", "created_at"]
    list_filter = ["confirmed"]
    search_fields = ["origin", "key_id"]


@admin.register(OrganizationImport)
class OrganizationImportAdmin(ReadOnlyAdmin):
    list_display = ["id", "origin", "organization", "status", "created_at", "finished_at"]
    list_filter = ["status"]
    search_fields = ["origin", "requested_slug", "bundle_sha256"]
    list_select_related = ["organization"]


@admin.register(ImportedVersion)
class ImportedVersionAdmin(ReadOnlyAdmin):
    list_display = ["version", "origin", "origin_dataset_id", "origin_number", "created_at"]
    search_fields = ["origin", "origin_dataset_id"]
    list_select_related = ["version__dataset"]


@admin.register(ImportedGrant)
class ImportedGrantAdmin(ReadOnlyAdmin):
    list_display = ["id", "dataset", "origin_licensee", "source", "accepted_at", "attached_to", "attached_at"]
    search_fields = ["origin_licensee", "dataset__slug"]
    list_select_related = ["dataset", "attached_to"]


@admin.register(Peer)
class PeerAdmin(ReadOnlyAdmin):
    list_display = ["name", "url", "following", "witnessing", "collecting", "synced_at", "sync_error"]
    list_filter = ["following", "witnessing", "collecting"]
    search_fields = ["name", "url"]


@admin.register(RemoteDataset)
class RemoteDatasetAdmin(ReadOnlyAdmin):
    list_display = ["name", "peer", "publisher", "version", "verified", "gone", "checked_at"]
    list_filter = ["verified", "gone"]
    search_fields = ["name", "origin_id", "publisher"]
    list_select_related = ["peer"]


@admin.register(PeerTreeHead)
class PeerTreeHeadAdmin(ReadOnlyAdmin):
    list_display = ["peer", "tree_size", "root_hash", "seen_at"]
    list_select_related = ["peer"]


@admin.register(SplitViewAlarm)
class SplitViewAlarmAdmin(ReadOnlyAdmin):
    list_display = ["peer", "kind", "role", "created_at"]
    list_filter = ["kind", "role"]
    list_select_related = ["peer"]


@admin.register(Cosignature)
class CosignatureAdmin(ReadOnlyAdmin):
    list_display = ["peer", "origin", "tree_size", "cosigned_at", "created_at"]
    list_select_related = ["peer"]


@admin.register(CollectedCosignature)
class CollectedCosignatureAdmin(ReadOnlyAdmin):
    list_display = ["witness", "tree_size", "root_hash", "created_at"]
    list_select_related = ["witness"]
