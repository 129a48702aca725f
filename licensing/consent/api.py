"""The API of consent withdrawals (/api/v1/): withdraw consent for records of a version, and the
removal feed licensees read to know what to delete."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from licensing import schema
from licensing.api_common import DatasetScopedApi, request_body, request_user, string_field
from licensing.consent import releases, withdrawals
from licensing.keys.authentication import HasScope
from licensing.models import RemovalNotice


class WithdrawalApi(DatasetScopedApi):
    """A contributor, or an owner or admin on their behalf, withdraws consent for records of a
    version: ``{"version": n, "recordIds": [...], "fileHashes": [...], "contributorId", "reason"}``."""

    @extend_schema(request=schema.WithdrawalInputShape, responses={201: schema.WithdrawalShape, **schema.errors(410)})
    def post(self, request: Request, dataset_id: str) -> Response:
        dataset = self.dataset(request, dataset_id)
        body = request_body(request)
        number = body.get("version")
        if not isinstance(number, int) or isinstance(number, bool):
            raise exceptions.ValidationError({"version": ["must be a version number"]})
        withdrawal = withdrawals.withdraw_consent(
            by=request_user(request),
            dataset=dataset,
            version_number=number,
            record_ids=body.get("recordIds"),
            file_hashes=body.get("fileHashes"),
            contributor_id=string_field(body, "contributorId", required=False),
            reason=string_field(body, "reason", required=False),
        )
        return Response(
            {
                "id": withdrawal.id,
                "version": number,
                "withdrawnAt": withdrawal.created_at.isoformat(),
                "rerelease": releases.rerelease_json(withdrawal.rerelease),
                "removals": request.build_absolute_uri(reverse("api-dataset-removals", args=[dataset.id])),
            },
            status=status.HTTP_201_CREATED,
        )


class RemovalFeedApi(DatasetScopedApi):
    """What licensees must delete: every withdrawal's record ids and file hashes, with times."""

    permission_classes = [AllowAny]

    @extend_schema(responses={200: schema.RemovalFeedShape, **schema.errors(410)})
    def get(self, request: Request, dataset_id: str) -> Response:
        dataset = self.dataset(request, dataset_id)
        return Response({"datasetId": dataset.id, "items": withdrawals.removal_feed(dataset)})


class RereleaseListApi(DatasetScopedApi):
    """The dataset's re-releases after consent withdrawals, newest first (owners and admins)."""

    required_scope = "read"

    @extend_schema(responses={200: schema.RereleaseListShape, **schema.errors(403, 410)})
    def get(self, request: Request, dataset_id: str) -> Response:
        dataset = self.dataset(request, dataset_id)
        jobs = withdrawals.rereleases(by=request_user(request), dataset=dataset)
        return Response({"datasetId": dataset.id, "items": [releases.rerelease_json(job) for job in jobs]})


class AcknowledgementApi(DatasetScopedApi):
    """The licensee says they deleted the records of a withdrawal they were told of."""

    required_scope = "read"

    @extend_schema(request=None, responses={200: schema.AcknowledgementShape, **schema.errors(404, 410)})
    def post(self, request: Request, dataset_id: str, withdrawal_id: int) -> Response:
        dataset = self.dataset(request, dataset_id)
        notices = withdrawals.acknowledge_removal(
            user=request_user(request), dataset=dataset, withdrawal_id=withdrawal_id
        )
        first = min(notice.acknowledged_at for notice in notices if notice.acknowledged_at)
        return Response({"withdrawalId": withdrawal_id, "acknowledgedAt": first.isoformat()})


class AcknowledgementListApi(DatasetScopedApi):
    """Who was told of a withdrawal and who acknowledged deleting the records (owners and admins)."""

    required_scope = "read"

    @extend_schema(responses={200: schema.AcknowledgementListShape, **schema.errors(403, 404, 410)})
    def get(self, request: Request, dataset_id: str, withdrawal_id: int) -> Response:
        dataset = self.dataset(request, dataset_id)
        withdrawal, notices = withdrawals.acknowledgements(
            by=request_user(request), dataset=dataset, withdrawal_id=withdrawal_id
        )
        return Response(
            {
                "withdrawalId": withdrawal.id,
                "notified": len(notices),
                "acknowledged": sum(1 for notice in notices if notice.acknowledged_at),
                "items": [
                    {
                        "username": notice.user.username,
                        "email": notice.user.email,
                        "version": notice.version.number,
                        "notifiedAt": notice.notified_at.isoformat(),
                        "acknowledgedAt": notice.acknowledged_at.isoformat() if notice.acknowledged_at else None,
                    }
                    for notice in notices
                ],
            }
        )


class MyNoticesApi(APIView):
    """The removal notices the caller received: withdrawals from versions they downloaded."""

    permission_classes = [IsAuthenticated, HasScope]
    required_scope = "read"

    @extend_schema(responses={200: schema.NoticeListShape, **schema.errors()})
    def get(self, request: Request) -> Response:
        return Response(
            {"items": [_notice_json(request, notice) for notice in withdrawals.notices_for(request_user(request))]}
        )


def _notice_json(request: Request, notice: RemovalNotice) -> dict[str, object]:
    dataset = notice.withdrawal.dataset
    return {
        "withdrawalId": notice.withdrawal_id,
        "datasetId": dataset.id,
        "datasetName": dataset.name,
        "version": notice.version.number,
        "notifiedAt": notice.notified_at.isoformat(),
        "acknowledgedAt": notice.acknowledged_at.isoformat() if notice.acknowledged_at else None,
        "removals": request.build_absolute_uri(reverse("api-dataset-removals", args=[dataset.id])),
        "acknowledgement": request.build_absolute_uri(
            reverse("api-removal-acknowledgement", args=[dataset.id, notice.withdrawal_id])
        ),
    }
