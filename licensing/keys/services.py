"""API keys: create, revoke, and use one to authenticate (writes)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from licensing.models import ApiKey
from marketplace.models import User

API_KEY_PREFIX = "dck_"
# last_used_at is written at most once a minute per key, not on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def hash_api_key(raw_key: str) -> str:
    # Keys carry 256 random bits, so a plain SHA-256 cannot be brute-forced (as GitHub tokens).
    return hashlib.sha256(raw_key.encode("utf-8")).hexdigest()


def create_api_key(
    *, user: User, name: str, scopes: list[str], expires_at: datetime | None = None
) -> tuple[ApiKey, str]:
    """Create a key and return it with its raw value, which is never stored and shown once."""
    now = timezone.now()
    errors: dict[str, str] = {}
    name = name.strip()
    if not name:
        errors["name"] = "Give the key a name, so you can tell it apart later."
    elif len(name) > 100:
        errors["name"] = "The name is longer than 100 characters."
    known = {choice.value for choice in ApiKey.Scope}
    unknown = sorted(set(scopes) - known)
    if not scopes:
        errors["scopes"] = "Choose at least one scope: " + ", ".join(sorted(known)) + "."
    elif unknown:
        errors["scopes"] = f"Unknown scope {', '.join(unknown)}; use {', '.join(sorted(known))}."
    if expires_at is None:
        expires_at = now + settings.API_KEY_DEFAULT_EXPIRY
    elif expires_at <= now:
        errors["expires_at"] = "The expiry must be in the future."
    elif expires_at > now + settings.API_KEY_MAX_EXPIRY:
        errors["expires_at"] = f"Keys expire within {settings.API_KEY_MAX_EXPIRY.days} days at most."
    if errors:
        raise ValidationError(errors)
    raw_key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    api_key = ApiKey.objects.create(
        user=user,
        name=name,
        prefix=raw_key[: len(API_KEY_PREFIX) + 8],
        key_hash=hash_api_key(raw_key),
        scopes=sorted(set(scopes)),
        created_at=now,
        expires_at=expires_at,
    )
    return api_key, raw_key


def revoke_api_key(*, user: User, api_key_id: int) -> ApiKey:
    """Revoke one of the user's own keys; revoking twice keeps the first time."""
    api_key = ApiKey.objects.get(id=api_key_id, user=user)
    ApiKey.objects.filter(id=api_key.id, revoked_at__isnull=True).update(revoked_at=timezone.now())
    api_key.refresh_from_db()
    return api_key


class ApiKeyRefused(Exception):
    """The key is unknown, expired or revoked; the message says which."""


def use_api_key(*, raw_key: str) -> ApiKey:
    """The active key for ``raw_key``, with its user; records when it was last used."""
    try:
        api_key = ApiKey.objects.select_related("user").get(key_hash=hash_api_key(raw_key))
    except ApiKey.DoesNotExist:
        raise ApiKeyRefused("Invalid API key.") from None
    now = timezone.now()
    if api_key.revoked_at is not None:
        raise ApiKeyRefused("This API key was revoked.")
    if api_key.expires_at <= now:
        raise ApiKeyRefused("This API key expired; create a new one on your account page.")
    if not api_key.user.is_active:
        raise ApiKeyRefused("The account of this API key is disabled.")
    if api_key.last_used_at is None or api_key.last_used_at < now - LAST_USED_RESOLUTION:
        ApiKey.objects.filter(id=api_key.id).update(last_used_at=now)
        api_key.last_used_at = now
    return api_key
