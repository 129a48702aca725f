"""API keys: create, revoke, and use one to authenticate (writes)."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from licensing.models import ApiKey
from marketplace.catalog.visibility import visible_datasets
from marketplace.models import Dataset, Membership, Organization, User

API_KEY_PREFIX = "dck_"
# last_used_at is written at most once a minute per key, not on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)
# A key limited to more datasets than this is better limited to their organization.
MAX_KEY_DATASETS = 100


def hash_api_key(raw_key: str) -> str:
    # Keys carry 256 random bits, so a plain SHA-256 cannot be brute-forced (as GitHub tokens).
    return hashlib.sha256(raw_key.encode("utf-8")).hexdigest()


@transaction.atomic
def create_api_key(
    *,
    user: User,
    name: str,
    scopes: list[str],
    expires_at: datetime | None = None,
    organization: Organization | None = None,
    datasets: Sequence[Dataset] = (),
) -> tuple[ApiKey, str]:
    """Create a key and return it with its raw value, which is never stored and shown once.

    With ``organization``, the key acts only on that organization (of which the user must be a
    member) and its datasets; with ``datasets``, only on those (each one the user can see);
    with neither, on everything the user may do. See licensing.keys.limits."""
    now = timezone.now()
    errors: dict[str, str] = {}
    name = name.strip()
    if not name:
        errors["name"] = _("Give the key a name, so you can tell it apart later.")
    elif len(name) > 100:
        errors["name"] = _("The name is longer than 100 characters.")
    known = {choice.value for choice in ApiKey.Scope}
    unknown = sorted(set(scopes) - known)
    if not scopes:
        errors["scopes"] = _("Choose at least one scope: %(scopes)s.") % {"scopes": ", ".join(sorted(known))}
    elif unknown:
        errors["scopes"] = _("Unknown scope %(unknown)s; use %(known)s.") % {
            "unknown": ", ".join(unknown),
            "known": ", ".join(sorted(known)),
        }
    if expires_at is None:
        expires_at = now + settings.API_KEY_DEFAULT_EXPIRY
    elif expires_at <= now:
        errors["expires_at"] = _("The expiry must be in the future.")
    elif expires_at > now + settings.API_KEY_MAX_EXPIRY:
        errors["expires_at"] = _("Keys expire within %(days)d days at most.") % {
            "days": settings.API_KEY_MAX_EXPIRY.days
        }
    limit_error = _limit_problem(user=user, organization=organization, datasets=datasets)
    if limit_error:
        errors["limit"] = limit_error
    if errors:
        raise ValidationError(errors)
    raw_key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    if organization is not None:
        limit = ApiKey.Limit.ORGANIZATION
    elif datasets:
        limit = ApiKey.Limit.DATASETS
    else:
        limit = ApiKey.Limit.ALL
    api_key = ApiKey.objects.create(
        user=user,
        name=name,
        prefix=raw_key[: len(API_KEY_PREFIX) + 8],
        key_hash=hash_api_key(raw_key),
        scopes=sorted(set(scopes)),
        created_at=now,
        expires_at=expires_at,
        limit=limit,
        organization=organization,
    )
    if datasets:
        api_key.datasets.set(datasets)
    return api_key, raw_key


def _limit_problem(*, user: User, organization: Organization | None, datasets: Sequence[Dataset]) -> str:
    """Why the key cannot be limited so, in words; empty when it can."""
    if organization is not None and datasets:
        return _("Limit the key either to one organization or to some datasets, not both.")
    if organization is not None and not Membership.objects.filter(user=user, organization=organization).exists():
        return _("You are not a member of %(organization)s, so a key cannot act for it.") % {
            "organization": organization.name
        }
    if len(datasets) > MAX_KEY_DATASETS:
        return _("A key can be limited to %(max)d datasets at most; limit it to their organization instead.") % {
            "max": MAX_KEY_DATASETS
        }
    wanted = {dataset.id for dataset in datasets}
    reachable = set(visible_datasets(user=user).filter(id__in=wanted).values_list("id", flat=True))
    unreachable = sorted(dataset.slug for dataset in datasets if dataset.id not in reachable)
    if unreachable:
        return ngettext(
            "You cannot reach the dataset %(names)s, so a key cannot be limited to it.",
            "You cannot reach the datasets %(names)s, so a key cannot be limited to them.",
            len(unreachable),
        ) % {"names": ", ".join(unreachable)}
    return ""


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
        api_key = ApiKey.objects.select_related("user", "organization").get(key_hash=hash_api_key(raw_key))
    except ApiKey.DoesNotExist:
        raise ApiKeyRefused(_("Invalid API key.")) from None
    now = timezone.now()
    if api_key.revoked_at is not None:
        raise ApiKeyRefused(_("This API key was revoked."))
    if api_key.expires_at <= now:
        raise ApiKeyRefused(_("This API key expired; create a new one on your account page."))
    if not api_key.user.is_active:
        raise ApiKeyRefused(_("The account of this API key is disabled."))
    if api_key.last_used_at is None or api_key.last_used_at < now - LAST_USED_RESOLUTION:
        ApiKey.objects.filter(id=api_key.id).update(last_used_at=now)
        api_key.last_used_at = now
    return api_key
