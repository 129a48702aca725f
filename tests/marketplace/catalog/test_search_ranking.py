"""Relevance pages through the MDC list endpoint: the newest ``RANK_CANDIDATES`` matches ranked, the
later ones newest first; the ranking is computed once per search and catalog state (ids only, cached
with the search's counts) and every page among the candidates is a slice of it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone
from rest_framework.test import APIClient

from marketplace.catalog import search
from marketplace.models import Dataset, User
from marketplace.publishing import takedown_dataset
from tests.factories import published_dataset

MATCHES = 12
CANDIDATES = 5


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    cache.clear()


@pytest.fixture
def rivers(db: None, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Twelve datasets matching "river", newest first: in the name (weight A) for every third from
    the newest, in the short description (B) for the next, in the tags (C) for the third; and one
    that does not match. Only the newest five are ranked."""
    monkeypatch.setattr(search, "RANK_CANDIDATES", CANDIDATES)
    now = timezone.now()
    slugs = []
    for i in range(MATCHES):
        where = i % 3
        published_dataset(
            f"set-{i}", name=f"River Set {i}" if where == 0 else f"Stream Set {i}",
            short_description="Sounds of a river" if where == 1 else "Sounds of water",
            tags=["river"] if where == 2 else ["water"], published_at=now - timedelta(hours=i),
        )  # fmt: skip
        slugs.append(f"set-{i}")
    published_dataset("lake", name="Lake Set", short_description="Still water", published_at=now)
    return slugs


# The five newest ranked: the name matches (0, 3), the short descriptions (1, 4), the tag (2), ties
# newest first; then the rest newest first. Ascending relevance turns the ranked part only.
BEST_FIRST = [0, 3, 1, 4, 2, *range(CANDIDATES, MATCHES)]
WORST_FIRST = [2, 1, 4, 0, 3, *range(CANDIDATES, MATCHES)]


def _all_pages(api_client: APIClient, limit: int, direction: str, *, cold: bool) -> list[str]:
    slugs: list[str] = []
    for page in range(1, -(-MATCHES // limit) + 2):  # and one page past the end
        if cold:
            cache.clear()
        response = api_client.get(
            "/api/datasets", {"q": "river", "limit": str(limit), "page": str(page), "sortDirection": direction}
        )
        assert response.status_code == 200, response.content
        assert response.json()["total"] == MATCHES
        slugs += [item["slug"] for item in response.json()["items"]]
    return slugs


@pytest.mark.parametrize("limit", [1, 2, 4, 5, 7, 24])
@pytest.mark.parametrize(("direction", "order"), [("desc", BEST_FIRST), ("asc", WORST_FIRST)])
@pytest.mark.parametrize("cold", [False, True], ids=["pages-in-a-row", "each-page-first-after-a-change"])
def test_every_page_follows_the_one_ranking(
    api_client: APIClient, rivers: list[str], limit: int, direction: str, order: list[int], cold: bool
) -> None:
    # Limits 2, 4 and 7 have a page that straddles the last ranked candidate; 24 holds them all.
    assert _all_pages(api_client, limit, direction, cold=cold) == [rivers[i] for i in order]


def test_pages_equal_the_per_page_ranking_query(api_client: APIClient, rivers: list[str]) -> None:
    # The cached ranking answers as the query that ranks and pages in SQL (the path before it).
    query = search.CatalogQuery(q="river", limit=2)
    terms = search.search_terms(query.q)
    matches = search.filtered(query).filter(search_vector=search.text_query(terms))
    for page in range(1, 8):
        start, stop = (page - 1) * 2, page * 2
        expected = search._ranked_ids(matches, search.text_query(terms), "desc", start, stop, MATCHES)
        answer = search.search(search.CatalogQuery(q="river", limit=2, page=page))
        assert [d.id for d in answer.items] == expected[: max(0, MATCHES - start)]
        assert answer.total == MATCHES


def test_a_ranked_page_seen_before_is_one_query(
    api_client: APIClient,
    rivers: list[str],
    django_assert_num_queries,  # type: ignore[no-untyped-def]
) -> None:
    api_client.get("/api/datasets", {"q": "river", "limit": "2"})
    with django_assert_num_queries(2):  # the catalog's generation, the page's rows; the order and total are known
        response = api_client.get("/api/datasets", {"q": "river", "limit": "2", "page": "2"})
    assert [item["slug"] for item in response.json()["items"]] == [rivers[1], rivers[4]]


def test_the_ranking_follows_the_catalog(
    api_client: APIClient,
    rivers: list[str],
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    def first_page() -> list[str]:
        return [item["slug"] for item in api_client.get("/api/datasets", {"q": "river", "limit": "3"}).json()["items"]]

    assert first_page() == [rivers[0], rivers[3], rivers[1]]
    with django_capture_on_commit_callbacks(execute=True):
        published_dataset("river-delta", name="River Delta", published_at=timezone.now())
    assert first_page() == ["river-delta", rivers[0], rivers[3]]
    staff = User.objects.create_user(username="staff", email="staff@example.org", is_staff=True)
    with django_capture_on_commit_callbacks(execute=True):
        takedown_dataset(dataset=Dataset.objects.get(slug=rivers[0]), reason="Consent was withdrawn.", by=staff)
    # The newest five are now the delta and sets 1 to 4: set 0 is gone, set 4 is ranked.
    assert first_page() == ["river-delta", rivers[3], rivers[1]]
    edited = Dataset.objects.get(slug=rivers[2])
    edited.name = "River Set 2"
    with django_capture_on_commit_callbacks(execute=True):
        edited.save()  # an edit by any path: its name now matches (weight A), with the tags
    assert first_page() == [rivers[2], "river-delta", rivers[3]]
