"""The API's answer to who is calling, and with which key (/api/v1/me)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from licensing.keys.authentication import HasScope
from licensing.keys.limits import dataset_ids
from licensing.models import ApiKey


class MeApi(APIView):
    """Who the caller is, and the key the call was made with, with what it is limited to."""

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
                        "limit": inline_serializer(
                            "MeApiKeyLimit",
                            {
                                "kind": serializers.CharField(help_text="all, organization or datasets"),
                                "organization": serializers.CharField(allow_null=True),
                                "datasets": serializers.ListField(child=serializers.CharField()),
                            },
                        ),
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
                    # What the key reaches (licensing.keys.limits): organization by slug, datasets by id.
                    "limit": {
                        "kind": key.limit,
                        "organization": key.organization.slug if key.organization else None,
                        "datasets": sorted(dataset_ids(key)) if key.limit == ApiKey.Limit.DATASETS else [],
                    },
                },
            }
        )
