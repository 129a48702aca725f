"""The federation API under /api/v1/: followed peers (staff), the remote datasets they list
(public), the cosignatures this instance made as a witness and the split-view alarms it raised
(public: what a witness saw is useful to everyone)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api_errors import error_body
from config.api_schema import errors
from licensing.keys.authentication import HasScope
from marketplace.permissions import signed_in_user
from provenance.federation import client, following, listing, witnessing
from provenance.models import Cosignature, Peer, RemoteDataset, SplitViewAlarm

MAX_LIMIT = 200


class IsStaff(BasePermission):
    message = "Only staff manage the instances this one follows and witnesses."

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user and request.user.is_staff)


def _error(status: int, code: str, message: str) -> Response:
    body = error_body(message)
    body["error"] = code
    return Response(body, status=status)


def _paging(request: Request) -> tuple[int, int]:
    def number(name: str, default: int) -> int:
        raw = request.query_params.get(name, "")
        if raw == "":
            return default
        if not raw.isdigit() or len(raw) > 9:
            raise ValueError(f"{name} must be a whole number, not {raw!r}")
        return int(raw)

    limit = number("limit", 50)
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit is 1 to {MAX_LIMIT}")
    return limit, number("offset", 0)


def peer_json(peer: Peer) -> dict[str, Any]:
    return {
        "id": peer.id,
        "url": peer.url,
        "name": peer.name,
        "following": peer.following,
        "witnessing": peer.witnessing,
        "collecting": peer.collecting,
        "syncedAt": peer.synced_at,
        "syncError": peer.sync_error,
        "datasetsListed": peer.datasets_listed,
        "datasetsVerified": peer.datasets_verified,
        "witnessedAt": peer.witnessed_at,
        "witnessError": peer.witness_error,
        "collectedAt": peer.collected_at,
        "collectError": peer.collect_error,
        "alarms": peer.alarm_count if hasattr(peer, "alarm_count") else peer.alarms.count(),
    }


# --- Shapes (describe only) and inputs ------------------------------------------------------------


class PeerShape(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.URLField()
    name = serializers.CharField()
    following = serializers.BooleanField()
    witnessing = serializers.BooleanField()
    collecting = serializers.BooleanField()
    syncedAt = serializers.DateTimeField(allow_null=True)  # noqa: N815
    syncError = serializers.CharField(help_text="Why the last sync failed, in words; empty when it worked.")  # noqa: N815
    datasetsListed = serializers.IntegerField()  # noqa: N815
    datasetsVerified = serializers.IntegerField()  # noqa: N815
    witnessedAt = serializers.DateTimeField(allow_null=True)  # noqa: N815
    witnessError = serializers.CharField()  # noqa: N815
    collectedAt = serializers.DateTimeField(allow_null=True)  # noqa: N815
    collectError = serializers.CharField()  # noqa: N815
    alarms = serializers.IntegerField(help_text="Split-view alarms raised about it.")


class PeerListShape(serializers.Serializer):
    peers = PeerShape(many=True)


class PeerInput(serializers.Serializer):
    url = serializers.CharField(max_length=300)
    following = serializers.BooleanField(required=False, default=False)
    witnessing = serializers.BooleanField(required=False, default=False)
    collecting = serializers.BooleanField(required=False, default=False)


class PeerRolesInput(serializers.Serializer):
    following = serializers.BooleanField(required=False)
    witnessing = serializers.BooleanField(required=False)
    collecting = serializers.BooleanField(required=False)


class RemoteDatasetShape(serializers.Serializer):
    origin = serializers.URLField(help_text="The instance it comes from.")
    originName = serializers.CharField()  # noqa: N815
    originId = serializers.CharField(help_text="Its id at the origin.")  # noqa: N815
    name = serializers.CharField()
    description = serializers.CharField()
    publisher = serializers.CharField()
    license = serializers.CharField()
    version = serializers.IntegerField(allow_null=True)
    sizeBytes = serializers.IntegerField(allow_null=True)  # noqa: N815
    archiveSha256 = serializers.CharField()  # noqa: N815
    manifestSha256 = serializers.CharField()  # noqa: N815
    pageUrl = serializers.URLField(help_text="Its page at the origin, where it is licensed and downloaded.")  # noqa: N815
    verified = serializers.BooleanField()
    reason = serializers.CharField(help_text="Why it is not verified; empty when it is.")
    gone = serializers.BooleanField()
    checkedAt = serializers.DateTimeField()  # noqa: N815


class RemoteDatasetListShape(serializers.Serializer):
    total = serializers.IntegerField()
    items = RemoteDatasetShape(many=True)


class CosignatureShape(serializers.Serializer):
    origin = serializers.CharField(help_text="The checkpoint origin: the instance's URL without scheme.")
    originUrl = serializers.URLField()  # noqa: N815
    treeSize = serializers.IntegerField()  # noqa: N815
    rootHash = serializers.CharField()  # noqa: N815
    timestamp = serializers.IntegerField(help_text="When it was cosigned, seconds since the epoch (signed).")
    witnessKeyId = serializers.CharField()  # noqa: N815
    originKeyId = serializers.CharField()  # noqa: N815
    algorithm = serializers.CharField()
    signature = serializers.CharField(help_text="Base64 Ed25519 over cosignature/v1, time and checkpoint.")
    treeHead = serializers.JSONField(help_text="The origin's signed tree head (DSSE envelope).")  # noqa: N815


class CosignatureListShape(serializers.Serializer):
    cosignatures = CosignatureShape(many=True)


class AlarmShape(serializers.Serializer):
    id = serializers.IntegerField()
    origin = serializers.URLField()
    kind = serializers.CharField()
    role = serializers.CharField()
    message = serializers.CharField()
    firstHead = serializers.JSONField(help_text="The earlier signed head.")  # noqa: N815
    secondHead = serializers.JSONField(help_text="The signed head that contradicts it.")  # noqa: N815
    proof = serializers.JSONField(allow_null=True)
    createdAt = serializers.DateTimeField()  # noqa: N815


class AlarmListShape(serializers.Serializer):
    alarms = AlarmShape(many=True)


PAGING = [
    OpenApiParameter("limit", int, description=f"At most {MAX_LIMIT} (default 50)."),
    OpenApiParameter("offset", int, description="Items to skip (default 0)."),
]


# --- Staff: peers ---------------------------------------------------------------------------------


class StaffApi(APIView):
    permission_classes = [IsAuthenticated, HasScope, IsStaff]
    required_scope = "read"


class PeerListApi(StaffApi):
    """The instances this one follows, witnesses or collects cosignatures from (staff)."""

    @extend_schema(operation_id="federation_peers_list", responses={200: PeerListShape, **errors(403)})
    def get(self, request: Request) -> Response:
        return Response({"peers": [peer_json(peer) for peer in listing.peers()]})

    @extend_schema(request=PeerInput, responses={201: PeerShape, **errors(403)})
    def post(self, request: Request) -> Response:
        """Follow (list its catalog), witness (cosign its heads) or collect from (it witnesses us) an
        instance by its base URL. The first sync runs on the next beat, or ``manage.py sync_peers``."""
        data = PeerInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            peer = following.add_peer(
                url=data.validated_data["url"],
                by=signed_in_user(request),
                following=data.validated_data["following"],
                witnessing=data.validated_data["witnessing"],
                collecting=data.validated_data["collecting"],
            )
        except client.PeerError as exc:
            return _error(400, "bad_request", f"{exc}.")
        following.schedule_run(peer=peer)
        return Response(peer_json(peer), status=201)


class PeerDetailApi(StaffApi):
    @extend_schema(operation_id="federation_peer_retrieve", responses={200: PeerShape, **errors(403, 404)})
    def get(self, request: Request, peer_id: int) -> Response:
        peer = Peer.objects.filter(id=peer_id).first()
        if peer is None:
            return _error(404, "not_found", _("No peer %(peer_id)s.") % {"peer_id": peer_id})
        return Response(peer_json(peer))

    @extend_schema(request=PeerRolesInput, responses={200: PeerShape, **errors(403, 404)})
    def patch(self, request: Request, peer_id: int) -> Response:
        """Turn following, witnessing or collecting on or off (false unfollows)."""
        peer = Peer.objects.filter(id=peer_id).first()
        if peer is None:
            return _error(404, "not_found", _("No peer %(peer_id)s.") % {"peer_id": peer_id})
        data = PeerRolesInput(data=request.data)
        data.is_valid(raise_exception=True)
        peer = following.set_roles(peer=peer, **data.validated_data)
        return Response(peer_json(peer))


class PeerSyncApi(StaffApi):
    @extend_schema(request=None, responses={202: PeerShape, **errors(403, 404)})
    def post(self, request: Request, peer_id: int) -> Response:
        """Queue a sync (and a witness round, a collection) of the peer now."""
        peer = Peer.objects.filter(id=peer_id).first()
        if peer is None:
            return _error(404, "not_found", _("No peer %(peer_id)s.") % {"peer_id": peer_id})
        following.schedule_run(peer=peer)
        return Response(peer_json(peer), status=202)


# --- Public: remote datasets, cosignatures, alarms -----------------------------------------------


def remote_json(item: RemoteDataset) -> dict[str, Any]:
    return {
        "origin": item.peer.url,
        "originName": item.peer.name or item.peer.url,
        "originId": item.origin_id,
        "name": item.name,
        "description": item.description,
        "publisher": item.publisher,
        "license": item.license,
        "version": item.version,
        "sizeBytes": item.size_bytes,
        "archiveSha256": item.archive_sha256,
        "manifestSha256": item.manifest_sha256,
        "pageUrl": item.page_url,
        "verified": item.verified,
        "reason": item.reason,
        "gone": item.gone,
        "checkedAt": item.checked_at,
    }


class RemoteDatasetListApi(APIView):
    """Datasets of the instances this one follows, each with whether it verified (and why not).
    Their pages and downloads are at the origin (``pageUrl``); this instance never serves their bytes."""

    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[
            OpenApiParameter("q", str, description="Words that must each appear in the name or description."),
            OpenApiParameter("origin", str, description="Only this followed instance's (its base URL)."),
            OpenApiParameter("verified", str, enum=["true", "false"]),
            *PAGING,
        ],
        responses={200: RemoteDatasetListShape, **errors(400)},
    )
    def get(self, request: Request) -> Response:
        try:
            limit, offset = _paging(request)
        except ValueError as exc:
            return _error(400, "bad_request", f"{exc}.")
        verified = request.query_params.get("verified", "")
        if verified not in ("", "true", "false"):
            return _error(400, "bad_request", _("verified is true or false."))
        rows = listing.listed_remote(
            q=request.query_params.get("q", ""), origin=request.query_params.get("origin", ""), verified=verified
        )
        items = [remote_json(item) for item in rows[offset : offset + limit]]
        return Response({"total": rows.count(), "items": items})


class CosignatureListApi(APIView):
    """The cosignatures this instance made as a witness, newest first; check one offline with
    ``python -m provenance.verify cosignature``."""

    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[
            OpenApiParameter("origin", str, description="The witnessed instance: its URL or checkpoint origin."),
            OpenApiParameter("originKeyId", str, description="Only heads signed by this key of the origin."),
            *PAGING,
        ],
        responses={200: CosignatureListShape, **errors(400)},
    )
    def get(self, request: Request) -> Response:
        try:
            limit, offset = _paging(request)
        except ValueError as exc:
            return _error(400, "bad_request", f"{exc}.")
        rows = Cosignature.objects.select_related("peer").order_by("-tree_size", "-id")
        if origin := request.query_params.get("origin", ""):
            rows = rows.filter(origin=witnessing.checkpoint_origin(origin))
        if key := request.query_params.get("originKeyId", ""):
            rows = rows.filter(origin_key_id=key)
        return Response({"cosignatures": [witnessing.cosignature_json(row) for row in rows[offset : offset + limit]]})


def alarm_json(alarm: SplitViewAlarm) -> dict[str, Any]:
    return {
        "id": alarm.id,
        "origin": alarm.peer.url,
        "kind": alarm.kind,
        "role": alarm.role,
        "message": alarm.message,
        "firstHead": alarm.first_head,
        "secondHead": alarm.second_head,
        "proof": alarm.proof,
        "createdAt": alarm.created_at,
    }


class AlarmListApi(APIView):
    """Split-view alarms: a followed or witnessed instance signed two different histories. Each
    carries both signed heads, which anyone can check against that instance's keys."""

    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[OpenApiParameter("origin", str, description="Only about this instance (its base URL)."), *PAGING],
        responses={200: AlarmListShape, **errors(400)},
    )
    def get(self, request: Request) -> Response:
        try:
            limit, offset = _paging(request)
        except ValueError as exc:
            return _error(400, "bad_request", f"{exc}.")
        rows = listing.alarms()
        if origin := request.query_params.get("origin", ""):
            rows = rows.filter(peer__url=origin.rstrip("/"))
        return Response({"alarms": [alarm_json(row) for row in rows[offset : offset + limit]]})
