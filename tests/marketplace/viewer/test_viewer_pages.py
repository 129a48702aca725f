"""The viewer on the dataset page (marketplace/viewer/pages.py), in the realistic world: the htmx
fragment and the page without script, paging, search, filter and order, the filter's error in
words, column statistics, audio players, and the license rule the viewer API follows."""

from __future__ import annotations

import hashlib
import html
import re
from typing import Any

import pytest
import requests
from django.test import Client

from licensing.revenue import payments
from marketplace.models import Dataset, User
from marketplace.viewer.pages import header_order
from marketplace.viewer.predicates import parse_orderby
from tests.world import World, speech_files

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def get(world: World, handle: str, person: str | User | None = None, htmx: bool = True, **params: Any) -> Any:
    client = Client()
    if person is not None:
        client.force_login(world.people[person] if isinstance(person, str) else person)
    slug = world.datasets[handle].slug
    return client.get(f"/datasets/{slug}/viewer/", params, headers=HTMX if htmx else {})


def text(response: Any) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def cells(response: Any, column: str) -> list[str]:
    """The text of one column of the rows table, by its header."""
    body = response.content.decode()
    thead = re.search(r"<thead>(.*?)</thead>", body, flags=re.S)
    assert thead is not None, "no rows table"
    names = [re.sub(r"<[^>]+>|[▲▼]", "", h).strip() for h in re.findall(r"<th [^>]*>(.*?)</th>", thead.group(1))]
    index = names.index(column)
    found = []
    for row in re.findall(r"<tr><th scope=\"row\">(.*?)</tr>", body, flags=re.S):
        parts = [re.sub(r"<[^>]+>", "", p).strip() for p in re.split(r"</t[hd]>", row)]
        found.append(html.unescape(parts[index]))
    return found


def test_the_fragment_and_the_page_without_script(world: World) -> None:
    fragment = get(world, "north-corpus")
    assert fragment.status_code == 200
    body = fragment.content.decode()
    assert body.lstrip().startswith('<div class="viewer" id="viewer-body">')
    assert "<!doctype" not in body.lower() and "HX-Request" in fragment["Vary"]
    assert "Rows of the whole dataset, version 1." in text(fragment) and "Rows 1–7 of 7." in text(fragment)
    page = get(world, "north-corpus", htmx=False)
    assert page.status_code == 200 and "<html" in page.content.decode()
    assert "Viewer: Northwind Web Text" in text(page) and "Rows 1–7 of 7." in text(page)
    # The dataset page loads it in its viewer tab, and links to it for a browser without script.
    dataset_page = Client().get("/datasets/" + world.datasets["north-corpus"].slug + "/").content.decode()
    assert 'hx-get="/datasets/' + world.datasets["north-corpus"].slug + '/viewer/"' in dataset_page


def test_paging_search_filter_and_order(world: World) -> None:
    second = get(world, "north-corpus", length=2, offset=2)
    assert "Rows 3–4 of 7." in text(second)
    body = second.content.decode()
    base = f"/datasets/{world.datasets['north-corpus'].slug}/viewer/"
    assert f'rel="prev" href="{base}?length=2"' in body  # back to the first page
    assert f'rel="next" href="{base}?length=2&amp;offset=4"' in body
    too_long = get(world, "north-corpus", length=101)
    assert too_long.status_code == 400 and "length: Ensure this value is less than or equal to 100." in text(too_long)
    no_split = get(world, "north-corpus", split="nope")
    assert no_split.status_code == 400 and "No split 'nope': this version has train." in text(no_split)
    found = get(world, "north-corpus", q="NOTE 3")
    assert "Rows 1–1 of 1" in text(found) and cells(found, "text") == ["note 3 of web"]
    both = get(world, "north-corpus", q="note", where="id >= 3")
    assert sorted(cells(both, "text")) == ["note 3 of web", "note 4 of web"]
    ordered = get(world, "north-corpus", where="text IS NOT NULL", orderby="id DESC")
    assert cells(ordered, "id") == ["4", "3", "2", "1", "0"]
    assert '<th scope="col" aria-sort="descending"><a href="/datasets/' in ordered.content.decode()
    # The header's link asks for the other direction and keeps the filter.
    link = re.search(r'aria-sort="descending"><a href="([^"]+)"', ordered.content.decode()).group(1)  # type: ignore[union-attr]
    assert "orderby=id+ASC" in html.unescape(link) and "where=text+IS+NOT+NULL" in html.unescape(link)


@pytest.mark.parametrize(
    ("where", "said"),
    [
        ("id = 1; DROP TABLE x", "Unexpected character ';' (at character 7)"),
        ("nope = 1", "No column 'nope'"),
        ("id = 'abc'", "does not fit"),
    ],
)
def test_a_bad_filter_is_a_400_fragment_that_says_why_under_the_box(world: World, where: str, said: str) -> None:
    answer = get(world, "north-corpus", where=where)
    assert answer.status_code == 400
    body = answer.content.decode()
    error = re.search(r'<p class="field-error" id="viewer-where-error">(.*?)</p>', body)
    assert error is not None and said in html.unescape(error.group(1))
    assert f'value="{html.escape(where)}"' in body.replace("&#x27;", "&#39;") or where in html.unescape(body)
    assert "<table" not in body


def test_a_paid_dataset_shows_its_licensee_the_sample_until_paid(world: World) -> None:
    before = get(world, "north-paid", "licensee")
    assert "Rows of the free sample of version 1" in text(before)
    assert "note 0 of news-sample" in cells(before, "text") and "note 0 of news" not in cells(before, "text")
    assert "free sample" in text(get(world, "north-paid"))  # anonymous
    assert "whole dataset" in text(get(world, "north-paid", world.member("north", "member")))
    invoice, _ = payments.open_invoice(user=world.people["licensee"], dataset=world.datasets["north-paid"])
    payments.record_payment(invoice_id=invoice.id, recorded_by=world.member("north", "admin"), reference="T-9")
    paid = get(world, "north-paid", "licensee")
    assert "Rows of the whole dataset" in text(paid) and "note 0 of news" in cells(paid, "text")
    # A paid dataset without a sample says why there is nothing to show.
    refused = get(world, "valley-paid", "licensee")
    assert refused.status_code == 200 and "no sample to show" in text(refused) and "<table" not in text(refused)
    # In Korean, the whole sentence is Korean: the license's verdict is translated like the page.
    client = Client()
    client.force_login(world.people["licensee"])
    client.cookies["django_language"] = "ko"
    korean = text(client.get(f"/datasets/{world.datasets['valley-paid'].slug}/viewer/", headers=HTMX))
    assert "유료이며 아직 구매하지 않았습니다" in korean and "is paid" not in korean


def test_private_datasets_stay_unknown_to_outsiders(world: World) -> None:
    assert get(world, "valley-private", "licensee").status_code == 404
    assert get(world, "valley-private", world.member("valley", "member")).status_code == 200
    assert get(world, "north-removed").status_code == 410


def test_column_statistics_as_small_charts_with_their_numbers_in_words(world: World) -> None:
    answer = get(world, "north-corpus")
    body, words = answer.content.decode(), text(answer)
    assert "id int64, notes.jsonl 5 values, 0 nulls" in words and "label string, labels.csv 2 values" in words
    # Numbers: min, mean and max as text, the mean drawn on the range.
    assert re.search(r"<title id=\"chart-\d+-title\">id: min 0, mean 2, max 4</title>", body)
    # Text: the most frequent values as bars, titled and in a hidden table.
    label = re.search(r"<title id=\"chart-\d+-title\">Most frequent values of label: ([^<]*)</title>", body)
    assert label is not None and set(label.group(1).split("; ")) == {"a 1", "b 1"}
    assert "<caption>Most frequent values of label</caption>" in body
    assert body.count('class="bar"') >= 2


def _clip_sha256(url: str) -> str:
    answer = requests.get(html.unescape(url), timeout=10)
    answer.raise_for_status()
    return hashlib.sha256(answer.content).hexdigest()


def test_audio_cells_play_the_stored_member(world: World) -> None:
    answer = get(world, "valley-speech")
    body = answer.content.decode()
    players = re.findall(r'<audio controls preload="none" src="([^"]+)"></audio>', body)
    assert len(players) == 6 == len(cells(answer, "path"))  # version 3: six clips
    first = cells(answer, "path")[0]
    assert first.startswith("clips/speech-3-")
    assert _clip_sha256(players[0]) == hashlib.sha256(speech_files("speech-3", clips=6)[first]).hexdigest()
    assert "/members/sha256/" in players[0] and "X-Amz-Expires=300" in html.unescape(players[0])


def test_sample_rows_play_only_clips_whose_bytes_are_stored(
    world: World,
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    # Gated, valley-speech shows visitors its sample: one clip cut from the archive's bytes. (Saved
    # as the dataset's settings save it, so what the viewer kept of it goes once the change commits.)
    gated = Dataset.objects.get(id=world.datasets["valley-speech"].id)
    gated.visibility = Dataset.Visibility.RESTRICTED
    with django_capture_on_commit_callbacks(execute=True):
        gated.save(update_fields=["visibility"])
    answer = get(world, "valley-speech")
    assert "free sample" in text(answer) and cells(answer, "path") == ["clips/sample-0.wav"]
    players = re.findall(r'<audio controls preload="none" src="([^"]+)"></audio>', answer.content.decode())
    assert len(players) == 1
    assert _clip_sha256(players[0]) == hashlib.sha256(speech_files("sample", clips=1)["clips/sample-0.wav"]).hexdigest()


@pytest.mark.parametrize(
    ("name", "current", "expected"),
    [
        ("id", "", ("id ASC", "none")),
        ("id", "id ASC", ("id DESC", "ascending")),
        ("id", "id", ("id DESC", "ascending")),
        ("id", "id DESC", ("id ASC", "descending")),
        ("desc", "", ('"desc" ASC', "none")),  # a keyword of the language, quoted
        ('say "hi"', "", ('"say ""hi""" ASC', "none")),
    ],
)
def test_a_header_asks_for_ascending_then_descending(name: str, current: str, expected: tuple[str, str]) -> None:
    assert header_order(name, current) == expected
    parse_orderby(expected[0], [name])  # and the language reads it back


def test_a_page_with_audio_players_costs_a_bounded_number_of_queries(
    world: World, django_assert_max_num_queries: Any
) -> None:
    # Not one per row or per player: the signed manifest is read once per page (on a warm server,
    # which knows for half a minute that nothing moved away).
    get(world, "valley-speech")
    with django_assert_max_num_queries(10):  # six rows, six players
        assert get(world, "valley-speech").status_code == 200
