"""``manage.py create_api_key USERNAME --scope read --scope download``: prints only the key.
``--organization SLUG`` or ``--dataset SLUG`` (repeated) limit it (licensing.keys.limits)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from licensing.keys.services import create_api_key
from licensing.models import ApiKey
from marketplace.models import Dataset, Organization, User


class Command(BaseCommand):
    help = "Create an API key for a user and print it (only the key, on stdout, for scripts)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--scope",
            action="append",
            dest="scopes",
            choices=ApiKey.Scope.values,
            help="repeat for several scopes (default: read)",
        )
        parser.add_argument("--name", default="command line")
        parser.add_argument("--days", type=int, default=None, help="days until it expires (default: 90)")
        parser.add_argument("--organization", default=None, help="limit the key to this organization (its slug)")
        parser.add_argument(
            "--dataset", action="append", dest="datasets", default=[], help="limit the key to this dataset (repeat)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            user = User.objects.get(username=options["username"])
        except User.DoesNotExist:
            raise CommandError(f"No user named {options['username']!r}.") from None
        organization = None
        if options["organization"]:
            organization = Organization.objects.filter(slug=options["organization"]).first()
            if organization is None:
                raise CommandError(f"No organization {options['organization']!r}.")
        datasets = list(Dataset.objects.filter(slug__in=options["datasets"]))
        missing = sorted(set(options["datasets"]) - {dataset.slug for dataset in datasets})
        if missing:
            raise CommandError(f"No dataset {', '.join(missing)}.")
        expires_at = timezone.now() + timedelta(days=options["days"]) if options["days"] is not None else None
        try:
            _, raw_key = create_api_key(
                user=user,
                name=options["name"],
                scopes=options["scopes"] or ["read"],
                expires_at=expires_at,
                organization=organization,
                datasets=datasets,
            )
        except ValidationError as exc:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())) from None
        self.stdout.write(raw_key)
