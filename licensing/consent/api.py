"""The API of consent withdrawals (/api/v1/): withdraw consent for records of a version, and the
removal feed licensees read to know what to delete."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from licensing import schema
from licensing.api_common import DatasetScopedApi, request_body, request_user, string_field
from licensing.consent import withdrawals


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
