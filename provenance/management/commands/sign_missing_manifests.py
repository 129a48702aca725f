"""Sign manifests for versions published before this instance had provenance (an upgrade), so that
every published version can be verified. Idempotent: versions with a manifest are left alone."""

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from marketplace.models import DatasetVersion, Submission
from provenance.manifests import record_publication
from provenance.models import Manifest


class Command(BaseCommand):
    help = "Sign a manifest (and log its publication) for every published version that has none."

    def handle(self, *args: Any, **options: Any) -> None:
        missing = DatasetVersion.objects.filter(manifest__isnull=True).order_by("published_at", "id")
        signed = 0
        for version in missing.iterator():
            with transaction.atomic():
                # The version row is locked, so two runs at once cannot both sign it.
                DatasetVersion.objects.select_for_update().filter(id=version.id).first()
                if not Manifest.objects.filter(version=version).exists():
                    submission = Submission.objects.filter(version=version).first()
                    record_publication(version=version, submission=submission)
                    signed += 1
        if options["verbosity"] >= 1:
            self.stdout.write(f"Signed {signed} manifest{'s' if signed != 1 else ''}.")
