"""Print the demo's current second-factor code (what an authenticator app holding DEMO_TOTP_SECRET shows)."""

from __future__ import annotations

import time
from typing import Any

from allauth.mfa import app_settings
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.core.management.base import BaseCommand

from marketplace.demo.people import DEMO_TOTP_SECRET


class Command(BaseCommand):
    help = "Print the current authenticator-app code of the demo's staff, owners, admins and reviewers."

    def handle(self, *args: Any, **options: Any) -> None:
        now = int(time.time())
        code = format_hotp_value(hotp_value(DEMO_TOTP_SECRET, now // app_settings.TOTP_PERIOD))
        left = app_settings.TOTP_PERIOD - now % app_settings.TOTP_PERIOD
        self.stdout.write(f"{code} (for {left} more seconds; each code works once)")
