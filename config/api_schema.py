"""How the OpenAPI schema (drf-spectacular) describes the answers every API view shares.

Each view declares its own successes and the refusals only it makes (402, 409, 410, ...). The
refusals that come from the machinery around the views are added here, from the same classes that
produce them, so that the schema cannot forget one: 401 from our API-key authentication (a missing,
malformed, expired or revoked key), 403 from a key that lacks the view's scope, 404 from a path
that names nothing or a cursor that does not decode, 400 from a body that does not parse or a URL
with a NUL character, 429 with ``Retry-After`` from the rate limits, 503 with ``Retry-After`` when
the database or object storage cannot be reached. All of them carry the error body of
config/api_errors.py.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers
from rest_framework.pagination import CursorPagination

# Every API error (config/api_errors.py): one sentence, twice, as the MDC SDK reads either. Built
# from a dict: a declared field named `errors` would hide Serializer.errors.
ErrorShape = inline_serializer(
    "Error",
    {
        "error": serializers.CharField(),
        "message": serializers.CharField(),
        "errors": serializers.JSONField(required=False, help_text="Per-field messages of a validation error."),
    },
)


RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before the next request.",
        "required": True,
        "schema": {"type": "integer", "minimum": 0},
    }
}


class AutoSchema(SpectacularAutoSchema):
    def shared_error_codes(self) -> set[int]:
        from licensing.authentication import ApiKeyAuthentication, HasScope

        codes: set[int] = set()
        if any(isinstance(a, ApiKeyAuthentication) for a in self.view.get_authenticators()):
            codes.add(401)
        if any(isinstance(p, HasScope) for p in self.view.get_permissions()):
            codes.add(403)
        paginator = self._get_paginator()
        if "{" in self.path or isinstance(paginator, CursorPagination):
            codes.add(404)
        codes.add(400)  # a NUL character in the URL (config/middleware.py) or a body that does not parse
        if self.view.get_throttles():
            codes.add(429)
        codes.add(503)  # the database or storage is down (config/api_errors.py)
        return codes

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for code in sorted(self.shared_error_codes()):
            if str(code) not in responses:
                responses[str(code)] = self._get_response_for_code(ErrorShape, str(code), direction=direction)
        for retried in ("429", "503"):
            if retried in responses:
                responses[retried].setdefault("headers", {}).update(RETRY_AFTER)
        return responses
