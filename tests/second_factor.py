"""Second factors in tests, through allauth's own API and pages: enroll an authenticator app (TOTP)
for a person, and pass the second-factor step in a client's session with a real code, as a person
with the app would (marketplace/accounts/second_factor.py asks for both before money moves)."""

from __future__ import annotations

import time
from typing import Any

from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value
from django.core.cache import cache
from django.test import Client

# The secret every enrolled test person's authenticator app holds (base32, RFC 4648).
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def enroll_second_factor(user: Any, secret: str = TOTP_SECRET) -> None:
    """Turn on an authenticator app for ``user``, unless one is on already."""
    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(user, secret)


def totp_code(secret: str = TOTP_SECRET, *, step: int = 0) -> str:
    """The code the app shows now (``step`` periods later or earlier)."""
    return format_hotp_value(hotp_value(secret, int(time.time()) // mfa_settings.TOTP_PERIOD + step))


def fresh_code(user: Any, secret: str = TOTP_SECRET) -> str:
    """A code the site still accepts for ``user``: each code works once, and the one before and after
    the current one are accepted too; when all three were used, wait for the next period."""
    while True:
        for step in (0, 1, -1):
            code = totp_code(secret, step=step)
            # Kept in the cache beside allauth's own record of used codes, so both go together.
            if cache.add(f"tests.totp.handed-out:{user.pk}:{code}", True, timeout=3 * mfa_settings.TOTP_PERIOD):
                return code
        time.sleep(1)


def pass_second_factor(client: Client, user: Any) -> None:
    """Sign ``user`` in on ``client`` (if not yet) and confirm with the app's code, as the page
    asks before money moves; enrolls the app first when the person has none."""
    enroll_second_factor(user)
    if client.session.get("_auth_user_id") != str(user.pk):
        client.force_login(user)
    response = client.post("/accounts/2fa/reauthenticate/", {"code": fresh_code(user)})
    assert response.status_code == 302, response.content.decode()[:2000]
