"""Sync the catalogs of followed instances now (beat does it every FEDERATION_SYNC_SECONDS), and with
``--witness`` / ``--collect`` also cosign witnessed instances' heads and collect our witnesses'
cosignatures. ``--follow URL`` adds a followed instance first. Prints one line per instance."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from provenance.federation import following, witnessing
from provenance.federation.client import PeerError


class Command(BaseCommand):
    help = "Sync followed instances' catalogs (verifying each dataset); optionally witness and collect."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--follow", metavar="URL", action="append", default=[], help="follow this instance first")
        parser.add_argument("--witness", action="store_true", help="also cosign the heads of witnessed instances")
        parser.add_argument("--collect", action="store_true", help="also collect our witnesses' cosignatures")

    def handle(self, *args: Any, **options: Any) -> None:
        for url in options["follow"]:
            try:
                following.add_peer(url=url, by=None, following=True)
            except PeerError as exc:
                raise CommandError(str(exc)) from None
        for url, outcome in following.sync_all().items():
            self.stdout.write(f"{url}: {outcome.summary()}")
        if options["witness"]:
            for url, text in witnessing.witness_all().items():
                self.stdout.write(f"{url}: {text}")
        if options["collect"]:
            for url, text in witnessing.collect_all().items():
                self.stdout.write(f"{url}: {text}")
