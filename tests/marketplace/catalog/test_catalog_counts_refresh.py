"""After a change to the catalog, a slow count (at a million datasets the whole catalog's facet
counts take seconds) is shown at its last value while a thread counts it again, instead of every
visitor in those seconds waiting for it and counting it beside the others. A quick count is
counted at once. Either way no dataset taken down is shown, and the counts are right again as
soon as the count lands. (The other tests count at once: tests/conftest.py.)"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from marketplace.catalog.search import _recounts, wait_for_recounts
from marketplace.models import Dataset
from tests.conftest import wait_until
from tests.factories import published_dataset

pytestmark = pytest.mark.django_db(transaction=True)  # the count runs on a thread of its own, with its own connection


@pytest.fixture
def speech(mid_month_clock: object) -> list[Dataset]:
    now = timezone.now()
    return [
        published_dataset(
            f"speech-{n}", name=f"Speech Recordings {n}", task="ASR", locale="cy", published_at=now - timedelta(days=n)
        )
        for n in range(3)
    ]


def search(client: APIClient, **params: str) -> tuple[int, list[str]]:
    response = client.get("/api/datasets", {"q": "speech", **params})
    assert response.status_code == 200, response.content
    body = response.json()
    return body["total"], [item["slug"] for item in body["items"]]


def eventually(check: Callable[[], bool], what: str) -> None:
    assert wait_until(check, timeout=15, interval=0.05), f"never happened: {what}"
    wait_for_recounts()  # and every connection the counting thread opened is closed, before the flush


def test_a_slow_count_shows_its_last_value_until_counted_again(
    api_client: APIClient, speech: list[Dataset], settings
) -> None:  # type: ignore[no-untyped-def]
    settings.CATALOG_SLOW_COUNT_SECONDS = 0.0  # every count is "slow" here
    assert search(api_client)[0] == 3
    page = api_client.get("/datasets/", {"task": "ASR"})
    assert "3 datasets" in page.content.decode()

    published_dataset("speech-new", name="Speech Recordings New", task="ASR", locale="cy")  # commits: counts go stale
    total, slugs = search(api_client)
    assert total == 3, "the last count is shown while it is counted again"
    assert "speech-new" not in slugs, "the order ranked before the change is shown meanwhile"
    eventually(lambda: search(api_client) == (4, ["speech-new", "speech-0", "speech-1", "speech-2"]), "counted again")
    eventually(lambda: "4 datasets" in api_client.get("/datasets/", {"task": "ASR"}).content.decode(), "page counts")


def test_a_dataset_taken_down_is_never_shown_from_a_stale_order(
    api_client: APIClient, speech: list[Dataset], settings
) -> None:  # type: ignore[no-untyped-def]
    settings.CATALOG_SLOW_COUNT_SECONDS = 0.0
    assert search(api_client) == (3, ["speech-0", "speech-1", "speech-2"])
    removed = speech[1]
    removed.visibility = Dataset.Visibility.PRIVATE
    removed.save()  # commits: counts go stale

    total, slugs = search(api_client)
    assert slugs == ["speech-0", "speech-2"], "the stale order's rows are read from what is listed now"
    assert total == 3, "the total is the last count until it is counted again"
    eventually(lambda: search(api_client) == (2, ["speech-0", "speech-2"]), "counted again")
    assert search(api_client, task="ASR", sort="newest")[1] == ["speech-0", "speech-2"]


def test_a_quick_count_is_counted_at_once(api_client: APIClient, speech: list[Dataset], settings) -> None:  # type: ignore[no-untyped-def]
    settings.CATALOG_SLOW_COUNT_SECONDS = 60.0  # no count of this catalog takes a minute
    assert search(api_client)[0] == 3
    published_dataset("speech-new", name="Speech Recordings New", task="ASR", locale="cy")
    assert search(api_client)[0] == 4
    assert _recounts.unfinished_tasks == 0, "nothing was queued to be counted again"


def test_a_recount_runs_behind_the_requests() -> None:
    """The recount's PostgreSQL process is given a lower CPU priority where it runs on this machine
    and may be (the embedded server of `make run`, or any local one for root), so that the pages
    answered meanwhile go first on the cores it would share with them."""
    import os
    from pathlib import Path

    from django.db import connections

    from marketplace.catalog.search import RECOUNT_NICENESS, _behind_requests

    recount = connections.create_connection("default")
    try:
        with recount.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        process = Path(f"/proc/{pid}")
        if not process.exists() or os.geteuid() not in (0, process.stat().st_uid):
            pytest.skip("PostgreSQL runs elsewhere or as another user: its priority is not ours to set")
        _behind_requests(pid)
        niceness = int((process / "stat").read_text().rsplit(")", 1)[1].split()[16])
        assert niceness == RECOUNT_NICENESS
    finally:
        recount.close()
