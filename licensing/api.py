"""Our own REST API (/api/v1/) for the licensing domain."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api_errors import error_body
from licensing import schema
from licensing.access import access_requests, grants
from licensing.consent import withdrawals
from licensing.keys.authentication import HasScope
from licensing.models import AccessRequest, ApiKey, DownloadRecord, Invoice, LicenseGrant
from licensing.revenue import earnings, payments
from marketplace.api.mdc import Gone, issue_download
from marketplace.models import Dataset, User
from marketplace.selectors import visible_datasets


class MeApi(APIView):
    """Who the caller is, and the key the call was made with."""

    permission_classes = [IsAuthenticated, HasScope]
    required_scope = "read"

    @extend_schema(
        responses=inline_serializer(
            "Me",
            {
                "username": serializers.CharField(),
                "email": serializers.EmailField(),
                "apiKey": inline_serializer(
                    "MeApiKey",
                    {
                        "name": serializers.CharField(),
                        "prefix": serializers.CharField(),
                        "scopes": serializers.ListField(child=serializers.CharField()),
                        "expiresAt": serializers.DateTimeField(),
                    },
                    allow_null=True,
                ),
            },
        )
    )
    def get(self, request: Request) -> Response:
        key = request.auth if isinstance(request.auth, ApiKey) else None
        return Response(
            {
                "username": request.user.get_username(),
                "email": getattr(request.user, "email", ""),
                "apiKey": None
                if key is None
                else {
                    "name": key.name,
                    "prefix": key.prefix,
                    "scopes": key.scopes,
                    "expiresAt": key.expires_at.isoformat(),
                },
            }
        )


class MyEarningsApi(APIView):
    """The caller's earnings, as the earnings page shows them: totals per currency (earned,
    refunded, paid out, balance), net earnings per dataset and month, and payouts. Integer cents."""

    permission_classes = [IsAuthenticated, HasScope]
    required_scope = "read"

    @extend_schema(responses=schema.EarningsShape)
    def get(self, request: Request) -> Response:
        figures = earnings.earnings_for(earnings.accounts_of(_user(request)))
        return Response(
            {
                "totals": [
                    {"currency": t.currency, "earnedCents": t.earned, "refundedCents": t.refunded,
                     "paidOutCents": t.paid_out, "balanceCents": t.balance}
                    for t in figures.totals
                ],
                "datasets": [
                    {"datasetId": d.dataset_id, "name": d.name, "currency": d.currency, "payments": d.payments,
                     "earnedCents": d.earned, "refundedCents": d.refunded, "netCents": d.net,
                     "periods": [{"period": p, "netCents": cents} for p, cents in d.periods.items()]}
                    for d in figures.datasets
                ],
                "payouts": [
                    {"batchId": p["batch"], "amountCents": p["amount"], "currency": p["currency"],
                     "status": p["status"], "createdAt": p["created_at"].isoformat(),
                     "paidAt": p["paid_at"].isoformat() if p["paid_at"] else None, "reference": p["reference"]}
                    for p in figures.payouts
                ],
            }
        )  # fmt: skip


# --- Licensing, access, purchases and downloads: /api/v1/datasets/{id}/... -----------------------


def _api_error(exc: Exception) -> exceptions.APIException:
    """Our services raise Django's exceptions; the API answers them as {"error", "message"}."""
    if isinstance(exc, ValidationError):
        if hasattr(exc, "error_dict"):
            return exceptions.ValidationError(exc.message_dict)
        return exceptions.ValidationError(" ".join(exc.messages))
    if isinstance(exc, PermissionDenied):
        return exceptions.PermissionDenied(str(exc) or "You may not do this.")
    if isinstance(exc, ObjectDoesNotExist):
        return exceptions.NotFound(str(exc))
    raise exc


def _body(request: Request) -> dict[str, Any]:
    if not isinstance(request.data, dict):
        raise exceptions.ValidationError("The body must be a JSON object.")
    return request.data


def _string(body: dict[str, Any], name: str, *, required: bool = True) -> str:
    value = body.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise exceptions.ValidationError({name: ["must be a non-empty string"]})
    return value


def _user(request: Request) -> User:
    if not isinstance(request.user, User):
        raise exceptions.NotAuthenticated()
    return request.user


class DatasetScopedApi(APIView):
    """A dataset the caller may see (published; private ones only for their members)."""

    permission_classes = [IsAuthenticated, HasScope]
    required_scope = "download"

    def dataset(self, request: Request, dataset_id: str) -> Dataset:
        found = (
            visible_datasets(user=request.user)
            .select_related("organization", "current_version__license")
            .filter(id=dataset_id)
            .first()
        )
        if found is None:
            removed = Dataset.objects.filter(id=dataset_id, status=Dataset.Status.REMOVED).first()
            # A removed dataset says so (410, with the reason), unless it was private: then it stays unknown.
            if removed is not None and removed.visibility != Dataset.Visibility.PRIVATE:
                reason = f": {removed.removal_reason}" if removed.removal_reason else "."
                raise Gone(f"Dataset '{removed.slug}' was taken down{reason}")
            raise exceptions.NotFound(f"No dataset with id '{dataset_id}'.")
        return found

    def page_url(self, request: Request, dataset: Dataset) -> str:
        return request.build_absolute_uri(reverse("dataset-detail", args=[dataset.slug]))


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
        try:
            terms = grants.terms_for(dataset=dataset, version=grants.current_version(dataset))
        except ValidationError as exc:
            raise _api_error(exc) from None
        return Response(terms_json(dataset, terms))


class GrantCreateApi(DatasetScopedApi):
    """Accept the current terms by their hash: ``{"termsSha256": ..., "organization": slug?}``.
    409 when the terms changed since that hash; the body names the current one."""

    @extend_schema(
        request=schema.AcceptTermsShape,
        responses={201: schema.ReceiptShape, 409: schema.TermsChangedShape, **schema.errors(410)},
    )
    def post(self, request: Request, dataset_id: str) -> Response:
        dataset = self.dataset(request, dataset_id)
        body = _body(request)
        digest = _string(body, "termsSha256")
        user = _user(request)
        try:
            organization = grants.licensee_organization(user=user, slug=_string(body, "organization", required=False))
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
        except ValidationError as exc:
            raise _api_error(exc) from None
        return Response(grants.receipt(grant), status=status.HTTP_201_CREATED)


class GrantListApi(APIView):
    """The caller's grants, newest first, each as its receipt."""

    permission_classes = [IsAuthenticated, HasScope]
    required_scope = "read"

    @extend_schema(operation_id="v1_grants_list", responses=schema.ReceiptListShape)
    def get(self, request: Request) -> Response:
        items = grants.grants_of(user=_user(request))[:200]
        return Response({"items": [grants.receipt(grant) for grant in items]})


class GrantReceiptApi(APIView):
    permission_classes = [IsAuthenticated, HasScope]
    required_scope = "read"

    @extend_schema(responses=schema.ReceiptShape)
    def get(self, request: Request, grant_id: int) -> Response:
        grant = grants.grants_of(user=_user(request)).filter(id=grant_id).first()
        if grant is None:
            raise exceptions.NotFound(f"You have no grant {grant_id}.")
        return Response(grants.receipt(grant))


def invoice_json(invoice: Invoice) -> dict[str, Any]:
    return {
        "invoiceId": invoice.id,
        "amountCents": invoice.amount_cents,
        "basePriceCents": invoice.base_price_cents,
        "platformFeeCents": invoice.platform_fee_cents,
        "currency": invoice.currency,
        "status": invoice.status,
        "provider": invoice.provider,
        "instructions": payments.provider(invoice.provider).instructions(invoice)
        if invoice.status == Invoice.Status.OPEN
        else None,
        "termsSha256": invoice.terms_sha256,
        "datasetId": invoice.dataset_id,
        "createdAt": invoice.created_at.isoformat(),
        "paidAt": invoice.paid_at.isoformat() if invoice.paid_at else None,
    }


class PurchaseApi(DatasetScopedApi):
    """Create, or return the open (or paid) invoice of the caller for a paid dataset."""

    @extend_schema(
        request=schema.OrganizationChoiceShape,
        responses={200: schema.InvoiceShape, 201: schema.InvoiceShape, **schema.errors(410)},
    )
    def post(self, request: Request, dataset_id: str) -> Response:
        dataset = self.dataset(request, dataset_id)
        body = _body(request) if request.data else {}
        user = _user(request)
        try:
            organization = grants.licensee_organization(user=user, slug=_string(body, "organization", required=False))
            invoice, created = payments.open_invoice(
                user=user,
                dataset=dataset,
                organization=organization,
                user_agent=request.META.get("HTTP_USER_AGENT", ""),
            )
        except ValidationError as exc:
            raise _api_error(exc) from None
        return Response(invoice_json(invoice), status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class InvoicePaymentApi(APIView):
    """An organization admin (or staff) records the payment of an invoice: ``{"reference"}``."""

    permission_classes = [IsAuthenticated, HasScope]
    required_scope = "read"

    @extend_schema(request=schema.PaymentShape, responses=schema.InvoiceShape)
    def post(self, request: Request, invoice_id: str) -> Response:
        body = _body(request) if request.data else {}
        invoice = Invoice.objects.select_related("dataset__organization").filter(id=invoice_id).first()
        user = _user(request)
        # Someone who may neither pay nor see it learns nothing about it.
        if invoice is None or (invoice.user_id != user.id and not payments.can_mark_paid(user, invoice)):
            raise exceptions.NotFound(f"No invoice {invoice_id}.")
        try:
            payments.record_payment(
                invoice_id=invoice.id, recorded_by=user, reference=_string(body, "reference", required=False)
            )
        except (ValidationError, PermissionDenied) as exc:
            raise _api_error(exc) from None
        invoice.refresh_from_db()
        return Response(invoice_json(invoice))


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
        user = _user(request)
        items = AccessRequest.objects.filter(dataset=dataset).select_related("user").order_by("-created_at")
        if not access_requests.can_manage_dataset(user, dataset):
            items = items.filter(user=user)
        return Response({"items": [access_request_json(item) for item in items[:500]]})

    @extend_schema(
        request=schema.AccessRequestInputShape,
        responses={201: schema.AccessRequestShape, **schema.errors(410)},
    )
    def post(self, request: Request, dataset_id: str) -> Response:
        dataset = self.dataset(request, dataset_id)
        body = _body(request)
        try:
            item = access_requests.request_access(
                user=_user(request),
                dataset=dataset,
                full_name=_string(body, "fullName"),
                organization_name=_string(body, "organization"),
                intended_use=_string(body, "intendedUse"),
            )
        except ValidationError as exc:
            raise _api_error(exc) from None
        return Response(access_request_json(item), status=status.HTTP_201_CREATED)


class AccessDecisionApi(APIView):
    """``POST /api/v1/access-requests/{id}/approve|reject|revoke``; reject and revoke take
    ``{"reason"}``. Only owners and admins of the dataset's organization."""

    permission_classes = [IsAuthenticated, HasScope]
    required_scope = "read"

    @extend_schema(
        parameters=[OpenApiParameter("action", str, OpenApiParameter.PATH, enum=["approve", "reject", "revoke"])],
        request=schema.ReasonShape,
        responses=schema.AccessRequestShape,
    )
    def post(self, request: Request, request_id: int, action: str) -> Response:
        if action not in ("approve", "reject", "revoke"):
            raise exceptions.NotFound(f"No action '{action}': use approve, reject or revoke.")
        user = _user(request)
        item = AccessRequest.objects.select_related("dataset").filter(id=request_id).first()
        # Requests of datasets the caller does not manage do not exist for them (no IDOR).
        if item is None or not access_requests.can_manage_dataset(user, item.dataset):
            raise exceptions.NotFound(f"No access request {request_id}.")
        body = _body(request) if request.data else {}
        try:
            if action == "approve":
                item = access_requests.approve(request_id=item.id, by=user)
            elif action == "reject":
                item = access_requests.reject(request_id=item.id, by=user, reason=_string(body, "reason"))
            else:
                item = access_requests.revoke(request_id=item.id, by=user, reason=_string(body, "reason"))
        except (ValidationError, PermissionDenied) as exc:
            raise _api_error(exc) from None
        return Response(access_request_json(item))


class VersionFilesApi(DatasetScopedApi):
    """The files of a published version with their sizes and SHA-256 (public metadata)."""

    required_scope = "read"

    @extend_schema(responses={200: schema.VersionFilesShape, **schema.errors(410)})
    def get(self, request: Request, dataset_id: str, number: int) -> Response:
        dataset = self.dataset(request, dataset_id)
        version = dataset.versions.filter(number=number, published_at__isnull=False).first()
        if version is None:
            raise exceptions.NotFound(f"{dataset.name} has no published version {number}.")
        files = [{"kind": "archive", "filename": version.filename, "sizeBytes": version.size_bytes,
                  "sha256": version.sha256}]  # fmt: skip
        if version.sample_key:
            files.append({"kind": "sample", "filename": version.sample_filename,
                          "sizeBytes": version.sample_size_bytes, "sha256": None})  # fmt: skip
        return Response({"datasetId": dataset.id, "version": version.number, "files": files})


class VersionFileDownloadApi(DatasetScopedApi):
    """A presigned GET for one file (``archive`` or ``sample``) of any published version, so a
    pipeline can pin a version. Same decision and record as E4."""

    @extend_schema(
        parameters=[OpenApiParameter("kind", str, OpenApiParameter.PATH, enum=DownloadRecord.Kind.values)],
        request=None,
        responses={200: schema.VersionDownloadShape, **schema.errors(402, 410)},
    )
    def post(self, request: Request, dataset_id: str, number: int, kind: str) -> Response:
        dataset = self.dataset(request, dataset_id)
        version = dataset.versions.select_related("license").filter(number=number, published_at__isnull=False).first()
        if version is None:
            raise exceptions.NotFound(f"{dataset.name} has no published version {number}.")
        if kind not in DownloadRecord.Kind.values:
            raise exceptions.NotFound(f"No file '{kind}': use archive or sample.")
        if kind == DownloadRecord.Kind.SAMPLE and not version.sample_key:
            raise exceptions.NotFound(f"{dataset.name} version {number} has no sample.")
        issued = issue_download(request, dataset, version, kind)
        return Response(
            {
                "kind": kind,
                "version": version.number,
                "filename": issued.filename,
                "sizeBytes": issued.size_bytes,
                "sha256": issued.sha256,
                "downloadUrl": issued.url,
                "expiresAt": issued.expires_at.isoformat(),
            }
        )


class WithdrawalApi(DatasetScopedApi):
    """A contributor, or an owner or admin on their behalf, withdraws consent for records of a
    version: ``{"version": n, "recordIds": [...], "fileHashes": [...], "contributorId", "reason"}``."""

    @extend_schema(request=schema.WithdrawalInputShape, responses={201: schema.WithdrawalShape, **schema.errors(410)})
    def post(self, request: Request, dataset_id: str) -> Response:
        dataset = self.dataset(request, dataset_id)
        body = _body(request)
        number = body.get("version")
        if not isinstance(number, int) or isinstance(number, bool):
            raise exceptions.ValidationError({"version": ["must be a version number"]})
        try:
            withdrawal = withdrawals.withdraw_consent(
                by=_user(request),
                dataset=dataset,
                version_number=number,
                record_ids=body.get("recordIds"),
                file_hashes=body.get("fileHashes"),
                contributor_id=_string(body, "contributorId", required=False),
                reason=_string(body, "reason", required=False),
            )
        except (ValidationError, PermissionDenied) as exc:
            raise _api_error(exc) from None
        return Response(
            {"id": withdrawal.id, "version": number, "withdrawnAt": withdrawal.created_at.isoformat()},
            status=status.HTTP_201_CREATED,
        )


class RemovalFeedApi(DatasetScopedApi):
    """What licensees must delete: every withdrawal's record ids and file hashes, with times."""

    permission_classes = [AllowAny]

    @extend_schema(responses={200: schema.RemovalFeedShape, **schema.errors(410)})
    def get(self, request: Request, dataset_id: str) -> Response:
        dataset = self.dataset(request, dataset_id)
        return Response({"datasetId": dataset.id, "items": withdrawals.removal_feed(dataset)})
