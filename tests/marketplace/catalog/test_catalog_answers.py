"""The catalog's answers (an API page of a search, the catalog page's form and results) are kept
until the catalog changes and served to everyone who asks the same: the page around them (the
visitor's own menu, the language) stays each visitor's, and a change made in any process (a
takedown answered by another web process, a publish in the worker) reaches every process at once,
whatever cache it keeps (marketplace/catalog/search.py, remembered and _generation)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from marketplace.models import Dataset, User
from marketplace.publishing import takedown_dataset
from tests.factories import published_dataset

REPO_DIR = Path(__file__).resolve().parents[3]


def _dataset_reads(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries if "marketplace_dataset" in q["sql"]]


@pytest.mark.django_db
def test_one_answer_serves_every_visitor_but_the_page_around_it_is_theirs(client: Client) -> None:
    published_dataset("welsh-speech", name="Welsh Speech Recordings", task="ASR", locale="cy")
    published_dataset("news-text", name="News Text", task="NLP", locale="en")

    anonymous = client.get("/datasets/", {"q": "speech"})
    assert anonymous.status_code == 200
    assert "Welsh Speech Recordings" in anonymous.content.decode()
    assert "News Text" not in anonymous.content.decode()
    assert "Signed in as" not in anonymous.content.decode()

    member = Client()
    member.force_login(User.objects.create_user(username="rhiannon", email="rhiannon@example.org"))
    with CaptureQueriesContext(connection) as queries:
        signed_in = member.get("/datasets/", {"q": "speech"})
    page = signed_in.content.decode()
    assert "Signed in as rhiannon" in page, "the menu is the visitor's own"
    assert 'name="csrfmiddlewaretoken"' in page, "the forms around the results carry the visitor's token"
    assert "Welsh Speech Recordings" in page and "1 dataset" in page
    assert _dataset_reads(queries) == [], "the search was answered from what the first visitor was answered"

    korean = client.get("/datasets/", {"q": "speech"}, HTTP_ACCEPT_LANGUAGE="ko")
    assert "데이터셋 1개" in korean.content.decode(), "each language has its own answer"
    assert "1 dataset" not in korean.content.decode()

    results_only = client.get("/datasets/", {"q": "speech"}, HTTP_HX_REQUEST="true")
    assert "<h1>" not in results_only.content.decode(), "htmx gets the results alone, not the page's answer"
    assert "Welsh Speech Recordings" in results_only.content.decode()


@pytest.mark.django_db
def test_a_bad_parameter_is_explained_to_each_visitor_who_sends_it(api_client: APIClient, client: Client) -> None:
    published_dataset("welsh-speech", name="Welsh Speech Recordings", task="ASR", locale="cy")
    for _ in range(2):
        page = client.get("/datasets/", {"sort": "loudest"})
        assert page.status_code == 400
        assert "sort=&#x27;loudest&#x27; is not one of relevance, newest, size" in page.content.decode()
        refused = api_client.get("/api/datasets", {"sort": "loudest"})
        assert refused.status_code == 400
        assert "sort='loudest' is not one of relevance, newest, size" in refused.json()["message"]


@pytest.mark.django_db
def test_a_kept_answer_asks_the_database_nothing_and_a_change_here_is_seen_at_once(
    api_client: APIClient,
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    """While a process trusts the generation it read (CATALOG_GENERATION_MS, here longer than the
    test), a kept answer is a cache read alone; a change made in this process moves its generation
    at once, whatever the window."""
    published_dataset("welsh-speech", name="Welsh Speech Recordings", task="ASR", locale="cy")
    staff = User.objects.create_user(username="staff", email="staff@example.org", is_staff=True)
    with override_settings(CATALOG_GENERATION_SECONDS=3600):
        assert api_client.get("/api/datasets/welsh-speech").status_code == 200
        with CaptureQueriesContext(connection) as queries:
            kept = api_client.get("/api/datasets/welsh-speech")
        assert kept.status_code == 200 and kept.json()["name"] == "Welsh Speech Recordings"
        assert [q["sql"] for q in queries] == [], "a kept answer, within the window, is the cache's alone"
        with django_capture_on_commit_callbacks(execute=True):
            takedown_dataset(dataset=Dataset.objects.get(slug="welsh-speech"), reason="A court order.", by=staff)
        gone = api_client.get("/api/datasets/welsh-speech")
        assert gone.status_code == 410 and "A court order." in gone.json()["message"]


@pytest.mark.django_db(transaction=True)  # the takedown commits in another process
@pytest.mark.parametrize("trusted_seconds", [0, 0.1], ids=["read-each-request", "trusted-0.1s-as-make-run"])
def test_a_takedown_in_another_process_is_gone_from_every_answer_at_once(
    api_client: APIClient, settings: Any, trusted_seconds: float
) -> None:
    """At once: on the next request (reading the generation each time), or within the 0.1 s a
    process trusts the generation it read (`make run`'s default): starting the other process alone
    takes longer than that."""
    from tests.conftest import database_url_of_test_db

    settings.CATALOG_GENERATION_SECONDS = trusted_seconds
    published_dataset("welsh-speech", name="Welsh Speech Recordings", task="ASR", locale="cy")
    published_dataset("irish-speech", name="Irish Speech Recordings", task="ASR", locale="ga")
    User.objects.create_user(username="staff", email="staff@example.org", is_staff=True)
    asked = {
        "MDC API": lambda: {item["slug"] for item in api_client.get("/api/datasets", {"q": "speech"}).json()["items"]},
        "/api/v1": lambda: {d["slug"] for d in api_client.get("/api/v1/datasets", {"q": "speech"}).json()["results"]},
        "page": lambda: {
            slug for slug in ("welsh-speech", "irish-speech")
            if f"/datasets/{slug}/" in api_client.get("/datasets/", {"q": "speech"}).content.decode()
        },
    }  # fmt: skip
    for kind, answer in asked.items():
        assert answer() == {"welsh-speech", "irish-speech"}, kind
        assert answer() == {"welsh-speech", "irish-speech"}, kind  # and now kept
    for _ in range(2):  # the dataset's own answer (E3, which the SDK asks before each download), kept too
        assert api_client.get("/api/datasets/welsh-speech").json()["name"] == "Welsh Speech Recordings"

    # Another process, with a cache of its own: only the database tells this one of the change.
    code = (
        "from marketplace.models import Dataset, User\n"
        "from marketplace.publishing import takedown_dataset\n"
        "takedown_dataset(dataset=Dataset.objects.get(slug='welsh-speech'), reason='Consent was withdrawn.',"
        " by=User.objects.get(username='staff'))\n"
    )
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=REPO_DIR,
        env={**os.environ, "DATABASE_URL": database_url_of_test_db(), "CACHE_URL": "locmem://"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert Dataset.objects.get(slug="welsh-speech").status == Dataset.Status.REMOVED

    for kind, answer in asked.items():
        assert answer() == {"irish-speech"}, kind
    gone = api_client.get("/api/datasets/welsh-speech")
    assert gone.status_code == 410 and "Consent was withdrawn." in gone.json()["message"]


@pytest.mark.django_db
def test_whatever_a_caller_sends_in_the_address_is_answered(api_client: APIClient) -> None:
    """What the caller sent is never part of a cache key as such (memcached-style keys refuse
    control characters and spaces): an id of any characters is a 404 in their words, not a 500."""
    published_dataset("welsh-speech", name="Welsh Speech Recordings", task="ASR", locale="cy")
    for odd in ("%16-%AC%EC%D6@%05", "two%20words", "%F0%9F%8E%99", "a" * 300):
        response = api_client.get(f"/api/datasets/{odd}")
        assert response.status_code == 404, (odd, response.content[:200])
        assert response.json()["message"].startswith("No dataset with id or slug")
