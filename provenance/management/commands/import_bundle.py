"""``manage.py import_bundle BUNDLE --owner USERNAME``: import an organization another instance
exported, from a file on this machine, at once (the API queues the same import for the worker)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from marketplace.models import User
from provenance import imports
from provenance.models import OrganizationImport


class Command(BaseCommand):
    help = "Import an organization's signed bundle, exported by another instance, into a new organization."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("bundle", type=Path, help="the .tar.gz the other instance's export gave")
        parser.add_argument("--owner", required=True, help="username here of the organization's owner")
        parser.add_argument("--slug", default="", help="the organization's address here (default: the origin's)")
        parser.add_argument(
            "--trust-bundle-keys", action="store_true",
            help="the origin instance is gone: trust the keys in the bundle (recorded as unconfirmed)",
        )  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["bundle"]
        if not path.is_file():
            raise CommandError(f"{path} is not a file.")
        owner = User.objects.filter(username=options["owner"], is_active=True).first()
        if owner is None:
            raise CommandError(f"There is no account '{options['owner']}' here to own the organization.")
        try:
            job = imports.import_file(
                path=path, user=owner, slug=options["slug"], trust_bundle_keys=options["trust_bundle_keys"]
            )
        except imports.ImportRefused as exc:
            raise CommandError(str(exc)) from None
        if job.status != OrganizationImport.Status.DONE:
            raise CommandError(f"Import {job.id} failed: {job.error}")
        assert job.organization is not None  # noqa: S101 (a done import has one; the database checks it)
        counts = ", ".join(f"{n} {what}" for what, n in sorted(job.summary.items()))
        self.stdout.write(f"Imported {job.organization.name} as /organizations/{job.organization.slug}/ ({counts}).")
