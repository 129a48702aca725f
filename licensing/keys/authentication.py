"""``Authorization: Bearer <key>`` for the API, HTTP Basic with the key as password where a client
can send nothing else (mlcroissant fetching a Croissant ``contentUrl``), and the scope a view requires.

Both authentication classes also apply the key's limit (licensing.keys.limits.check_request) as
soon as the key is known: every API view authenticates, whatever its permission classes, so a view
cannot forget the limit. A public read outside the limit goes on as if no key was sent."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rest_framework import authentication, exceptions, permissions
from rest_framework.request import Request

if TYPE_CHECKING:  # rest_framework.views imports this module through the settings
    from rest_framework.views import APIView

from django.utils.translation import gettext

from licensing.keys.limits import check_request
from licensing.keys.services import ApiKeyRefused, use_api_key
from licensing.models import ApiKey


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[Any, ApiKey] | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _, raw_key = header.partition(" ")
        if scheme.lower() != self.keyword.lower():
            return None
        raw_key = raw_key.strip()
        if not raw_key or " " in raw_key:
            raise exceptions.AuthenticationFailed(gettext("Malformed Authorization header: use 'Bearer <API key>'."))
        try:
            api_key = use_api_key(raw_key=raw_key)
        except ApiKeyRefused as exc:
            raise exceptions.AuthenticationFailed(str(exc)) from None
        if not check_request(api_key, request):
            return None
        return api_key.user, api_key

    def authenticate_header(self, request: Request) -> str:
        # Makes DRF answer 401 (not 403) with WWW-Authenticate when no credentials are given.
        return f'{self.keyword} realm="api"'


class ApiKeyBasicAuthentication(authentication.BasicAuthentication):
    """``Authorization: Basic`` (RFC 7617) whose password is an API key; the user name is not read
    (mlcroissant needs one: its ``CROISSANT_BASIC_AUTH_USERNAME``). Only for the few GET routes that
    plain HTTP clients fetch, never instead of Bearer across the API."""

    def authenticate_credentials(  # type: ignore[override]  # the stubs say the auth is None: ours is the key
        self, userid: str, password: str, request: Any = None
    ) -> tuple[Any, ApiKey] | None:
        try:
            api_key = use_api_key(raw_key=password)
        except ApiKeyRefused as exc:
            raise exceptions.AuthenticationFailed(str(exc)) from None
        if request is not None and not check_request(api_key, request):
            return None
        return api_key.user, api_key


class HasScope(permissions.BasePermission):
    """Key-authenticated requests need the view's ``required_scope``; browser sessions pass."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        required = getattr(view, "required_scope", None)
        if required is None or not isinstance(request.auth, ApiKey):
            return True
        if required in request.auth.scopes:
            return True
        self.message = f"This API key lacks the '{required}' scope."
        return False
