"""API rate limits: per API key for key-authenticated calls, per client IP for the rest.

Answered 429 with ``Retry-After`` (DRF's ``Throttled``). The rates are read from the settings on
every request (``API_RATE_PER_KEY``, ``API_RATE_PER_IP``), not frozen at import as DRF's
``DEFAULT_THROTTLE_RATES`` are, so an operator's or a test's value applies at once. Counters live
in the default cache: with several web processes, point ``CACHES`` at a shared cache (Redis) or
each process counts alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from licensing.models import ApiKey

if TYPE_CHECKING:
    from rest_framework.views import APIView


class _SettingsRateThrottle(SimpleRateThrottle):
    setting_name = ""

    def __init__(self) -> None:  # DRF reads the rate in __init__; ours comes from settings
        pass

    def allow_request(self, request: Request, view: APIView) -> bool:
        self.rate = str(getattr(settings, self.setting_name))
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)


class PerKeyRateThrottle(_SettingsRateThrottle):
    scope = "api-key"
    setting_name = "API_RATE_PER_KEY"

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        if not isinstance(request.auth, ApiKey):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.id}


class PerIpRateThrottle(_SettingsRateThrottle):
    scope = "api-ip"
    setting_name = "API_RATE_PER_IP"

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        if isinstance(request.auth, ApiKey):
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
