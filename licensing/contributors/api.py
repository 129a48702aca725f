"""The contributor's API (/api/v1/): my contributions, withdrawing myself, claiming a link, and an
organization making claim links."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from licensing import schema
from licensing.api_common import request_body, request_user, string_field
from licensing.consent import releases
from licensing.contributors import claims, contributions, withdrawing
from licensing.contributors import schema as shapes
from licensing.keys.authentication import HasScope
from licensing.models import ConsentTerms, ConsentWithdrawal, ContributorClaim, License, PayoutDetails
from marketplace.models import Organization


class _Signed(APIView):
    permission_classes = [IsAuthenticated, HasScope]
    required_scope = "read"


def _permissions(item: License | ConsentTerms) -> dict[str, Any]:
    return {
        "commercialUse": item.commercial_use,
        "aiTraining": item.ai_training,
        "redistribution": item.redistribution,
        "derivatives": item.derivatives,
    }


def _withdrawal_json(withdrawal: ConsentWithdrawal) -> dict[str, Any]:
    job = getattr(withdrawal, "rerelease", None)
    told, acknowledged = getattr(withdrawal, "told", None), getattr(withdrawal, "acknowledged", None)
    if told is None or acknowledged is None:  # not annotated by contributions_of: a new withdrawal
        told = withdrawal.notices.count()
        acknowledged = withdrawal.notices.filter(acknowledged_at__isnull=False).count()
    return {
        "id": withdrawal.id,
        "withdrawnAt": withdrawal.created_at.isoformat(),
        "version": withdrawal.version.number,
        "reason": withdrawal.reason,
        "recordIds": withdrawal.record_ids,
        "rerelease": releases.rerelease_json(job) if job is not None else None,
        "licenseesNotified": told,
        "licenseesAcknowledged": acknowledged,
    }


def _claim_json(claim: ContributorClaim) -> dict[str, Any]:
    return {
        "organization": {"slug": claim.organization.slug, "name": claim.organization.name},
        "contributorId": claim.contributor_id or None,
        "payeeEmail": claim.payee_email or None,
        "claimedAt": claim.claimed_at.isoformat() if claim.claimed_at else None,
    }


def _contribution_json(request: Request, item: contributions.Contribution) -> dict[str, Any]:
    terms, license_ = item.record.terms, item.license
    return {
        "organization": {"slug": item.dataset.organization.slug, "name": item.dataset.organization.name},
        "contributorId": item.claim.contributor_id,
        "datasetId": item.dataset.id,
        "datasetName": item.dataset.name,
        "datasetUrl": request.build_absolute_uri(reverse("dataset-detail", args=[item.dataset.slug])),
        "versions": [
            {
                "number": state.version.number,
                "publishedAt": state.version.published_at.isoformat() if state.version.published_at else None,
                "sha256": state.version.sha256,
                "withdrawn": state.withdrawn,
                "replacementVersion": state.replacement.number if state.replacement else None,
            }
            for state in item.versions
        ],
        "consent": {
            "text": terms.consent_text,
            "sha256": terms.consent_text_sha256,
            "givenAt": item.record.given_at.isoformat(),
            "researchOnly": terms.research_only,
            "scope": terms.scope_text,
            "collectionStart": terms.collection_start.isoformat(),
            "collectionEnd": terms.collection_end.isoformat(),
            "withdrawalProcess": terms.withdrawal_process,
            "permissions": _permissions(terms),
        },
        "license": {
            "id": license_.abbreviation,
            "name": license_.name,
            "url": license_.url,
            "permissions": _permissions(license_),
        },
        "usage": [
            {"month": row.month.strftime("%Y-%m"), "licensees": row.licensees, "downloads": row.downloads}
            for row in item.usage
        ],
        "withdrawals": [_withdrawal_json(withdrawal) for withdrawal in item.withdrawals],
    }


class MyContributionsApi(_Signed):
    """Every dataset and version holding the caller's records, with the consent they gave, the
    license, usage per month (never who) and their withdrawals."""

    @extend_schema(responses={200: shapes.ContributionsShape, **schema.errors()})
    def get(self, request: Request) -> Response:
        user = request_user(request)
        return Response(
            {
                "claims": [_claim_json(claim) for claim in claims.held_by(user)],
                "items": [_contribution_json(request, item) for item in contributions.contributions_of(user)],
                "earnings": request.build_absolute_uri(reverse("api-me-earnings")),
                "payoutDetailsSet": PayoutDetails.objects.filter(user=user).exists(),
            }
        )


class MyWithdrawalsApi(_Signed):
    """Withdraw the caller's consent: ``{"datasetId": optional, "reason": optional}``."""

    required_scope = "upload"

    @extend_schema(
        request=shapes.SelfWithdrawalInputShape,
        responses={201: shapes.SelfWithdrawalListShape, **schema.errors(400)},
    )
    def post(self, request: Request) -> Response:
        body = request_body(request)
        dataset_id = body.get("datasetId")
        if dataset_id is not None and not isinstance(dataset_id, str):
            raise exceptions.ValidationError({"datasetId": ["must be a dataset id"]})
        made = withdrawing.withdraw_myself(
            user=request_user(request), dataset_id=dataset_id, reason=string_field(body, "reason", required=False)
        )
        return Response({"items": [_withdrawal_json(w) for w in made]}, status=status.HTTP_201_CREATED)


class ClaimAcceptApi(_Signed):
    """Claim a link for the caller's account: ``{"token": "..."}``."""

    required_scope = "upload"

    @extend_schema(request=shapes.ClaimAcceptInputShape, responses={200: shapes.ClaimShape, **schema.errors(400)})
    def post(self, request: Request) -> Response:
        token = string_field(request_body(request), "token")
        return Response(_claim_json(claims.accept_claim(token=token.strip(), user=request_user(request))))


class OrganizationClaimsApi(_Signed):
    """An owner or admin makes a claim link: ``{"contributorId", "payeeEmail", "sendTo"}``."""

    required_scope = "upload"

    @extend_schema(
        request=shapes.ClaimLinkInputShape, responses={201: shapes.ClaimLinkShape, **schema.errors(400, 403, 404)}
    )
    def post(self, request: Request, slug: str) -> Response:
        organization = get_object_or_404(Organization, slug=slug)
        body = request_body(request)
        claim, link = claims.issue_claim(
            organization=organization,
            by=request_user(request),
            contributor_id=string_field(body, "contributorId", required=False),
            payee_email=string_field(body, "payeeEmail", required=False),
            send_to=string_field(body, "sendTo", required=False),
            claim_url=lambda token: request.build_absolute_uri(reverse("claim", args=[token])),
        )
        return Response(
            {"id": claim.id, "link": link, "expiresAt": claim.expires_at.isoformat()}, status=status.HTTP_201_CREATED
        )
