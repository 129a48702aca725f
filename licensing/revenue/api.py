"""The API of money (/api/v1/): buying a paid dataset (an invoice), recording an invoice's
payment, and the caller's earnings."""

from __future__ import annotations

from typing import Any

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
from licensing.models import Invoice
from licensing.revenue import earnings, payments


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
    """An organization admin (or staff) records the payment of an invoice: ``{"reference"}``."""

    permission_classes = [IsAuthenticated, HasScope]
    required_scope = "read"

    @extend_schema(request=schema.PaymentShape, responses=schema.InvoiceShape)
    def post(self, request: Request, invoice_id: str) -> Response:
        body = request_body(request) if request.data else {}
        invoice = Invoice.objects.select_related("dataset__organization").filter(id=invoice_id).first()
        user = request_user(request)
        # Someone who may neither pay nor see it learns nothing about it.
        if invoice is None or (invoice.user_id != user.id and not payments.can_mark_paid(user, invoice)):
            raise exceptions.NotFound(f"No invoice {invoice_id}.")
        payments.record_payment(
            invoice_id=invoice.id, recorded_by=user, reference=string_field(body, "reference", required=False)
        )
        invoice.refresh_from_db()
        return Response(invoice_json(invoice))


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
