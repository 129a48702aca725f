"""Export the tables of published versions to Parquet for the viewer, in this process: for
versions published before the export job existed, or to re-run one (``--again``)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from marketplace.catalog.search import forget_facets
from marketplace.models import DatasetVersion, ParquetExport
from marketplace.viewer import exports


class Command(BaseCommand):
    help = "Convert the tables of published versions to Parquet (the viewer's data)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dataset", help="Only this dataset's versions (its id or slug).")
        parser.add_argument("--again", action="store_true", help="Redo exports that are ready or failed.")

    def handle(self, *args: Any, **options: Any) -> None:
        versions = DatasetVersion.objects.filter(published_at__isnull=False).select_related("dataset")
        if options["dataset"]:
            versions = versions.filter(dataset__id=options["dataset"]) | versions.filter(
                dataset__slug=options["dataset"]
            )
        for version in versions.order_by("dataset__slug", "number"):
            if options["again"]:
                uploads = [upload for upload in exports.version_uploads(version) if upload is not None]
                ParquetExport.objects.filter(upload__in=uploads).update(status=ParquetExport.Status.PENDING)
                forget_facets()  # the viewer's kept reading of the version (viewer.access)
            for outcome in exports.export_version(version_id=version.id):
                self.stdout.write(f"{version.dataset.slug} v{version.number}: {outcome}")
