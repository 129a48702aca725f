"""The re-release job's bookkeeping, without a worker: the sweeper queues again only the jobs left
unfinished, and a job that already ended (or never existed) does nothing when run again."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from licensing.consent import releases, withdrawals
from licensing.models import Rerelease
from tests.factories import organization, published_dataset

pytestmark = pytest.mark.django_db


@pytest.fixture
def jobs(monkeypatch: pytest.MonkeyPatch) -> tuple[list[int], list[Any]]:
    queued: list[int] = []
    monkeypatch.setattr(releases, "enqueue", queued.append)  # what reaches the broker
    org = organization("voices")
    owner = org.memberships.get(role="owner").user
    made = []
    for slug in ("old-queued", "old-running", "fresh", "done"):
        dataset = published_dataset(slug, org=org)
        withdrawal = withdrawals.withdraw_consent(by=owner, dataset=dataset, version_number=1, record_ids=["r-1"])
        made.append(withdrawal.rerelease)
    queued.clear()  # the withdrawals' own queueing, after commit, is not what is tested here
    return queued, made


def test_the_sweeper_queues_again_only_what_was_left_unfinished(jobs: tuple[list[int], list[Any]]) -> None:
    queued, (old_queued, old_running, fresh, done) = jobs
    long_ago = timezone.now() - timedelta(hours=3)
    Rerelease.objects.filter(id=old_queued.id).update(created_at=long_ago)
    Rerelease.objects.filter(id=old_running.id).update(status="running", started_at=long_ago, created_at=long_ago)
    Rerelease.objects.filter(id=done.id).update(
        status="published", created_at=long_ago, version=done.dataset.current_version
    )
    assert releases.requeue_stuck(older_than=timedelta(hours=1)) == 2
    assert sorted(queued) == sorted([old_queued.id, old_running.id])
    assert fresh.id not in queued


def test_a_job_run_again_after_it_ended_changes_nothing(jobs: tuple[list[int], list[Any]]) -> None:
    _, (_, _, _, done) = jobs
    Rerelease.objects.filter(id=done.id).update(status="nothing_to_remove")
    assert releases.run_rerelease(rerelease_id=done.id) == "already nothing_to_remove"
    assert releases.run_rerelease(rerelease_id=999_999) == "unknown re-release"
