"""The MDC catalog endpoints (E1-E3) and /api/v1/ reads, through the test client."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone
from rest_framework.test import APIClient

from marketplace.catalog.search import forget_facets
from marketplace.models import Dataset, Membership, User
from tests.factories import organization, published_dataset


@pytest.fixture(autouse=True)
def _fresh_facets() -> None:
    cache.clear()


@pytest.fixture
def catalog(db: None, mid_month_clock: object) -> dict[str, Dataset]:
    now = timezone.now()
    return {
        "speech": published_dataset(
            "welsh-speech", name="Welsh Speech Recordings", task="ASR", locale="cy", format="TSV",
            short_description="Read speech in Welsh", size_bytes=5000, sample=True,
            published_at=now - timedelta(days=400),
        ),
        "dialogue": published_dataset(
            "support-dialogues", name="Support Dialogues", task="LLM", locale="en", format="JSONL",
            short_description="Customer conversations", long_description="Agents answer speech-free chats",
            size_bytes=20000, is_paid=True, base_price_cents=25000, license="CC-BY-NC-4.0",
            published_at=now - timedelta(hours=1),
        ),
        "notes": published_dataset(
            "clinical-notes", name="Clinical Notes", task="NLP", locale="en", format="CSV",
            visibility=Dataset.Visibility.RESTRICTED, size_bytes=100, tags=["medical", "speechless"],
            published_at=now - timedelta(days=3),
        ),
        "private": published_dataset(
            "internal-prompts", name="Internal Speech Prompts", task="LLM", locale="en",
            visibility=Dataset.Visibility.PRIVATE, published_at=now - timedelta(minutes=5),
        ),
    }  # fmt: skip


def _slugs(response) -> list[str]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.content
    return [item["slug"] for item in response.json()["items"]]


def test_list_shape_and_private_never_listed(api_client: APIClient, catalog: dict[str, Dataset]) -> None:
    response = api_client.get("/api/datasets")
    body = response.json()
    assert body["total"] == 3
    assert _slugs(response) == ["support-dialogues", "clinical-notes", "welsh-speech"]  # newest first
    item = body["items"][0]
    assert isinstance(item["id"], str) and item["id"] == catalog["dialogue"].id
    assert item["filename"] == "support-dialogues-v1.tar.gz"
    assert item["checksum"] == catalog["dialogue"].current_version.sha256
    assert item["sizeBytes"] == 20000 and isinstance(item["sizeBytes"], int)
    assert item["organization"] == {"name": "Speech Co", "slug": "speech-co"}
    assert item["pricing"] == {
        "isPaid": True, "basePriceCents": 25000, "currency": "usd", "platformFeeRate": "0.05",
        "platformFeeCents": 1250, "totalPriceCents": 26250,
    }  # fmt: skip
    assert item["licenseAbbreviation"] == "CC-BY-NC-4.0"
    assert item["datasetUrl"].endswith("/datasets/support-dialogues/")
    free = body["items"][2]["pricing"]
    assert free["isPaid"] is False and free["basePriceCents"] is None and free["platformFeeRate"] is None


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"q": "welsh"}, ["welsh-speech"]),
        ({"q": "recor"}, ["welsh-speech"]),  # prefix
        ({"q": "welsch"}, ["welsh-speech"]),  # typo: trigram fallback
        ({"q": "zzzz qqqq"}, []),
        ({"task": ["ASR", "NLP"]}, ["clinical-notes", "welsh-speech"]),
        ({"locale": "cy"}, ["welsh-speech"]),
        ({"license": "CC-BY-NC-4.0"}, ["support-dialogues"]),
        ({"format": ["CSV", "TSV"]}, ["clinical-notes", "welsh-speech"]),
        ({"task": "ASR", "locale": "en"}, []),  # AND across keys
        ({"task": "NOPE"}, []),  # unknown values match nothing
        ({"pricing": "compensated"}, ["support-dialogues"]),
        ({"pricing": "free"}, ["clinical-notes", "welsh-speech"]),
        ({"sample": "true"}, ["welsh-speech"]),
        ({"sample": "false"}, ["support-dialogues", "clinical-notes", "welsh-speech"]),
        ({"uploadDate": "thisYear"}, ["support-dialogues", "clinical-notes"]),
        ({"sort": "size"}, ["support-dialogues", "welsh-speech", "clinical-notes"]),
        ({"sort": "size", "sortDirection": "asc"}, ["clinical-notes", "welsh-speech", "support-dialogues"]),
        ({"sort": "newest", "sortDirection": "asc"}, ["welsh-speech", "clinical-notes", "support-dialogues"]),
    ],
)
def test_filters_and_sorts(
    api_client: APIClient, catalog: dict[str, Dataset], params: dict, expected: list[str]
) -> None:
    response = api_client.get("/api/datasets", params)
    assert _slugs(response) == expected
    assert response.json()["total"] == len(expected)


def test_name_matches_rank_above_tag_and_description_matches(
    api_client: APIClient, catalog: dict[str, Dataset]
) -> None:
    slugs = _slugs(api_client.get("/api/datasets", {"q": "speech"}))
    assert slugs[0] == "welsh-speech"  # in the name (weight A)
    assert sorted(slugs[1:]) == ["clinical-notes", "support-dialogues"]  # in tags / long description (C)


def test_paging_reports_the_real_total(api_client: APIClient, catalog: dict[str, Dataset]) -> None:
    first = api_client.get("/api/datasets", {"limit": 2, "page": 1}).json()
    second = api_client.get("/api/datasets", {"page": 2, "limit": 2}).json()
    past = api_client.get("/api/datasets", {"limit": 2, "page": 9}).json()
    assert (first["total"], second["total"], past["total"]) == (3, 3, 3)
    assert len(first["items"]) == 2 and len(second["items"]) == 1 and past["items"] == []
    assert {i["slug"] for i in first["items"] + second["items"]} == {
        "welsh-speech",
        "support-dialogues",
        "clinical-notes",
    }


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"limit": "0"}, "limit=0 must be between 1 and 100"),
        ({"limit": "101"}, "limit=101 must be between 1 and 100"),
        ({"page": "x"}, "page='x' is not a whole number"),
        ({"sort": "random"}, "sort='random' is not one of relevance, newest, size"),
        ({"sortDirection": "up"}, "sortDirection='up' is not one of asc, desc"),
        ({"uploadDate": "yesterday"}, "uploadDate='yesterday' is not one of"),
        ({"pricing": "cheap"}, "pricing='cheap' is not one of free, compensated"),
    ],
)
def test_bad_parameters_get_400_with_message(api_client: APIClient, db: None, params: dict, message: str) -> None:
    response = api_client.get("/api/datasets", params)
    assert response.status_code == 400
    assert message in response.json()["message"]
    assert response.json()["error"] == response.json()["message"]


def test_filters_endpoint(api_client: APIClient, catalog: dict[str, Dataset]) -> None:
    body = api_client.get("/api/datasets/filters").json()
    assert body["tasks"][:3] == ["N/A", "NLP", "ASR"] and len(body["tasks"]) == 15
    assert body["locales"] == ["cy", "en"]
    assert body["licenses"] == ["CC-BY-4.0", "CC-BY-NC-4.0"]
    assert body["formats"] == ["CSV", "JSONL", "TSV"]


def test_detail_by_id_and_slug_private_removed_draft(api_client: APIClient, catalog: dict[str, Dataset]) -> None:
    speech = catalog["speech"]
    assert api_client.get(f"/api/datasets/{speech.id}").json()["slug"] == "welsh-speech"
    assert api_client.get("/api/datasets/welsh-speech").json()["id"] == speech.id
    stray_key = api_client.get("/api/datasets/welsh-speech", HTTP_AUTHORIZATION="Bearer junk")
    assert stray_key.status_code == 200  # public endpoints read no key

    private = catalog["private"]
    assert api_client.get(f"/api/datasets/{private.id}").status_code == 200  # by exact id, for SDK downloads
    hidden = api_client.get("/api/datasets/internal-prompts")
    assert hidden.status_code == 404
    assert hidden.json()["message"] == "No dataset with id or slug 'internal-prompts'."

    Dataset.objects.filter(id=speech.id).update(
        status="removed", removed_at=timezone.now(), removal_reason="consent withdrawn"
    )
    forget_facets()  # as a takedown does once it commits: the answers kept before go
    gone = api_client.get("/api/datasets/welsh-speech")
    assert gone.status_code == 410
    assert gone.json()["message"] == "Dataset 'welsh-speech' was taken down: consent withdrawn"
    assert "welsh-speech" not in _slugs(api_client.get("/api/datasets"))

    Dataset.objects.create(organization=speech.organization, slug="a-draft", name="Draft")
    assert api_client.get("/api/datasets/a-draft").status_code == 404
    assert api_client.get("/api/datasets/no-such-thing").status_code == 404


def test_list_query_count_is_constant(api_client: APIClient, db: None) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for i in range(30):
        published_dataset(f"bulk-{i}", name=f"Bulk speech {i}", task="ASR", locale="en")
    api_client.get("/api/datasets")  # a warm server: it knows for half a minute that nothing moved away
    # The catalog's generation, the total, the page's ids (a listing: with its rows), then the
    # page's rows; a typo adds the word correction and a second search. With the search's total and
    # ranking cached (the second time it is asked), only the page is looked for: never more
    # queries, whatever the page size. Asked again, the answer itself is kept: the generation only.
    for params, expected_queries in (({}, 3), ({"q": "speech"}, 4), ({"q": "speach"}, 6), ({"task": "ASR"}, 3)):
        for limit in (3, 30):
            forget_facets()  # what a change to the catalog does: its cached counts and answers go
            with CaptureQueriesContext(connection) as queries:
                response = api_client.get("/api/datasets", {**params, "limit": limit})
            assert len(response.json()["items"]) == limit
            assert len(queries) == expected_queries, (params, limit, [q["sql"] for q in queries])
            with CaptureQueriesContext(connection) as warm:
                again = api_client.get("/api/datasets", {**params, "limit": limit})
            assert again.json() == response.json()
            assert [q["sql"] for q in warm] == [queries[0]["sql"]], (params, limit)


def test_typos_are_corrected_against_the_catalog_vocabulary(api_client: APIClient, catalog: dict[str, Dataset]) -> None:
    from marketplace.models import SearchWord

    assert {"welsh", "speech", "recordings", "medical", "speechless"} <= set(
        SearchWord.objects.values_list("word", flat=True)
    )
    assert _slugs(api_client.get("/api/datasets", {"q": "speach recrdings"})) == ["welsh-speech"]
    assert _slugs(api_client.get("/api/datasets", {"q": "dialouges"})) == ["support-dialogues"]
    assert _slugs(api_client.get("/api/datasets", {"q": "qqqqzz"})) == []


def test_v1_datasets_cursor_pages_and_versions(
    api_client: APIClient, catalog: dict[str, Dataset], django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    with django_assert_max_num_queries(3):  # the catalog's generation, the page, its rows
        first = api_client.get("/api/v1/datasets", {"limit": 2}).json()
    assert [d["slug"] for d in first["results"]] == ["support-dialogues", "clinical-notes"]
    assert first["results"][0]["current_version"]["filename"] == "support-dialogues-v1.tar.gz"
    second = api_client.get(first["next"]).json()
    assert [d["slug"] for d in second["results"]] == ["welsh-speech"]
    assert second["next"] is None

    assert [d["slug"] for d in api_client.get("/api/v1/datasets", {"q": "dialog"}).json()["results"]] == [
        "support-dialogues"
    ]
    speech = catalog["speech"]
    versions = api_client.get(f"/api/v1/datasets/{speech.id}/versions").json()
    assert versions == [
        {
            "number": 1, "filename": "welsh-speech-v1.tar.gz", "size_bytes": 5000,
            "sha256": speech.current_version.sha256, "license": "CC-BY-4.0",
            "license_text_sha256": speech.current_version.license_text_sha256,  # noqa: E501
            "published_at": versions[0]["published_at"], "has_sample": True, "changelog": "",
        }
    ]  # fmt: skip
    detail = api_client.get(f"/api/v1/datasets/{speech.id}").json()
    assert detail["long_description"] == "" and detail["organization"] == "speech-co"


def test_v1_private_dataset_only_for_members(api_client: APIClient, catalog: dict[str, Dataset], bearer) -> None:  # type: ignore[no-untyped-def]
    private = catalog["private"]
    assert api_client.get(f"/api/v1/datasets/{private.id}").status_code == 404
    outsider, outsider_key = bearer("read")
    assert (
        api_client.get(f"/api/v1/datasets/{private.id}", HTTP_AUTHORIZATION=f"Bearer {outsider_key}").status_code == 404
    )
    member, member_key = bearer("read")
    Membership.objects.create(organization=organization(), user=member, role="member")
    response = api_client.get(f"/api/v1/datasets/{private.id}", HTTP_AUTHORIZATION=f"Bearer {member_key}")
    assert response.status_code == 200 and response.json()["visibility"] == "private"
    assert isinstance(member, User)


def test_v1_organizations_licenses_and_schema(api_client: APIClient, catalog: dict[str, Dataset]) -> None:
    orgs = api_client.get("/api/v1/organizations").json()["results"]
    assert [o["slug"] for o in orgs] == ["speech-co"]
    assert api_client.get("/api/v1/organizations/speech-co").json()["name"] == "Speech Co"
    licenses = api_client.get("/api/v1/licenses").json()
    assert [lic["spdx_id"] for lic in licenses] == ["CC-BY-4.0", "CC-BY-NC-4.0"]
    one = api_client.get(f"/api/v1/licenses/{licenses[0]['id']}").json()
    assert one["text"] == "The CC-BY-4.0 terms." and one["ai_training"] is True
    schema = api_client.get("/api/v1/schema", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    paths = schema.json()["paths"] if schema["Content-Type"].startswith("application/json") else {}
    if not paths:
        import yaml

        paths = yaml.safe_load(schema.content)["paths"]
    assert "/api/v1/datasets/{id}/versions" in paths and "/api/v1/licenses" in paths
    # The MDC contract's routes are API endpoints too: documented (tag "mdc"), so that they are fuzzed.
    assert paths["/api/datasets"]["get"]["tags"] == ["mdc"]


def test_the_cached_total_follows_the_catalog(
    api_client: APIClient,
    catalog: dict[str, Dataset],
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    # The total of a search is cached (counting a large catalog's matches costs more than the rest
    # of the request); a dataset published, or changed in any way, drops it once the change commits.
    def total() -> int:
        return int(api_client.get("/api/datasets", {"q": "speech"}).json()["total"])

    assert total() == 3
    with django_capture_on_commit_callbacks(execute=True):
        published_dataset("more-speech", name="More Speech", published_at=timezone.now())
    assert total() == 4
    hidden = Dataset.objects.get(slug="more-speech")
    hidden.visibility = Dataset.Visibility.PRIVATE
    with django_capture_on_commit_callbacks(execute=True):
        hidden.save()  # any save, by any path: the signal drops the counts
    assert total() == 3
    assert api_client.get("/api/datasets").json()["total"] == 3
