"""The catalog pages through the test client: search, facets, htmx partials, the datasheet,
organizations and the start page."""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from licensing.models import License
from marketplace.catalog.search import forget_facets
from marketplace.models import Dataset, Membership, Organization, User
from marketplace.organizations.services import add_member, create_organization
from marketplace.publishing import create_dataset, publish_version
from tests.factories import license_for, published_dataset

MB = 1024 * 1024
CARD_LINK = re.compile(r'<h3><a href="/datasets/([^/"]+)/">')


@pytest.fixture(autouse=True)
def _fresh_facets() -> None:
    # Facet options are cached for a minute, and on_commit (which forgets them) does not run
    # inside a test transaction.
    cache.clear()


def _license(spdx_id: str, *, commercial: bool = True) -> License:
    return license_for(spdx_id, commercial_use=commercial, redistribution=False)


def _publish(org: Organization, slug: str, *, license: str = "CC-BY-4.0", age: timedelta = timedelta(0),
             **fields: Any) -> Dataset:  # fmt: skip
    _license(license)
    return published_dataset(slug, org=org, license=license, published_at=timezone.now() - age, **fields)


@pytest.fixture
def org(make_user: Callable[..., User]) -> Organization:
    return create_organization(name="Speech Co", slug="speech-co", owner=make_user("owner"))


@pytest.fixture
def catalog(org: Organization, mid_month_clock: object) -> dict[str, Dataset]:
    return {
        "speech": _publish(
            org, "welsh-speech", name="Welsh Speech Recordings", task="ASR", locale="cy", format="TSV",
            short_description="Read speech in Welsh.", size_bytes=5 * MB, sample=True, age=timedelta(days=400),
        ),
        "dialogue": _publish(
            org, "support-dialogues", name="Support Dialogues", task="LLM", locale="en", format="JSONL",
            short_description="Customer conversations.", size_bytes=200 * 1024, is_paid=True,
            base_price_cents=25000, license="CC0-1.0", age=timedelta(hours=1),
        ),
        "notes": _publish(
            org, "clinical-notes", name="Clinical Notes", task="NLP", locale="en", format="CSV",
            visibility=Dataset.Visibility.RESTRICTED, size_bytes=100, age=timedelta(days=3),
        ),
        "private": _publish(
            org, "internal-speech", name="Internal Speech Prompts", task="ASR", locale="cy", format="TSV",
            visibility=Dataset.Visibility.PRIVATE, age=timedelta(minutes=5),
        ),
        "draft": create_dataset(organization=org, slug="draft-speech", name="Draft Speech", task="ASR"),
    }  # fmt: skip


def _listed(response: Any) -> list[str]:
    assert response.status_code == 200, response.content[:500]
    return CARD_LINK.findall(response.content.decode())


def _text(response: Any) -> str:
    """The page as text, tags dropped and entities decoded, for plain-word assertions."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def test_catalog_lists_only_published_public_and_restricted(client: Client, catalog: dict[str, Dataset]) -> None:
    response = client.get("/datasets/")
    assert _listed(response) == ["support-dialogues", "clinical-notes", "welsh-speech"]  # newest first
    text = _text(response)
    assert "3 datasets" in text
    assert "Internal Speech" not in text and "Draft Speech" not in text
    # The card shows what a listing needs, price in dollars and restricted access included.
    assert "250.00 USD" in text and "Free" in text and "Access on request" in text
    assert "Speech Co" in text and "CC0-1.0" in text and "JSONL" in text and "5.0 MB" in text
    assert 'href="/organizations/speech-co/"' in response.content.decode()


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("welsh", ["welsh-speech"]),  # a word of the name
        ("recor", ["welsh-speech"]),  # the start of a word is enough
        ("customer", ["support-dialogues"]),  # a word of the short description
        ("speech", ["welsh-speech"]),  # never the private or the draft dataset
    ],
)
def test_search_by_words_and_prefixes(client: Client, catalog: dict[str, Dataset], q: str, expected: list[str]) -> None:
    response = client.get("/datasets/", {"q": q})
    assert _listed(response) == expected
    assert "No exact match" not in _text(response)
    # The form shows the query it answered.
    assert f'value="{q}"' in response.content.decode()


def test_a_typo_is_corrected_to_a_catalog_word(client: Client, catalog: dict[str, Dataset]) -> None:
    response = client.get("/datasets/", {"q": "welsch"})
    assert _listed(response) == ["welsh-speech"]
    assert "No exact match for “welsch”; showing results for “welsh”" in _text(response)


def test_nothing_found_says_so(client: Client, catalog: dict[str, Dataset]) -> None:
    response = client.get("/datasets/", {"q": "zzzqqq"})
    assert _listed(response) == []
    assert "0 datasets" in _text(response) and "No dataset matches" in _text(response)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"task": "ASR"}, ["welsh-speech"]),
        ({"task": ["ASR", "NLP"]}, ["clinical-notes", "welsh-speech"]),
        ({"locale": "en"}, ["support-dialogues", "clinical-notes"]),
        ({"license": "CC0-1.0"}, ["support-dialogues"]),
        ({"format": "CSV"}, ["clinical-notes"]),
        ({"pricing": "free"}, ["clinical-notes", "welsh-speech"]),
        ({"pricing": "compensated"}, ["support-dialogues"]),
        ({"sample": "true"}, ["welsh-speech"]),
        ({"uploadDate": "thisMonth"}, ["support-dialogues", "clinical-notes"]),
        ({"minSize": str(MB)}, ["welsh-speech"]),
        ({"maxSize": str(MB)}, ["support-dialogues", "clinical-notes"]),
        ({"minSize": "1000", "maxSize": str(MB)}, ["support-dialogues"]),
        ({"task": "LLM", "q": "support"}, ["support-dialogues"]),
    ],
)
def test_each_facet_filters(
    client: Client, catalog: dict[str, Dataset], params: dict[str, Any], expected: list[str]
) -> None:
    assert _listed(client.get("/datasets/", params)) == expected


def test_the_form_shows_the_state_of_the_url(client: Client, catalog: dict[str, Dataset]) -> None:
    page = client.get("/datasets/", {"task": "ASR", "locale": "cy", "pricing": "free", "sort": "size"})
    body = page.content.decode()
    assert re.search(r'<input type="checkbox" id="filter-task-\d+" name="task" value="ASR" checked>', body)
    assert re.search(r'<input type="checkbox" id="filter-task-\d+" name="task" value="NLP">', body)
    assert re.search(r'name="locale" value="cy" checked', body)
    assert '<option value="free" selected>' in body
    assert '<option value="size" selected>' in body
    # Every control has a label, every facet group a legend.
    for control_id in re.findall(r'<(?:input|select)[^>]* id="([^"]+)"', body):
        assert f'for="{control_id}"' in body, control_id
    assert body.count("<fieldset") == body.count("<legend>")


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"sort": "size", "sortDirection": "desc"}, ["welsh-speech", "support-dialogues", "clinical-notes"]),
        ({"sort": "size", "sortDirection": "asc"}, ["clinical-notes", "support-dialogues", "welsh-speech"]),
        ({"sort": "newest", "sortDirection": "asc"}, ["welsh-speech", "clinical-notes", "support-dialogues"]),
        ({"sort": "newest"}, ["support-dialogues", "clinical-notes", "welsh-speech"]),
    ],
)
def test_sorting(client: Client, catalog: dict[str, Dataset], params: dict[str, str], expected: list[str]) -> None:
    assert _listed(client.get("/datasets/", params)) == expected


def test_pagination_keeps_the_query(client: Client, catalog: dict[str, Dataset]) -> None:
    first = client.get("/datasets/", {"limit": "1", "sort": "size", "sortDirection": "asc"})
    assert _listed(first) == ["clinical-notes"]
    assert "Page 1 of 3" in _text(first) and "3 datasets" in _text(first)
    body = html.unescape(first.content.decode())
    next_link = re.search(r'<a href="(\?[^"]+)" rel="next"', body)
    assert next_link is not None and "Previous page" not in body
    second = client.get("/datasets/" + next_link.group(1))
    assert _listed(second) == ["support-dialogues"]
    assert "Page 2 of 3" in _text(second)
    assert 'rel="prev"' in second.content.decode() and 'rel="next"' in second.content.decode()
    # The limit survives into the form, so a new filter keeps the page size.
    assert '<input type="hidden" name="limit" value="1">' in first.content.decode()
    past = client.get("/datasets/", {"page": "9"})
    assert _listed(past) == [] and "past the last one" in _text(past)


def test_htmx_request_gets_only_the_results(client: Client, catalog: dict[str, Dataset]) -> None:
    full = client.get("/datasets/", {"q": "welsh"})
    partial = client.get("/datasets/", {"q": "welsh"}, HTTP_HX_REQUEST="true")
    assert "<html" in full.content.decode() and 'id="catalog-form"' in full.content.decode()
    body = partial.content.decode()
    assert "<html" not in body and "<form" not in body and 'id="catalog-form"' not in body
    assert _listed(partial) == ["welsh-speech"]
    assert 'id="results-status" hx-swap-oob="innerHTML">1 dataset<' in body
    # The browser must not show a cached fragment as the page when the back button returns.
    assert "HX-Request" in partial["Vary"] and "HX-Request" in full["Vary"]
    # A history restore comes from htmx but needs the whole page.
    restore = client.get("/datasets/", {"q": "welsh"}, HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true")
    assert "<html" in restore.content.decode()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"sort": "price"}, "sort='price' is not one of relevance, newest, size"),
        ({"page": "0"}, "page=0 must be at least 1"),
        ({"limit": "1000"}, "limit=1000 must be between 1 and 100"),
        ({"minSize": "big"}, "minSize='big' is not a number of bytes"),
        ({"uploadDate": "yesterday"}, "uploadDate='yesterday' is not one of"),
    ],
)
def test_bad_parameter_gives_400_with_a_message(
    client: Client, catalog: dict[str, Dataset], params: dict[str, str], message: str
) -> None:
    response = client.get("/datasets/", params)
    assert response.status_code == 400
    text = _text(response)
    assert message in text and "Traceback" not in text
    assert 'id="catalog-form"' in response.content.decode()  # the form is there to fix the search
    assert 'name="limit"' not in response.content.decode()  # a bad page size is not carried on
    partial = client.get("/datasets/", params, HTTP_HX_REQUEST="true")
    assert partial.status_code == 400 and message in _text(partial) and "<html" not in partial.content.decode()


def test_catalog_query_count_does_not_grow_with_the_page(
    client: Client, org: Organization, django_assert_max_num_queries: Any
) -> None:
    for i in range(3):
        _publish(org, f"set-{i}", task="ASR", locale="en", format="TSV", age=timedelta(minutes=i))
    # Generous bound; the real check is that 3 and 30 datasets cost the same, each asked with
    # nothing cached (what the site caches for a while, facets or whether anything moved away,
    # would otherwise make the first count depend on the tests before it).
    cache.clear()
    with django_assert_max_num_queries(10) as few:
        assert len(_listed(client.get("/datasets/", {"limit": "100"}))) == 3
    for i in range(3, 30):
        _publish(org, f"set-{i}", task="NLP", locale="fr", format="CSV", age=timedelta(minutes=i))
    cache.clear()
    with django_assert_max_num_queries(len(few.captured_queries)) as many:
        assert len(_listed(client.get("/datasets/", {"limit": "100"}))) == 30
    assert len(many.captured_queries) == len(few.captured_queries)
    cache.clear()
    # A search counts its matches apart from ranking them: one query more than a listing, at any size.
    with django_assert_max_num_queries(len(few.captured_queries) + 1):
        assert len(_listed(client.get("/datasets/", {"limit": "100", "q": "set"}))) == 30


# The dataset page.


@pytest.fixture
def documented(org: Organization) -> Dataset:
    dataset = _publish(
        org,
        "documented",
        name="Documented Speech",
        task="ASR",
        locale="cy",
        format="TSV",
        short_description="Short words.",
        long_description="Some **bold** claims.\n\n<script>alert('owned')</script>\n\n[bad](javascript:alert(1))",
        intended_usage="Training *ASR* models.",
        forbidden_usage="Voice cloning.",
        restrictions="Research only.",
        additional_conditions="Cite the paper.",
        ethical_review_process="Reviewed by the board.",
        other="Recorded in 2024.",
        funded_by_full_name="Welsh Fund",
        funded_by_email="fund@example.org",
        created_by_full_name="Ann Maker",
        created_by_email="ann@example.org",
        point_of_contact_full_name="Pat Contact",
        point_of_contact_email="pat@example.org",
        legal_contact_full_name="Lee Legal",
        legal_contact_email="lee@example.org",
        is_paid=True,
        base_price_cents=1999,
    )
    publish_version(
        dataset=dataset,
        archive_key=f"published/{dataset.id}/b.tar.gz",
        size_bytes=2 * MB,
        sha256="b" * 64,
        license=_license("CC-BY-4.0"),
    )
    dataset.refresh_from_db()
    return dataset


def test_dataset_page_shows_the_datasheet(client: Client, documented: Dataset) -> None:
    response = client.get("/datasets/documented/")
    assert response.status_code == 200
    body, text = response.content.decode(), _text(response)
    for value in ("Documented Speech", "Short words.", "Voice cloning.", "Research only.", "Cite the paper.",
                  "Reviewed by the board.", "Recorded in 2024.", "Welsh Fund", "Ann Maker", "Speech Co",
                  "Automatic speech recognition (ASR)", "19.99 USD"):  # fmt: skip
        assert value in text, value
    assert "<strong>bold</strong>" in body and "<em>ASR</em>" in body  # Markdown rendered
    # Versions newest first, sizes and file names; hashes shortened, the whole of each to hover and copy.
    v2, v1 = body.index("documented-v2.tar.gz"), body.index("documented-v1.tar.gz")
    assert v2 < v1
    for full in ("b" * 64, hashlib.sha256(b"documented").hexdigest()):
        assert f'title="{full}"' in body and f'data-copy="{full}"' in body
        assert f">{full[:12]}…</code>" in body
        assert f">{full}<" not in body  # never the raw 64 characters as text
    assert "2.0 MB" in text
    # License with its hash and permissions in plain words.
    terms = _license("CC-BY-4.0")
    assert terms.text_sha256 in body and "CC-BY-4.0" in text and 'href="https://licenses.example.org/CC-BY-4.0"' in body
    assert "Commercial use allowed" in text and "Redistribution not allowed" in text
    assert "Attribution required" in text and "Share-alike not required" in text
    # The signed manifest, key and inclusion proof to download, and the command that checks them;
    # how to license it, and how the SDK fetches it.
    assert f"/api/v1/datasets/{documented.id}/versions/2/manifest" in body and "python -m provenance.verify" in text
    assert "Log in to accept the terms, buy and download." in text
    assert f'download_dataset("{documented.id}", extract=True)' in html.unescape(body)
    assert "from datacollective import download_dataset" in text


def test_dataset_page_sanitizes_markdown(client: Client, documented: Dataset) -> None:
    body = client.get("/datasets/documented/").content.decode()
    description = body[body.index('id="description"') : body.index('id="datasheet"')]
    assert "<strong>bold</strong>" in description
    assert "<script" not in description and "alert(" not in body and "owned" not in body
    # htmx, the header's menus and the page's tabs and copy buttons, ours; and the schema.org data
    # block, which never runs.
    assert body.count("<script") == 4
    assert 'src="/static/js/menus.js"' in body
    assert body.count('<script type="application/ld+json">') == 1
    assert 'src="/static/js/dataset.js"' in body
    assert "javascript:" not in body
    assert ">bad</a>" in description  # the link text stays, its address does not


def test_contact_info_only_when_chosen(client: Client, documented: Dataset) -> None:
    hidden = _text(client.get("/datasets/documented/"))
    for private in ("Pat Contact", "pat@example.org", "Lee Legal", "lee@example.org", "ann@example.org"):
        assert private not in hidden, private
    assert "chose not to show contact details" in hidden
    Dataset.objects.filter(id=documented.id).update(show_contact_info=True)
    shown = _text(client.get("/datasets/documented/"))
    for contact in ("Pat Contact", "pat@example.org", "Lee Legal", "lee@example.org", "ann@example.org"):
        assert contact in shown, contact


def test_removed_dataset_answers_410_with_the_reason(client: Client, documented: Dataset) -> None:
    Dataset.objects.filter(id=documented.id).update(
        status=Dataset.Status.REMOVED, removed_at=timezone.now(), removal_reason="Consent was withdrawn."
    )
    response = client.get("/datasets/documented/")
    assert response.status_code == 410
    text = _text(response)
    assert "This dataset was removed" in text and "Consent was withdrawn." in text
    assert "Voice cloning" not in text
    assert "documented" not in _listed(client.get("/datasets/"))


def test_draft_and_unknown_datasets_are_404(client: Client, catalog: dict[str, Dataset]) -> None:
    assert client.get("/datasets/draft-speech/").status_code == 404
    assert client.get("/datasets/no-such-thing/").status_code == 404


def test_private_dataset_only_for_members(
    client: Client, catalog: dict[str, Dataset], org: Organization, make_user: Callable[..., User]
) -> None:
    assert client.get("/datasets/internal-speech/").status_code == 404
    outsider = make_user("outsider")
    client.force_login(outsider)
    assert client.get("/datasets/internal-speech/").status_code == 404
    add_member(organization=org, user=outsider, role=Membership.Role.MEMBER)
    response = client.get("/datasets/internal-speech/")
    assert response.status_code == 200 and "Internal Speech Prompts" in _text(response)
    assert "members of Speech Co only" in _text(response)
    # Membership shows the page; the catalog still never lists it.
    assert "internal-speech" not in _listed(client.get("/datasets/"))


def test_public_and_restricted_pages_are_open(client: Client, catalog: dict[str, Dataset]) -> None:
    restricted = client.get("/datasets/clinical-notes/")
    assert restricted.status_code == 200
    assert "access is granted on request" in _text(restricted)
    assert client.get("/datasets/welsh-speech/").status_code == 200


# Organization and start page.


def test_organization_page_lists_its_datasets(client: Client, catalog: dict[str, Dataset]) -> None:
    response = client.get("/organizations/speech-co/")
    assert _listed(response) == ["support-dialogues", "clinical-notes", "welsh-speech"]
    assert "Speech Co" in _text(response) and "Not yet approved to upload datasets" in _text(response)
    assert client.get("/organizations/nobody/").status_code == 404


def test_a_card_shows_what_changed_since_it_was_last_shown(
    client: Client, org: Organization, catalog: dict[str, Dataset]
) -> None:
    # Rendered cards are remembered per process, keyed by the values they show: a change to any of
    # them (the organization's name, the price, the access) shows on the next page, in every listing.
    def card(path: str) -> str:
        body = client.get(path).content.decode()
        start = body.index('<a href="/datasets/welsh-speech/">')
        return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body[start : body.index("</li>", start)])))

    before = card("/datasets/")
    assert "by Speech Co" in before and "Free" in before and "Access on request" not in before
    assert card("/organizations/speech-co/") == before and card("/") == before
    Organization.objects.filter(id=org.id).update(name="Voices & Co")  # no signal: the card must not care
    Dataset.objects.filter(id=catalog["speech"].id).update(
        is_paid=True, base_price_cents=1250, visibility=Dataset.Visibility.RESTRICTED
    )
    forget_facets()
    for path in ("/datasets/", "/organizations/speech-co/", "/"):  # the home page: among the newest
        after = card(path)
        assert "by Voices & Co" in after and "12.50 USD" in after and "Access on request" in after, path


def test_home_page_search_featured_newest_and_tasks(
    client: Client, catalog: dict[str, Dataset], django_assert_max_num_queries: Any
) -> None:
    with django_assert_max_num_queries(4):
        response = client.get("/")
    body, text = response.content.decode(), _text(response)
    assert re.search(r'<form[^>]+method="get" action="/datasets/"', body)
    assert '<label for="home-q">Search datasets</label>' in body
    free_section = body[body.index('id="free"') : body.index('id="newest"')]
    assert CARD_LINK.findall(free_section) == ["welsh-speech"]  # public and free; restricted and paid are not
    newest_section = body[body.index('id="newest"') : body.index('id="by-task"')]
    assert CARD_LINK.findall(newest_section) == ["support-dialogues", "clinical-notes", "welsh-speech"]
    assert 'href="/datasets/?task=ASR"' in body and "Automatic speech recognition 1 dataset" in text
    assert 'href="/datasets/?task=LLM"' in body and 'href="/datasets/?task=NLP"' in body
    assert "Internal Speech" not in text


# Counts beside the filter options, and language names (issue 22).


def _facet_counts(body: str, name: str) -> dict[str, int]:
    """Each option of a checkbox facet with the count shown beside it (in the page, or swapped in
    out of band by the htmx results)."""
    ids = re.findall(rf'<input type="checkbox" id="(filter-{name}-\d+)" name="{name}" value="([^"]+)"', body)
    if not ids:  # a partial has no form: its count spans name the options by id
        ids = [(found, found) for found in re.findall(rf'id="(filter-{name}-\d+)-count"', body)]
    counts = {}
    for control_id, value in ids:
        shown = re.search(rf'id="{control_id}-count"[^>]*>(?:<span class="visually-hidden">, </span>)?(\d+)', body)
        assert shown is not None, control_id
        counts[value] = int(shown.group(1))
    return counts


def test_each_filter_option_shows_its_count_with_the_other_filters_applied(
    client: Client, catalog: dict[str, Dataset]
) -> None:
    # Nothing chosen: the listed datasets per option (never the private or the draft one).
    body = client.get("/datasets/").content.decode()
    assert _facet_counts(body, "locale") == {"cy": 1, "en": 2}
    assert _facet_counts(body, "format") == {"CSV": 1, "JSONL": 1, "TSV": 1}
    assert _facet_counts(body, "license") == {"CC-BY-4.0": 2, "CC0-1.0": 1}
    assert {task: n for task, n in _facet_counts(body, "task").items() if n} == {"ASR": 1, "LLM": 1, "NLP": 1}
    # English chosen: the language facet still counts every language (ticking Welsh would add one),
    # the other facets count within English.
    body = client.get("/datasets/", {"locale": "en"}).content.decode()
    assert _facet_counts(body, "locale") == {"cy": 1, "en": 2}
    assert _facet_counts(body, "format") == {"CSV": 1, "JSONL": 1, "TSV": 0}
    assert _facet_counts(body, "task")["ASR"] == 0 and _facet_counts(body, "task")["LLM"] == 1
    # The search words and the selects narrow every facet.
    body = client.get("/datasets/", {"q": "customer", "pricing": "compensated"}).content.decode()
    assert _facet_counts(body, "locale") == {"cy": 0, "en": 1}
    assert _facet_counts(body, "license") == {"CC-BY-4.0": 0, "CC0-1.0": 1}


def test_the_htmx_results_update_the_counts_in_the_form(client: Client, catalog: dict[str, Dataset]) -> None:
    page = client.get("/datasets/").content.decode()
    partial = client.get("/datasets/", {"format": "TSV"}, HTTP_HX_REQUEST="true").content.decode()
    # The same ids as the page's options, swapped out of band, with the counts of the new search.
    page_ids = dict(re.findall(r'id="(filter-locale-\d+)" name="locale" value="([^"]+)"', page))
    swapped = _facet_counts(partial, "locale")
    assert {page_ids[control_id]: n for control_id, n in swapped.items()} == {"cy": 1, "en": 0}
    assert 'hx-swap-oob="true"' in partial and "<form" not in partial


def test_a_new_dataset_is_counted_at_once(client: Client, org: Organization, catalog: dict[str, Dataset]) -> None:
    assert _facet_counts(client.get("/datasets/", {"task": "ASR"}).content.decode(), "locale") == {"cy": 1, "en": 0}
    _publish(org, "more-welsh", task="ASR", locale="cy", format="TSV")
    forget_facets()  # what publishing does on commit, which a test transaction never reaches
    assert _facet_counts(client.get("/datasets/", {"task": "ASR"}).content.decode(), "locale") == {"cy": 2, "en": 0}


def test_languages_show_by_name_in_the_visitors_language(client: Client, catalog: dict[str, Dataset]) -> None:
    english = _text(client.get("/datasets/"))
    assert "Welsh" in english and "English" in english
    client.cookies["django_language"] = "ko"
    korean = client.get("/datasets/")
    assert '<html lang="ko">' in korean.content.decode()
    text = _text(korean)
    assert "웨일스어" in text and "영어" in text and "데이터셋 3개" in text and "필터" in text
    # Each option's count is read out in Korean too (built in Python, with the page's translation).
    assert '2<span class="visually-hidden">개 데이터셋</span>' in korean.content.decode()
    assert '<abbr title="자동 음성 인식">ASR</abbr>' in korean.content.decode()  # the card's task, in Korean
    dataset = _text(client.get("/datasets/welsh-speech/"))
    assert re.search(r"언어 웨일스어 \( ?cy ?\)", dataset) and "라이선스" in dataset
    assert re.search(r"최초 게시 \d{4}년 \d{1,2}월 \d{1,2}일", dataset)  # a date as Korean writes it
    client.cookies["django_language"] = "es"
    assert "galés" in _text(client.get("/datasets/"))
    assert re.search(r"Idioma galés \( ?cy ?\)", _text(client.get("/datasets/welsh-speech/")))


def test_an_unknown_locale_shows_as_written(client: Client, org: Organization) -> None:
    _publish(org, "odd", locale="xx-RU")
    _publish(org, "chuvash", locale="cv-RU")
    text = _text(client.get("/datasets/"))
    assert "xx-RU" in text and "Chuvash (Russia)" in text
