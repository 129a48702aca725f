"""The API of access to datasets (/api/v1/): the terms and their acceptance (grants), access
requests and their decisions, and a version's files and their downloads."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponseRedirect
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api_errors import error_body
from licensing import schema
from licensing.access import access_requests, downloads, grants
from licensing.api_common import DatasetScopedApi, request_body, request_user, string_field
from licensing.keys import limits
from licensing.keys.authentication import ApiKeyAuthentication, ApiKeyBasicAuthentication, HasScope
from licensing.models import AccessRequest, ApiKey, DownloadRecord, LicenseGrant
from marketplace.accounts.second_factor import SecondFactorEnabled
from marketplace.accounts.verified_email import require_verified_email_for_api
from marketplace.api.mdc import Refused, issue_download
from marketplace.models import Dataset
from provenance import deltas, diffs


def terms_json(dataset: Dataset, terms: grants.Terms) -> dict[str, Any]:
    license = terms.version.license
    return {
        "datasetId": dataset.id,
        "version": terms.version.number,
        "termsSha256": terms.sha256,
        "termsText": terms.text,
        "license": {"spdxId": license.spdx_id, "name": license.name, "textSha256": license.text_sha256},
        "restrictions": [{"label": label, "text": text} for label, text in terms.restrictions],
    }


class TermsApi(DatasetScopedApi):
    """The exact terms text of the current version and its SHA-256, to accept by hash."""

    required_scope = "read"

    @extend_schema(responses={200: schema.TermsShape, **schema.errors(400, 410)})
    def get(self, request: Request, dataset_id: str) -> Response:
        dataset = self.dataset(request, dataset_id)
        terms = grants.terms_for(dataset=dataset, version=grants.current_version(dataset))
        return Response(terms_json(dataset, terms))


class GrantCreateApi(DatasetScopedApi):
    """Accept the current terms by their hash: ``{"termsSha256": ..., "organization": slug?}``.
    409 when the terms changed since that hash; the body names the current one."""

    @extend_schema(
        request=schema.AcceptTermsShape,
        responses={201: schema.ReceiptShape, 409: schema.TermsChangedShape, **schema.errors(410)},
    )
    def post(self, request: Request, dataset_id: str) -> Response:
        require_verified_email_for_api(request)
        dataset = self.dataset(request, dataset_id)
        body = request_body(request)
        digest = string_field(body, "termsSha256")
        user = request_user(request)
        try:
            organization = grants.licensee_organization(
                user=user, slug=string_field(body, "organization", required=False)
            )
            grant = grants.accept_terms(
                user=user,
                dataset=dataset,
                terms_sha256=digest,
                source=LicenseGrant.Source.API,
                user_agent=request.META.get("HTTP_USER_AGENT", ""),
                organization=organization,
            )
        except grants.TermsChanged as exc:
            return Response(
                error_body(str(exc), currentTermsSha256=exc.current.sha256, terms=terms_json(dataset, exc.current)),
                status=status.HTTP_409_CONFLICT,
            )
        return Response(grants.receipt(grant), status=status.HTTP_201_CREATED)


class GrantListApi(APIView):
    """The caller's grants, newest first, each as its receipt."""

    permission_classes = [IsAuthenticated, HasScope]
    required_scope = "read"

    @extend_schema(operation_id="v1_grants_list", responses=schema.ReceiptListShape)
    def get(self, request: Request) -> Response:
        mine = grants.grants_of(user=request_user(request))
        items = limits.narrow(mine, request.auth, dataset="dataset_id", organization="dataset__organization_id")[:200]
        return Response({"items": [grants.receipt(grant) for grant in items]})


class GrantReceiptApi(APIView):
    permission_classes = [IsAuthenticated, HasScope]
    required_scope = "read"

    @extend_schema(responses=schema.ReceiptShape)
    def get(self, request: Request, grant_id: int) -> Response:
        grant = grants.grants_of(user=request_user(request)).filter(id=grant_id).first()
        if grant is None:
            raise exceptions.NotFound(_("You have no grant %(grant_id)s.") % {"grant_id": grant_id})
        return Response(grants.receipt(grant))


def access_request_json(item: AccessRequest) -> dict[str, Any]:
    return {
        "id": item.id,
        "datasetId": item.dataset_id,
        "username": item.user.get_username(),
        "fullName": item.full_name,
        "organization": item.organization_name,
        "intendedUse": item.intended_use,
        "status": item.status,
        "autoApproved": item.auto_approved,
        "reason": item.reason or None,
        "createdAt": item.created_at.isoformat(),
        "decidedAt": item.decided_at.isoformat() if item.decided_at else None,
    }


class AccessRequestListApi(DatasetScopedApi):
    """POST asks for access (``fullName``, ``organization``, ``intendedUse``); GET lists the
    dataset's requests for its owners and admins, and the caller's own for anyone else."""

    @property
    def required_scope(self) -> str:  # type: ignore[override]
        return "read" if self.request.method == "GET" else "download"

    @extend_schema(responses={200: schema.AccessRequestListShape, **schema.errors(410)})
    def get(self, request: Request, dataset_id: str) -> Response:
        dataset = self.dataset(request, dataset_id)
        user = request_user(request)
        items = AccessRequest.objects.filter(dataset=dataset).select_related("user").order_by("-created_at")
        if not access_requests.can_manage_dataset(user, dataset):
            items = items.filter(user=user)
        return Response({"items": [access_request_json(item) for item in items[:500]]})

    @extend_schema(
        request=schema.AccessRequestInputShape,
        responses={201: schema.AccessRequestShape, **schema.errors(410)},
    )
    def post(self, request: Request, dataset_id: str) -> Response:
        require_verified_email_for_api(request)
        dataset = self.dataset(request, dataset_id)
        body = request_body(request)
        item = access_requests.request_access(
            user=request_user(request),
            dataset=dataset,
            full_name=string_field(body, "fullName"),
            organization_name=string_field(body, "organization"),
            intended_use=string_field(body, "intendedUse"),
        )
        return Response(access_request_json(item), status=status.HTTP_201_CREATED)


class AccessDecisionApi(APIView):
    """``POST /api/v1/access-requests/{id}/approve|reject|revoke``; reject and revoke take
    ``{"reason"}``. Only owners and admins of the dataset's organization."""

    permission_classes = [IsAuthenticated, HasScope, SecondFactorEnabled]
    required_scope = "read"

    @extend_schema(
        parameters=[OpenApiParameter("action", str, OpenApiParameter.PATH, enum=["approve", "reject", "revoke"])],
        request=schema.ReasonShape,
        responses=schema.AccessRequestShape,
    )
    def post(self, request: Request, request_id: int, action: str) -> Response:
        if action not in ("approve", "reject", "revoke"):
            raise exceptions.NotFound(_("No action '%(action)s': use approve, reject or revoke.") % {"action": action})
        user = request_user(request)
        item = AccessRequest.objects.select_related("dataset").filter(id=request_id).first()
        # Requests of datasets the caller does not manage do not exist for them (no IDOR).
        if item is None or not access_requests.can_manage_dataset(user, item.dataset):
            raise exceptions.NotFound(_("No access request %(request_id)s.") % {"request_id": request_id})
        body = request_body(request) if request.data else {}
        if action == "approve":
            item = access_requests.approve(request_id=item.id, by=user)
        elif action == "reject":
            item = access_requests.reject(request_id=item.id, by=user, reason=string_field(body, "reason"))
        else:
            item = access_requests.revoke(request_id=item.id, by=user, reason=string_field(body, "reason"))
        return Response(access_request_json(item))


class VersionFilesApi(DatasetScopedApi):
    """The files of a published version with their sizes and SHA-256 (public metadata)."""

    required_scope = "read"

    @extend_schema(responses={200: schema.VersionFilesShape, **schema.errors(410)})
    def get(self, request: Request, dataset_id: str, number: int) -> Response:
        dataset = self.dataset(request, dataset_id)
        version = dataset.versions.filter(number=number, published_at__isnull=False).first()
        if version is None:
            raise exceptions.NotFound(
                _("%(dataset)s has no published version %(number)s.") % {"dataset": dataset.name, "number": number}
            )
        files = [{"kind": "archive", "filename": version.filename, "sizeBytes": version.size_bytes,
                  "sha256": version.sha256}]  # fmt: skip
        if version.sample_key:
            files.append({"kind": "sample", "filename": version.sample_filename,
                          "sizeBytes": version.sample_size_bytes, "sha256": None})  # fmt: skip
        return Response({"datasetId": dataset.id, "version": version.number, "files": files})


class VersionFileDownloadApi(DatasetScopedApi):
    """One file (``archive`` or ``sample``) of any published version, so a pipeline can pin a
    version. Same decision and record as E4.

    POST answers the presigned GET as JSON. GET, the ``contentUrl`` of the version's Croissant
    document, answers 302 to it, so that a plain HTTP client (mlcroissant, curl, wget) gets the
    bytes: the document stays the same for everyone and cacheable, and a download is decided and
    recorded only when it happens, not each time the metadata is read. GET takes an API key only
    (Bearer, or HTTP Basic with the key as password, which mlcroissant sends), never a browser's
    session: a link on another site must not record downloads in a signed-in visitor's name."""

    authentication_classes = [ApiKeyAuthentication, ApiKeyBasicAuthentication, SessionAuthentication]

    def _issue(self, request: Request, dataset_id: str, number: int, kind: str) -> downloads.IssuedDownload:
        dataset = self.dataset(request, dataset_id)
        version = dataset.versions.select_related("license").filter(number=number, published_at__isnull=False).first()
        if version is None:
            raise exceptions.NotFound(
                _("%(dataset)s has no published version %(number)s.") % {"dataset": dataset.name, "number": number}
            )
        if kind not in DownloadRecord.Kind.values:
            raise exceptions.NotFound(_("No file '%(kind)s': use archive or sample.") % {"kind": kind})
        if kind == DownloadRecord.Kind.SAMPLE and not version.sample_key:
            raise exceptions.NotFound(
                _("%(dataset)s version %(number)s has no sample.") % {"dataset": dataset.name, "number": number}
            )
        return issue_download(request, dataset, version, kind)

    @extend_schema(
        parameters=[OpenApiParameter("kind", str, OpenApiParameter.PATH, enum=DownloadRecord.Kind.values)],
        request=None,
        responses={
            (302, "application/octet-stream"): OpenApiResponse(description="To a presigned GET of the bytes."),
            **schema.errors(402, 410),
        },
    )
    def get(self, request: Request, dataset_id: str, number: int, kind: str) -> HttpResponseRedirect:
        if not isinstance(request.auth, ApiKey):
            raise exceptions.NotAuthenticated(
                _(
                    "Send an API key with the 'download' scope: 'Authorization: Bearer <key>', or "
                    "HTTP Basic with the key as password (mlcroissant: "
                    "CROISSANT_BASIC_AUTH_USERNAME=key, CROISSANT_BASIC_AUTH_PASSWORD)."
                )
            )
        issued = self._issue(request, dataset_id, number, kind)
        response = HttpResponseRedirect(issued.url)
        response["Cache-Control"] = "no-store"  # the link is this caller's, and short-lived
        return response

    @extend_schema(
        parameters=[OpenApiParameter("kind", str, OpenApiParameter.PATH, enum=DownloadRecord.Kind.values)],
        request=None,
        responses={200: schema.VersionDownloadShape, **schema.errors(402, 410)},
    )
    def post(self, request: Request, dataset_id: str, number: int, kind: str) -> Response:
        issued = self._issue(request, dataset_id, number, kind)
        return Response(
            {
                "kind": kind,
                "version": number,
                "filename": issued.filename,
                "sizeBytes": issued.size_bytes,
                "sha256": issued.sha256,
                "downloadUrl": issued.url,
                "expiresAt": issued.expires_at.isoformat(),
            }
        )


class VersionDeltaApi(DatasetScopedApi):
    """The delta from version ``number`` to version ``to``: a DSSE envelope signed with the
    instance key listing the files added, changed and removed (``provenance.deltas``), and a
    presigned GET per file to fetch, keyed by its SHA-256. The download of version ``to`` is
    decided and recorded as the archive's is (402, 403, 410 as its download route answers);
    409 with Retry-After while its files are being prepared."""

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "Retry-After",
                int,
                OpenApiParameter.HEADER,
                response=[409],
                description="Seconds to wait, when the files are being prepared.",
            ),
        ],  # fmt: skip
        request=None,
        responses={200: schema.DeltaShape, **schema.DELTA_NOT_READY, **schema.errors(402, 410, 500)},
    )
    def post(self, request: Request, dataset_id: str, number: int, to: int) -> Response:
        dataset = self.dataset(request, dataset_id)
        found = {
            version.number: version
            for version in dataset.versions.select_related("license").filter(
                number__in=(number, to), published_at__isnull=False
            )
        }
        for wanted in (number, to):
            if wanted not in found:
                raise exceptions.NotFound(
                    _("%(dataset)s has no published version %(wanted)s.") % {"dataset": dataset.name, "wanted": wanted}
                )
        if number == to:
            raise exceptions.ValidationError(
                _("A delta goes from one version to another: both are version %(number)s.") % {"number": number}
            )
        new = found[to]
        try:
            verdict = downloads.admit(
                user=request.user,
                dataset=dataset,
                version=new,
                kind=DownloadRecord.Kind.ARCHIVE,
                page_url=self.page_url(request, dataset),
            )
        except downloads.DownloadRefused as exc:
            raise Refused(exc) from None
        try:
            delta = deltas.build(dataset=dataset, old=found[number], new=new)
        except diffs.ManifestInvalid as exc:
            return Response(error_body(str(exc)) | {"error": "manifest_invalid"}, status=500)
        downloads.record(
            verdict=verdict,
            user=request.user,
            api_key=request.auth if isinstance(request.auth, ApiKey) else None,
            dataset=dataset,
            version=new,
            kind=DownloadRecord.Kind.ARCHIVE,
            ip_address=request.META.get("REMOTE_ADDR") or None,
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
        )
        urls, expires_at = deltas.links(delta)
        return Response({"delta": delta.envelope, "downloads": urls, "expiresAt": expires_at.isoformat()})


class MyAccessRequestsApi(APIView):
    """The caller's access requests to every dataset, newest first (the newest 200), with each
    decision and its reason."""

    permission_classes = [IsAuthenticated, HasScope]
    required_scope = "read"

    @extend_schema(responses={200: schema.AccessRequestListShape, **schema.errors()})
    def get(self, request: Request) -> Response:
        items = (
            AccessRequest.objects.filter(user=request_user(request))
            .select_related("user")
            .order_by("-created_at", "-id")[:200]
        )
        return Response({"items": [access_request_json(item) for item in items]})
