"""Limits on password guessing and account creation through the pages.

Failed sign-ins are counted per account name and per client address in fixed windows
(``LOGIN_FAILURE_WINDOW_SECONDS``); once either count reaches its limit
(``LOGIN_FAILURES_PER_ACCOUNT``, ``LOGIN_FAILURES_PER_IP``) the password is not even checked
until the window ends, so a guesser learns nothing more. A successful sign-in clears the
account's count. New accounts are limited per address (``SIGNUPS_PER_IP_PER_HOUR``). Counters
live in the default cache, as the API's rate limits do: several web processes need a shared
cache (``CACHE_URL``). The client address is REMOTE_ADDR, or with ``REST_FRAMEWORK['NUM_PROXIES']``
the same entry of X-Forwarded-For the API's limiter uses.
"""

from __future__ import annotations

import hashlib
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle


def client_address(request: HttpRequest) -> str:
    return str(BaseThrottle().get_ident(Request(request)))


def _key(kind: str, value: str) -> str:
    return f"sign-in-limit:{kind}:{hashlib.sha256(value.encode()).hexdigest()[:32]}"


def _wait(key: str, limit: int) -> int | None:
    """Seconds until the window of ``key`` ends, when its count has reached ``limit``."""
    count = cache.get(f"{key}:count") or 0
    if count < limit:
        return None
    until = cache.get(f"{key}:until") or time.time() + 1
    return max(1, int(until - time.time()) + 1)


def _count(key: str, window: int) -> None:
    cache.add(f"{key}:until", time.time() + window, window)
    cache.add(f"{key}:count", 0, window)
    try:
        cache.incr(f"{key}:count")
    except ValueError:  # the window ended between add and incr
        cache.set(f"{key}:count", 1, window)


def sign_in_wait(username: str, request: HttpRequest) -> int | None:
    """Seconds before a sign-in as ``username`` from this client is tried again, or None."""
    waits = [
        _wait(_key("account", username.strip().casefold()), settings.LOGIN_FAILURES_PER_ACCOUNT),
        _wait(_key("ip", client_address(request)), settings.LOGIN_FAILURES_PER_IP),
    ]
    found = [wait for wait in waits if wait is not None]
    return max(found) if found else None


def record_failed_sign_in(username: str, request: HttpRequest) -> None:
    window = settings.LOGIN_FAILURE_WINDOW_SECONDS
    _count(_key("account", username.strip().casefold()), window)
    _count(_key("ip", client_address(request)), window)


def forget_failed_sign_ins(username: str) -> None:
    key = _key("account", username.strip().casefold())
    cache.delete_many([f"{key}:count", f"{key}:until"])


def sign_up_wait(request: HttpRequest) -> int | None:
    return _wait(_key("signup", client_address(request)), settings.SIGNUPS_PER_IP_PER_HOUR)


def record_sign_up(request: HttpRequest) -> None:
    _count(_key("signup", client_address(request)), 3600)
