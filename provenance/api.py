"""Provenance API under /api/v1/: public keys, manifests, the transparency log and its proofs.

Everything here is public evidence (private datasets excepted: their manifests follow the
dataset's visibility). Before serving, the server re-checks what it serves against its own
signatures and hashes, so that rows altered behind the database's triggers are reported
(500, ``log_inconsistent`` / ``manifest_invalid``) rather than served as proof.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api_errors import error_body
from licensing.keys.authentication import HasScope
from marketplace.catalog.visibility import visible_datasets
from marketplace.models import Dataset, DatasetVersion, Organization
from marketplace.permissions import MANAGER_ROLES, role_in
from provenance import api_schemas as shapes
from provenance import bundles, croissant, diffs, dsse, log, manifests, signing
from provenance.federation import witnessing
from provenance.models import LogEntry, Manifest, SigningKey

MAX_ENTRIES = 1000


def _error(status: int, code: str, message: str) -> Response:
    body = error_body(message)
    body["error"] = code
    return Response(body, status=status)


def _int_param(request: Request, name: str, default: int | None) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit():
        raise ValueError(f"{name} must be a whole number, not {raw!r}")
    return int(raw)


def _dataset(request: Request, dataset_id: str) -> Dataset:
    return get_object_or_404(visible_datasets(user=getattr(request, "user", None)), id=dataset_id)


def _version(request: Request, dataset_id: str, number: int) -> DatasetVersion:
    return get_object_or_404(
        DatasetVersion.objects.select_related("dataset__organization", "license"),
        dataset=_dataset(request, dataset_id),
        number=number,
        published_at__isnull=False,
    )


class PublicKeysApi(APIView):
    """Every public key this instance signed with (PEM), newest first: old ones stay after a
    rotation so that old signatures still verify."""

    permission_classes = [AllowAny]

    @extend_schema(responses=shapes.PublicKeysShape)
    def get(self, request: Request) -> Response:
        current = signing.current_key().key_id
        keys = [
            {"keyId": row.key_id, "algorithm": "ed25519", "publicKeyPem": row.public_pem,
             "createdAt": row.created_at.isoformat(), "current": row.key_id == current}
            for row in SigningKey.objects.order_by("-created_at")
        ]  # fmt: skip
        return Response({"keys": keys})


class PublicKeyPemApi(APIView):
    """One public key as a PEM file, for ``provenance.verify --public-key``."""

    permission_classes = [AllowAny]

    @extend_schema(responses={(200, "application/x-pem-file"): str})
    def get(self, request: Request, key_id: str) -> HttpResponse:
        row = get_object_or_404(SigningKey, key_id=key_id)
        response = HttpResponse(row.public_pem, content_type="application/x-pem-file")
        response["Content-Disposition"] = f'attachment; filename="datacollective-{key_id[:16]}.pub.pem"'
        return response


class ManifestApi(APIView):
    """The DSSE envelope of a version's signed in-toto statement."""

    permission_classes = [AllowAny]

    @extend_schema(responses={200: shapes.EnvelopeShape, **shapes.INCONSISTENT})
    def get(self, request: Request, id: str, number: int) -> Response:
        version = _version(request, id, number)
        manifest = Manifest.objects.filter(version=version).first()
        if manifest is None:
            return _error(404, "not_found", _("Version %(number)s has no manifest.") % {"number": number})
        try:
            manifests.verified_statement(manifest)
        except dsse.EnvelopeError as exc:
            return _error(
                500,
                "manifest_invalid",
                _("The stored manifest of version %(number)s fails its check: %(exc)s.")
                % {"number": number, "exc": exc},
            )
        response = Response(manifest.envelope)
        response["Content-Disposition"] = f'attachment; filename="{version.filename}.manifest.json"'
        return response


class VersionInclusionProofApi(APIView):
    """The inclusion proof of a version's publish entry in the latest signed tree head."""

    permission_classes = [AllowAny]

    @extend_schema(responses={200: shapes.InclusionProofShape, **shapes.INCONSISTENT})
    def get(self, request: Request, id: str, number: int) -> Response:
        version = _version(request, id, number)
        subject = log.manifest_subject(version.dataset_id, number)
        entry = LogEntry.objects.filter(kind=LogEntry.Kind.PUBLISH, subject=subject).order_by("index").first()
        if entry is None:
            return _error(
                404, "not_found", _("Version %(number)s has no entry in the transparency log.") % {"number": number}
            )
        return _inclusion(entry.index, None, filename=f"{version.filename}.inclusion-proof.json")


def _inclusion(index: int, size: int | None, *, filename: str = "") -> Response:
    try:
        tree = log.load_tree(size)
    except log.LogInconsistent as exc:
        return _error(500, "log_inconsistent", _("The transparency log fails its own check: %(exc)s.") % {"exc": exc})
    if index >= tree.size:
        return _error(
            404,
            "not_found",
            _("The log of %(size)s entries has no entry %(index)s.") % {"size": tree.size, "index": index},
        )
    head = log.signed_tree_head(tree)
    response = Response(log.inclusion(index=index, tree=tree, head=head))
    if filename:
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class LogEntriesApi(APIView):
    """Entries in index order: ``start`` (default 0) and ``limit`` (at most 1000)."""

    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[
            shapes.whole_number("start", "The first index (default 0)."),
            shapes.whole_number("limit", f"At most {MAX_ENTRIES} (default 100)."),
        ],
        responses={200: shapes.LogEntriesShape, **shapes.errors(400)},
    )
    def get(self, request: Request) -> Response:
        try:
            start = _int_param(request, "start", 0) or 0
            limit = min(_int_param(request, "limit", 100) or 100, MAX_ENTRIES)
        except ValueError as exc:
            return _error(400, "bad_request", f"{exc}.")
        entries = LogEntry.objects.filter(index__gte=start).order_by("index")[:limit]
        items = [log.entry_json(entry) for entry in entries]
        return Response({"entries": items, "next": start + len(items) if len(items) == limit else None})


class InclusionProofApi(APIView):
    """The audit path of entry ``index`` in the tree of ``treeSize`` entries (default: all)."""

    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[shapes.whole_number("treeSize", "The size of the tree to prove against (default: all).")],
        responses={200: shapes.InclusionProofShape, **shapes.errors(400), **shapes.INCONSISTENT},
    )
    def get(self, request: Request, index: int) -> Response:
        try:
            size = _int_param(request, "treeSize", None)
        except ValueError as exc:
            return _error(400, "bad_request", f"{exc}.")
        if size is not None and index >= size:
            return _error(
                400,
                "bad_request",
                _("Entry %(index)s is not in a tree of %(size)s entries.") % {"index": index, "size": size},
            )
        if size is not None and size > LogEntry.objects.count():
            return _error(400, "bad_request", _("The log has fewer than %(size)s entries.") % {"size": size})
        return _inclusion(index, size)


class ConsistencyProofApi(APIView):
    """Proof that the tree of ``first`` entries is a prefix of the tree of ``second`` (default: all)."""

    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[
            OpenApiParameter("first", int, required=True, description="The size of the older tree."),
            shapes.whole_number("second", "The size of the newer tree (default: all)."),
        ],
        responses={200: shapes.ConsistencyProofShape, **shapes.errors(400), **shapes.INCONSISTENT},
    )
    def get(self, request: Request) -> Response:
        try:
            first = _int_param(request, "first", None)
            second = _int_param(request, "second", None)
        except ValueError as exc:
            return _error(400, "bad_request", f"{exc}.")
        if first is None:
            return _error(400, "bad_request", _("Give first, the size of the older tree."))
        try:
            tree = log.load_tree()
        except log.LogInconsistent as exc:
            return _error(
                500, "log_inconsistent", _("The transparency log fails its own check: %(exc)s.") % {"exc": exc}
            )
        second = tree.size if second is None else second
        if not 0 <= first <= second <= tree.size:
            return _error(
                400, "bad_request", _("Need 0 <= first <= second <= %(size)s (the log's size).") % {"size": tree.size}
            )
        hashes = tree.leaf_hashes[:second]
        head = log.signed_tree_head(log.Tree(second, hashes)) if second == tree.size else None
        body: dict[str, Any] = {
            "first": first,
            "second": second,
            "firstRootHash": log.merkle.root_from_leaf_hashes(hashes[:first]).hex(),
            "secondRootHash": log.merkle.root_from_leaf_hashes(hashes).hex(),
            "proof": [node.hex() for node in log.merkle.consistency_proof(first, hashes)],
            "treeHead": head.envelope if head else None,
        }
        return Response(body)


class TreeHeadApi(APIView):
    """The latest signed tree head (signed now if the log grew since the last one)."""

    permission_classes = [AllowAny]

    @extend_schema(responses={200: shapes.TreeHeadShape, **shapes.INCONSISTENT})
    def get(self, request: Request) -> Response:
        try:
            head = log.signed_tree_head()
        except log.LogInconsistent as exc:
            return _error(
                500, "log_inconsistent", _("The transparency log fails its own check: %(exc)s.") % {"exc": exc}
            )
        return Response({"treeSize": head.tree_size, "rootHash": head.root_hash, "keyId": head.signing_key_id,
                         "envelope": head.envelope,
                         # What our witnesses cosigned of this head, as each published it (pulled).
                         "cosignatures": witnessing.collected_for(head)})  # fmt: skip


class CroissantApi(APIView):
    """The version's Croissant 1.1 JSON-LD (``provenance.croissant``): the same visibility as its
    manifest, so a private dataset of another organization is 404."""

    permission_classes = [AllowAny]

    @extend_schema(responses={(200, "application/ld+json"): dict})
    def get(self, request: Request, id: str, number: int) -> Response:
        try:
            version = _version(request, id, number)
        except Http404:
            return _error(
                404,
                "not_found",
                _("No published version %(number)s of a dataset '%(id)s' that you may see.")
                % {"number": number, "id": id},
            )
        base_url = request.build_absolute_uri("/").rstrip("/")
        download_url = request.build_absolute_uri(
            reverse("api-version-file-download", args=[version.dataset_id, number, "archive"])
        )
        document = croissant.build(
            version, base_url=base_url, download_url=download_url,
            parquet_url=lambda index: request.build_absolute_uri(
                reverse("api-viewer-parquet-file", args=[version.dataset_id, number, index])
            ),
        )  # fmt: skip
        return Response(document, content_type="application/ld+json")


class VersionDiffApi(APIView):
    """What changed from version ``number`` to version ``to`` (either order): the files added,
    removed and changed, each side's size, SHA-256 and (for tables) row count, from the two
    versions' signed manifests (``provenance.diffs``). The same visibility as the manifests: a
    private dataset of another organization is 404."""

    permission_classes = [AllowAny]

    @extend_schema(responses={200: shapes.VersionDiffShape, **shapes.errors(400, 404), **shapes.INCONSISTENT})
    def get(self, request: Request, id: str, number: int, to: int) -> Response:
        try:
            dataset = _dataset(request, id)
        except Http404:
            return _error(404, "not_found", _("No dataset '%(id)s' that you may see.") % {"id": id})
        found = {
            version.number: version
            for version in DatasetVersion.objects.filter(
                dataset=dataset, number__in=(number, to), published_at__isnull=False
            )
        }
        for wanted in (number, to):
            if wanted not in found:
                return _error(
                    404,
                    "not_found",
                    _("%(dataset)s has no published version %(wanted)s.") % {"dataset": dataset.name, "wanted": wanted},
                )
        try:
            result = diffs.diff(found[number], found[to])
        except diffs.ManifestInvalid as exc:
            return _error(500, "manifest_invalid", str(exc))
        return Response(diff_json(result))


def diff_json(result: diffs.VersionDiff) -> dict[str, Any]:
    """The API's camelCase form of a ``VersionDiff``."""

    def side(version: diffs.Side) -> dict[str, Any]:
        return {"version": version.number, "archiveSha256": version.archive_sha256,
                "manifestSha256": version.manifest_sha256, "files": version.files}  # fmt: skip

    def state(file: diffs.FileState | None) -> dict[str, Any] | None:
        return None if file is None else {"size": file.size, "sha256": file.sha256, "rows": file.rows}

    def changes(items: list[diffs.FileChange]) -> list[dict[str, Any]]:
        return [{"path": item.path, "old": state(item.old), "new": state(item.new)} for item in items]

    return {
        "datasetId": result.dataset_id,
        "old": side(result.old),
        "new": side(result.new),
        "added": changes(result.added),
        "removed": changes(result.removed),
        "changed": changes(result.changed),
        "unchanged": result.unchanged,
    }


class OrganizationExportApi(APIView):
    """``GET /api/v1/organizations/{slug}/export``: the organization's signed bundle
    (``provenance.bundles``), streamed as it is written. ``archives=include`` (the default) puts
    every version's archive and sample in it; ``archives=reference`` names them by SHA-256 and the
    dataset page they come from. For the organization's owners and admins."""

    permission_classes = [IsAuthenticated, HasScope]
    required_scope = "read"

    @extend_schema(
        parameters=[OpenApiParameter("archives", str, enum=["include", "reference"], required=False)],
        responses={(200, "application/gzip"): OpenApiTypes.BINARY, **shapes.errors(400, 403, 404)},
    )
    def get(self, request: Request, slug: str) -> HttpResponseBase:
        organization = Organization.objects.filter(slug=slug).first()
        if organization is None:
            return _error(404, "not_found", _("No organization '%(slug)s'.") % {"slug": slug})
        if role_in(request.user, organization) not in MANAGER_ROLES:
            return _error(
                403,
                "forbidden",
                _("Only owners and admins of %(organization)s export it.") % {"organization": organization.name},
            )
        choice = request.query_params.get("archives", "include")
        if choice not in ("include", "reference"):
            return _error(400, "bad_request", _("archives is include (the bytes in the bundle) or reference (not)."))
        origin = request.build_absolute_uri("/").rstrip("/")
        response = StreamingHttpResponse(
            bundles.export_organization(organization, include_archives=choice == "include", origin=origin),
            content_type="application/gzip",
        )
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        response["Content-Disposition"] = f'attachment; filename="{organization.slug}-bundle-{stamp}.tar.gz"'
        return response
