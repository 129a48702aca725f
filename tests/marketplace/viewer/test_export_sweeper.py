"""Beat's sweeper of the viewer's exports (``exports.requeue_pending``): an export left pending (its
job used up its retries while storage was away, its message was lost, its worker was killed) is
queued again once nobody has touched it for the stuck time and no live run holds its lock; a run
under way is left alone however long it takes; one that ran out of attempts is failed, not run."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from marketplace.models import ParquetExport
from marketplace.submissions.validation import held_lock
from marketplace.viewer import exports
from tests.world import World

pytestmark = pytest.mark.django_db
STUCK = timedelta(seconds=settings.VALIDATION_STUCK_SECONDS)


def _archive_export(world: World) -> ParquetExport:
    return ParquetExport.objects.get(
        upload__submission__version__dataset=world.datasets["north-corpus"], upload__kind="archive"
    )


def _settled() -> int:
    """What the sweeper queues in the world as it is, once its first run has made the exports of
    validated uploads that had none (they are then pending, and too recent to queue again)."""
    exports.requeue_pending(older_than=STUCK)
    return exports.requeue_pending(older_than=STUCK)


def _leave(export: ParquetExport, *, status: str = "pending", attempts: int, idle: timedelta) -> None:
    ParquetExport.objects.filter(pk=export.pk).update(
        status=status, attempts=attempts, updated_at=timezone.now() - idle, finished_at=None
    )


def test_an_export_left_pending_is_queued_again_once_no_run_holds_it(world: World) -> None:
    export = _archive_export(world)
    settled = _settled()

    _leave(export, attempts=2, idle=STUCK / 3)
    assert exports.requeue_pending(older_than=STUCK) == settled  # touched too recently

    _leave(export, attempts=2, idle=STUCK * 2)
    with held_lock(f"parquet:{export.upload_id}") as taken:  # a worker still exporting it
        assert taken
        assert exports.requeue_pending(older_than=STUCK) == settled
    export.refresh_from_db()
    assert (export.status, export.attempts) == ("pending", 2)

    assert exports.requeue_pending(older_than=STUCK) == settled + 1  # nobody runs it: queued again
    export.refresh_from_db()
    assert (export.status, export.attempts) == ("pending", 2)  # the run it starts counts the attempt


def test_an_export_out_of_attempts_is_failed_once_its_last_run_has_ended(world: World) -> None:
    export = _archive_export(world)
    settled = _settled()
    _leave(export, attempts=exports.MAX_ATTEMPTS, idle=STUCK * 2)

    with held_lock(f"parquet:{export.upload_id}"):  # its last run is still going
        exports.requeue_pending(older_than=STUCK)
    export.refresh_from_db()
    assert export.status == "pending" and export.error == ""

    assert exports.requeue_pending(older_than=STUCK) == settled  # failed, not queued
    export.refresh_from_db()
    assert export.status == "failed" and export.finished_at is not None
    assert export.error == f"The tables could not be exported in {exports.MAX_ATTEMPTS} attempts."


def test_a_ready_export_with_a_table_never_indexed_gets_its_index_job_unless_one_runs(world: World) -> None:
    export = _archive_export(world)
    settled = _settled()
    tables = [dict(table) for table in export.tables]
    del tables[0]["index"]  # as if its index job was lost
    ParquetExport.objects.filter(pk=export.pk).update(tables=tables)
    _leave(export, status="ready", attempts=1, idle=STUCK * 2)

    with held_lock(f"parquet-index:{export.upload_id}"):
        assert exports.requeue_pending(older_than=STUCK) == settled
    assert exports.requeue_pending(older_than=STUCK) == settled + 1
