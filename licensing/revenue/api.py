"""The API of money (/api/v1/): buying a paid dataset (an invoice), recording an invoice's
payment, and the caller's earnings."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from licensing import schema
from licensing.access import grants
from licensing.api_common import DatasetScopedApi, request_body, request_user, string_field
from licensing.keys.authentication import HasScope
from licensing.models import Invoice, PayoutBatch
from licensing.revenue import earnings, ledger, payments, refunds
from marketplace.accounts.second_factor import SecondFactorEnabled, refuse_without_second_factor
from marketplace.accounts.verified_email import require_verified_email_for_api
from marketplace.models import User


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
        if invoice.status == Invoice.Status.OPEN and not payments.is_overdue(invoice)
        else None,
        "termsSha256": invoice.terms_sha256,
        "datasetId": invoice.dataset_id,
        "createdAt": invoice.created_at.isoformat(),
        "paidAt": invoice.paid_at.isoformat() if invoice.paid_at else None,
        "expiresAt": invoice.expires_at.isoformat() if invoice.expires_at else None,
        "closedAt": invoice.closed_at.isoformat() if invoice.closed_at else None,
    }


class PurchaseApi(DatasetScopedApi):
    """Create, or return the open (or paid) invoice of the caller for a paid dataset."""

    @extend_schema(
        request=schema.OrganizationChoiceShape,
        responses={200: schema.InvoiceShape, 201: schema.InvoiceShape, **schema.errors(410)},
    )
    def post(self, request: Request, dataset_id: str) -> Response:
        require_verified_email_for_api(request)
        dataset = self.dataset(request, dataset_id)
        body = request_body(request) if request.data else {}
        user = request_user(request)
        organization = grants.licensee_organization(user=user, slug=string_field(body, "organization", required=False))
        invoice, created = payments.open_invoice(
            user=user,
            dataset=dataset,
            organization=organization,
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
        )
        return Response(invoice_json(invoice), status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class InvoicePaymentApi(APIView):
    """An organization admin (or staff) records the payment of an invoice: ``{"reference"}``.
    409 when it was voided, expired or refunded."""

    permission_classes = [IsAuthenticated, HasScope, SecondFactorEnabled]
    required_scope = "read"

    @extend_schema(request=schema.PaymentShape, responses={200: schema.InvoiceShape, **schema.errors(409)})
    def post(self, request: Request, invoice_id: str) -> Response:
        body = request_body(request) if request.data else {}
        invoice = Invoice.objects.select_related("dataset__organization").filter(id=invoice_id).first()
        user = request_user(request)
        # Someone who may neither pay nor see it learns nothing about it.
        if invoice is None or (invoice.user_id != user.id and not payments.can_mark_paid(user, invoice)):
            raise exceptions.NotFound(_("No invoice %(invoice_id)s.") % {"invoice_id": invoice_id})
        payments.record_payment(
            invoice_id=invoice.id, recorded_by=user, reference=string_field(body, "reference", required=False)
        )
        invoice.refresh_from_db()
        return Response(invoice_json(invoice))


def _visible_invoice(user: User, invoice_id: str) -> Invoice:
    """An invoice the caller may see: their own, or one of an organization they manage (or staff).
    Anyone else learns nothing about it."""
    invoice = Invoice.objects.select_related("dataset__organization").filter(id=invoice_id).first()
    if invoice is None or (invoice.user_id != user.id and not payments.can_mark_paid(user, invoice)):
        raise exceptions.NotFound(_("No invoice %(invoice_id)s.") % {"invoice_id": invoice_id})
    return invoice


class InvoiceRefundApi(APIView):
    """Staff refund a paid invoice: ``{"reason"}``. The ledger posts the exact reversal, the
    grant the payment created is revoked and the licensee is emailed, in one transaction. 409
    when it was refunded already or never paid."""

    permission_classes = [IsAuthenticated, HasScope, SecondFactorEnabled]
    required_scope = "read"

    @extend_schema(request=schema.RequiredReasonShape, responses={201: schema.RefundShape, **schema.errors(409)})
    def post(self, request: Request, invoice_id: str) -> Response:
        body = request_body(request) if request.data else {}
        user = request_user(request)
        invoice = _visible_invoice(user, invoice_id)
        if not user.is_staff:
            raise exceptions.PermissionDenied(_("Only staff refund payments."))
        refund = refunds.refund_payment(
            invoice_id=invoice.id, refunded_by=user, reason=string_field(body, "reason", required=False)
        )
        invoice.refresh_from_db()
        return Response(
            {
                "invoiceId": invoice.id,
                "amountCents": refund.amount_cents,
                "currency": refund.currency,
                "reason": refund.reason,
                "refundedAt": refund.created_at.isoformat(),
                "revokedGrantId": refund.grant_id,
                "ledgerTransaction": refund.transaction.idempotency_key,
                "invoice": invoice_json(invoice),
            },
            status=status.HTTP_201_CREATED,
        )


class InvoiceVoidApi(APIView):
    """The licensee who opened an invoice, the selling organization's owners and admins, or staff
    void an open invoice: ``{"reason"}`` (optional). 409 when it is not open."""

    permission_classes = [IsAuthenticated, HasScope]
    required_scope = "read"

    @extend_schema(request=schema.OptionalReasonShape, responses={200: schema.InvoiceShape, **schema.errors(409)})
    def post(self, request: Request, invoice_id: str) -> Response:
        body = request_body(request) if request.data else {}
        user = request_user(request)
        invoice = _visible_invoice(user, invoice_id)
        if invoice.user_id != user.id:
            refuse_without_second_factor(request)
        voided = payments.void_invoice(
            invoice_id=invoice.id, voided_by=user, reason=string_field(body, "reason", required=False)
        )
        return Response(invoice_json(voided))


def payout_batch_json(batch: PayoutBatch) -> dict[str, Any]:
    return {
        "batchId": batch.id,
        "status": batch.status,
        "currency": batch.currency,
        "totalCents": ledger.batch_total(batch),
        "createdAt": batch.created_at.isoformat(),
        "paidAt": batch.paid_at.isoformat() if batch.paid_at else None,
        "reference": batch.reference,
        "cancelledAt": batch.cancelled_at.isoformat() if batch.cancelled_at else None,
        "cancelReason": batch.cancel_reason,
    }


class PayoutCancellationApi(APIView):
    """Staff cancel a pending payout batch: ``{"reason"}``. Its amounts are owed to the payees
    again (the exact reversal of the batch's ledger transaction). 409 for a paid or cancelled batch."""

    permission_classes = [IsAuthenticated, HasScope, SecondFactorEnabled]
    required_scope = "read"

    @extend_schema(request=schema.RequiredReasonShape, responses={200: schema.PayoutBatchShape, **schema.errors(409)})
    def post(self, request: Request, batch_id: int) -> Response:
        body = request_body(request) if request.data else {}
        user = request_user(request)
        if not user.is_staff:  # before any lookup: nobody else learns which batches exist
            raise exceptions.PermissionDenied(_("Only staff manage payouts."))
        batch = ledger.cancel_payout_batch(
            batch_id=batch_id, reason=string_field(body, "reason", required=False), cancelled_by=user
        )
        return Response(payout_batch_json(batch))


class MyEarningsApi(APIView):
    """The caller's earnings, as the earnings page shows them: totals per currency (earned,
    refunded, paid out, balance), net earnings per dataset and month, and payouts. Integer cents."""

    permission_classes = [IsAuthenticated, HasScope]
    required_scope = "read"

    @extend_schema(responses=schema.EarningsShape)
    def get(self, request: Request) -> Response:
        figures = earnings.earnings_for(earnings.accounts_of(request_user(request)))
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


class MyInvoicesApi(APIView):
    """The caller's invoices, newest first, as "My invoices" lists them (the newest 200)."""

    permission_classes = [IsAuthenticated, HasScope]
    required_scope = "read"

    @extend_schema(responses={200: schema.InvoiceListShape, **schema.errors()})
    def get(self, request: Request) -> Response:
        invoices = Invoice.objects.filter(user=request_user(request)).order_by("-created_at", "-id")[:200]
        return Response({"items": [invoice_json(invoice) for invoice in invoices]})
