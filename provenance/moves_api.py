"""Moving an organization between instances, over the API.

- ``POST /api/v1/organization-imports`` (staff of this instance: an instance decides whom it hosts):
  the body is the bundle another instance exported (``Content-Type: application/gzip``); query
  ``owner`` (a username here, default the caller), ``slug`` (the organization's address here,
  default the origin's where free) and ``trustBundleKeys=true`` (only when the origin is gone).
  Answers 202 with the job; ``GET /api/v1/organization-imports/{id}`` follows it.
- ``GET /api/v1/organization-imports/lookup?origin=...&organization=...`` (public): where an
  organization imported from ``origin`` lives here; the origin asks it before it points there.
- ``POST /api/v1/organizations/{slug}/moved`` ``{"newHome": "https://..."}`` (the organization's
  owners, on the instance it leaves): from then on its old addresses point to the new home.
"""

from __future__ import annotations

import urllib.parse
from typing import IO, Any

from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.parsers import BaseParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api_errors import error_body
from config.api_parsers import StrictJSONParser
from licensing.keys.authentication import HasScope
from marketplace.accounts.second_factor import SecondFactorEnabled
from marketplace.catalog.visibility import visible_datasets
from marketplace.models import Dataset, MembershipRole, Organization, User
from marketplace.organizations import moves
from marketplace.permissions import role_in, signed_in_user
from provenance import api_schemas as shapes
from provenance import grant_transfers, imports
from provenance.models import OrganizationImport


def _error(status: int, code: str, message: str) -> Response:
    body = error_body(message)
    body["error"] = code
    return Response(body, status=status)


class BundleParser(BaseParser):
    """The request body as a stream, read in pieces by the import (never held whole)."""

    media_type = "application/gzip"

    def parse(self, stream: IO[bytes], media_type: str | None = None, parser_context: Any = None) -> Any:
        return stream


class ImportShape(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=OrganizationImport.Status.choices)
    origin = serializers.CharField()
    organization = serializers.DictField(allow_null=True)
    owner = serializers.CharField()
    bundleSha256 = serializers.CharField()  # noqa: N815 (the API's camelCase)
    bundleSize = serializers.IntegerField()  # noqa: N815
    keysConfirmed = serializers.BooleanField()  # noqa: N815
    datasets = serializers.DictField()
    summary = serializers.DictField()
    error = serializers.CharField()
    createdAt = serializers.DateTimeField()  # noqa: N815
    finishedAt = serializers.DateTimeField(allow_null=True)  # noqa: N815
    url = serializers.CharField()


def _job_json(request: Request, job: OrganizationImport) -> dict[str, Any]:
    organization = job.organization
    return {
        "id": job.id, "status": job.status, "origin": job.origin,
        "organization": {"slug": organization.slug, "name": organization.name,
                         "page": request.build_absolute_uri(f"/organizations/{organization.slug}/")}
        if organization else None,
        "owner": job.created_by.username, "bundleSha256": job.bundle_sha256, "bundleSize": job.bundle_size,
        "keysConfirmed": job.keys_confirmed, "datasets": job.mapping.get("datasets", {}), "summary": job.summary,
        "error": job.error, "createdAt": job.created_at.isoformat(),
        "finishedAt": job.finished_at.isoformat() if job.finished_at else None,
        "url": request.build_absolute_uri(reverse("api-organization-import", args=[job.id])),
    }  # fmt: skip


class OrganizationImportsApi(APIView):
    permission_classes = [IsAuthenticated, HasScope, SecondFactorEnabled]
    required_scope = "upload"
    parser_classes = [BundleParser]

    @extend_schema(
        request={"application/gzip": OpenApiTypes.BINARY},
        parameters=[
            OpenApiParameter("owner", str, description="Username here of the organization's owner (default: you)."),
            OpenApiParameter("slug", str, description="The organization's address here (default: the origin's)."),
            OpenApiParameter("trustBundleKeys", bool, description="Only if the origin instance is gone."),
        ],
        responses={202: ImportShape, **shapes.errors(400, 403)},
    )
    def post(self, request: Request) -> Response:
        user = signed_in_user(request)
        if not user.is_staff:
            return _error(
                403, "forbidden", _("Only staff of this instance import an organization: ask them to host it.")
            )
        if (request.content_type or "").split(";")[0].strip() != "application/gzip":
            return _error(
                400, "bad_request", _("Send the bundle's .tar.gz as the body, with Content-Type: application/gzip.")
            )
        owner = user
        if name := request.query_params.get("owner", "").strip():
            found = User.objects.filter(username=name, is_active=True).first()
            if found is None:
                return _error(
                    400,
                    "bad_request",
                    _("There is no account '%(name)s' here to own the organization.") % {"name": name},
                )
            owner = found
        slug = request.query_params.get("slug", "").strip()
        if slug and Organization.objects.filter(slug=slug).exists():
            return _error(
                400, "bad_request", _("The address '%(slug)s' is taken by another organization here.") % {"slug": slug}
            )
        trust = request.query_params.get("trustBundleKeys", "").lower() in {"1", "true", "yes"}
        stream: Any = request.data  # BundleParser hands the body over as a stream
        try:
            job = imports.start(
                bundle=stream,
                user=owner,
                slug=slug,
                trust_bundle_keys=trust,
                requested_by=user,
            )
        except imports.ImportRefused as exc:
            return _error(400, "bad_request", str(exc))
        return Response(_job_json(request, job), status=202)

    @extend_schema(responses={200: ImportShape(many=True), **shapes.errors(403)})
    def get(self, request: Request) -> Response:
        user = signed_in_user(request)
        jobs = OrganizationImport.objects.select_related("organization", "created_by")
        if not user.is_staff:
            jobs = jobs.filter(created_by=user)
        return Response([_job_json(request, job) for job in jobs[:100]])


class OrganizationImportApi(APIView):
    permission_classes = [IsAuthenticated, HasScope]
    required_scope = "read"

    @extend_schema(responses={200: ImportShape, **shapes.errors(404)})
    def get(self, request: Request, id: int) -> Response:
        user = signed_in_user(request)
        job = OrganizationImport.objects.select_related("organization", "created_by").filter(id=id).first()
        if job is None or not (user.is_staff or job.created_by_id == user.id or job.requested_by_id == user.id):
            return _error(404, "not_found", _("No import %(id)s of yours.") % {"id": id})
        return Response(_job_json(request, job))


class ImportLookupApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[
            OpenApiParameter("origin", str, required=True),
            OpenApiParameter("organization", str, required=True),
        ],
        responses={200: OpenApiTypes.OBJECT, **shapes.errors(400, 404)},
    )
    def get(self, request: Request) -> Response:
        origin = request.query_params.get("origin", "")
        organization_id = request.query_params.get("organization", "")
        if not origin or not organization_id:
            return _error(
                400, "bad_request", _("Name the origin instance (origin) and its organization id (organization).")
            )
        netloc = urllib.parse.urlsplit(origin).netloc
        jobs = OrganizationImport.objects.filter(
            status=OrganizationImport.Status.DONE, mapping__organization__originId=organization_id
        ).select_related("organization")
        job = next((j for j in jobs.order_by("-finished_at") if urllib.parse.urlsplit(j.origin).netloc == netloc), None)
        if job is None or job.organization is None:
            return _error(
                404,
                "not_found",
                _("No organization %(organization_id)s of %(origin)s was imported here.")
                % {"organization_id": organization_id, "origin": origin},
            )
        visible = set(
            visible_datasets(user=request.user).filter(organization=job.organization).values_list("id", flat=True)
        )
        datasets = {}
        for origin_id, here in job.mapping.get("datasets", {}).items():
            if here["id"] in visible:
                datasets[origin_id] = {
                    "id": here["id"],
                    "page": request.build_absolute_uri(f"/datasets/{here['slug']}/"),
                    "api": request.build_absolute_uri(f"/api/v1/datasets/{here['id']}"),
                }
        return Response({
            "organization": {"slug": job.organization.slug, "name": job.organization.name,
                             "page": request.build_absolute_uri(f"/organizations/{job.organization.slug}/")},
            "importedAt": job.finished_at.isoformat() if job.finished_at else None,
            "datasets": datasets,
        })  # fmt: skip


class MoveShape(serializers.Serializer):
    newHome = serializers.CharField(help_text="The base URL of the instance that imported it.")  # noqa: N815


class OrganizationMoveApi(APIView):
    permission_classes = [IsAuthenticated, HasScope, SecondFactorEnabled]
    required_scope = "upload"
    parser_classes = [StrictJSONParser]

    @extend_schema(request=MoveShape, responses={200: OpenApiTypes.OBJECT, **shapes.errors(400, 403, 404)})
    def post(self, request: Request, slug: str) -> Response:
        organization = Organization.objects.filter(slug=slug).first()
        if organization is None:
            return _error(404, "not_found", _("No organization '%(slug)s'.") % {"slug": slug})
        if role_in(request.user, organization) != MembershipRole.OWNER:
            return _error(
                403,
                "forbidden",
                _("Only owners of %(organization)s say where it moved.") % {"organization": organization.name},
            )
        new_home = request.data.get("newHome") if isinstance(request.data, dict) else None
        if not isinstance(new_home, str) or not new_home.strip():
            return _error(400, "bad_request", _("Say where it moved: newHome is the other instance's address."))
        origin = request.build_absolute_uri("/").rstrip("/")
        try:
            moved = moves.announce(organization=organization, new_home=new_home, origin=origin)
        except moves.MoveRefused as exc:
            return _error(400, "bad_request", str(exc))
        count = Dataset.objects.filter(organization=moved).count()
        told = grant_transfers.issue(organization=moved, new_home=moves.base_url(new_home), origin=origin)
        return Response({"movedTo": moved.moved_to, "licenseesNotified": told,
                         "movedAt": moved.moved_at.isoformat() if moved.moved_at else None,
                         "datasets": moved.moved_datasets, "datasetsHere": count})  # fmt: skip
