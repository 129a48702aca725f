"""``manage.py seed_demo``: the demo instance (``marketplace.demo``), then who can log in.

Idempotent: a second run finds everything in place and changes nothing. It prints the demo
logins, which ``make run`` repeats in its banner once the stack serves.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from marketplace.demo.people import DEMO_TOTP_SECRET, FEATURED, ORGANIZATIONS, ROLES, password_of
from marketplace.demo.world import World
from marketplace.models import Dataset, Organization, Submission, User


def logins() -> str:
    """The banner's list: the featured people with their passwords, then every organization's."""
    width = max(len(name) for name in FEATURED) + 1
    lines = [f"  {name:<{width}}/ {password_of(name):<{width + 9}} {what}" for name, what in FEATURED.items()]
    lines.append("  Everyone below logs in with <username>-password too:")
    for organization in ORGANIZATIONS:
        roles = "; ".join(f"{role}s {', '.join(organization.members[role])}" for role in ROLES)
        lines.append(f"  {organization.name}: {roles}")
    lines.append(
        "Second factor (staff, owners, admins, reviewers): put the secret "
        f"{DEMO_TOTP_SECRET} in an authenticator app, or run .venv/bin/python manage.py demo_totp_code"
    )
    lines.append(
        "API keys: .venv/bin/python manage.py create_api_key <username> --scope read --scope download --scope upload"
    )
    return "\n".join(lines)


class Command(BaseCommand):
    help = "Create the demo's users, organizations, submissions, datasets and licensing (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        world = World()
        world.build()
        self.stdout.write(
            f"Demo data ready in {time.monotonic() - started:.1f} s: {User.objects.count()} users, "
            f"{Organization.objects.count()} organizations, {Dataset.objects.count()} datasets, "
            f"{Submission.objects.count()} submissions ({len(world.created)} things new)."
        )
        self.stdout.write("Demo logins:\n" + logins())
