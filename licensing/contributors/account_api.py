"""The API of a person's own account (/api/v1/me/...): where to pay them, and everything the
instance holds about them. The account is deleted only on its page, with the password."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from licensing import schema
from licensing.api_common import request_user
from licensing.contributors import payouts, portability
from licensing.keys.authentication import HasScope
from licensing.models import PayoutDetails


def payout_details_json(details: PayoutDetails) -> dict[str, Any]:
    return {
        "method": details.method,
        "accountHolder": details.account_holder,
        "account": details.account,
        "bankName": details.bank_name,
        "notes": details.notes,
        "updatedAt": details.updated_at.isoformat(),
    }


class MyPayoutDetailsApi(APIView):
    """Where the caller wants to be paid. ``PUT`` replaces it all (an IBAN is checked for its
    check digits, a PayPal account must be an email address).

    Reading them takes a ``read`` key; changing where money goes takes a key that may write
    (``upload``), so that a leaked read-only key cannot redirect payouts. The page does the same
    in a signed-in session."""

    permission_classes = [IsAuthenticated, HasScope]

    @property
    def required_scope(self) -> str:
        return "read" if self.request.method in ("GET", "HEAD", "OPTIONS") else "upload"

    @extend_schema(responses={200: schema.PayoutDetailsShape, **schema.errors(404)})
    def get(self, request: Request) -> Response:
        details = payouts.payout_details_of(request_user(request))
        if details is None:
            raise exceptions.NotFound(
                _("You have no payout details yet: PUT them here, or set them on your account page.")
            )
        return Response(payout_details_json(details))

    @extend_schema(
        request=schema.PayoutDetailsInputShape,
        responses={200: schema.PayoutDetailsShape, 201: schema.PayoutDetailsShape},
    )
    def put(self, request: Request) -> Response:
        user = request_user(request)
        existed = payouts.payout_details_of(user) is not None
        try:
            details = payouts.set_payout_details(user=user, details=payouts.PayoutDetailsInput.from_json(request.data))
        except ValidationError as exc:
            if not hasattr(exc, "error_dict"):
                raise
            # The service names the model's fields; the API answers in its own (camelCase) names.
            raise exceptions.ValidationError(
                {payouts.API_NAMES.get(field, field): errors for field, errors in exc.message_dict.items()}
            ) from None
        return Response(payout_details_json(details), status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED)


class MyDataExportApi(APIView):
    """Everything the instance holds about the caller (``"format": "datacollective-personal-data/1"``):
    account, memberships, claims, the consent records of their claimed contributor ids with the
    exact consent text, withdrawals, earnings and payouts, payout details, grants, invoices,
    payments, access requests, API keys (never their hashes) and download counts."""

    permission_classes = [IsAuthenticated, HasScope]
    required_scope = "read"

    @extend_schema(responses=schema.PersonalDataShape)
    def get(self, request: Request) -> Response:
        response = Response(portability.export_for(request_user(request)))
        response["Cache-Control"] = "no-store"
        return response
