"""Prepare the bucket for browser uploads: create it if missing and set its CORS rules."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from marketplace import storage


class Command(BaseCommand):
    help = "Create the bucket if missing and let the site's pages upload to it (CORS for UPLOAD_CORS_ORIGINS)."

    def handle(self, *args: Any, **options: Any) -> None:
        origins = list(settings.UPLOAD_CORS_ORIGINS)
        if not origins:
            raise CommandError(
                "UPLOAD_CORS_ORIGINS is empty: name the origins that serve the site (for example "
                "https://data.example.org), or browsers cannot upload to storage."
            )
        storage.ensure_bucket()
        storage.allow_browser_uploads(origins)
        if options["verbosity"] >= 1:
            self.stdout.write(f"Bucket {storage.bucket()} accepts browser uploads from {', '.join(origins)}.")
