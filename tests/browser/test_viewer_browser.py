"""In chromium, on a laptop and a phone: the viewer tab of the dataset page, in the realistic world.
A visitor pages, searches, filters and orders a published dataset's rows (Northwind Web Text: a CSV
and a JSON Lines table) and reads a column's statistics; a licensee of a paid dataset sees its
sample; a visitor plays a clip of an audio dataset (Valley Speech)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.test_submission_browser import log_in
from tests.world import PASSWORD, World

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = [(1366, 900), (390, 844)]


def _open_viewer(page: Any, slug: str) -> Any:
    page.goto(f"/datasets/{slug}/")
    page.locator("nav.tabs").get_by_role("link", name="Viewer").click()  # the page opens on the card
    return page.locator("section#viewer")


def _fits_the_screen(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


@pytest.mark.parametrize(("width", "height"), SIZES, ids=["laptop", "phone"])
def test_a_visitor_searches_filters_orders_and_reads_statistics(
    page: Any, world: World, width: int, height: int, tmp_path: Path
) -> None:
    page.set_viewport_size({"width": width, "height": height})
    viewer = _open_viewer(page, world.datasets["north-corpus"].slug)
    count = viewer.locator(".viewer-count")
    expect(count).to_have_text("Rows 1–7 of 7.")
    expect(viewer.locator(".viewer-source")).to_have_text("Rows of the whole dataset, version 1.")
    # A marker on the window: it survives only if htmx updates the tab in place.
    page.evaluate("window.stillTheSamePage = true")
    page.screenshot(path=str(tmp_path / f"viewer-anonymous-{width}.png"), full_page=True)
    assert _fits_the_screen(page)  # only the rows' box scrolls sideways

    viewer.get_by_label("Search").fill("note 3")
    viewer.get_by_role("button", name="Show rows").click()
    expect(count).to_have_text("Rows 1–1 of 1 (search or filter applied).")
    expect(viewer.locator("table.viewer-table tbody tr")).to_have_count(1)
    expect(viewer.locator("table.viewer-table tbody")).to_contain_text("note 3 of web")

    viewer.get_by_label("Search").fill("")
    viewer.get_by_label("Filter").fill("id >= 3 AND nope = 1")
    viewer.get_by_role("button", name="Show rows").click()
    expect(viewer.locator("#viewer-where-error")).to_contain_text("No column 'nope'")
    expect(viewer.get_by_label("Filter")).to_have_attribute("aria-invalid", "true")
    viewer.get_by_label("Filter").fill("id >= 3")
    viewer.get_by_role("button", name="Show rows").click()
    expect(count).to_have_text("Rows 1–2 of 2 (search or filter applied).")

    viewer.get_by_role("link", name="id", exact=True).click()  # ascending
    expect(viewer.locator("th[aria-sort=ascending]")).to_have_text("id ▲")
    viewer.get_by_role("link", name="id ▲").click()  # then descending, the filter kept
    expect(viewer.locator("th[aria-sort=descending]")).to_have_text("id ▼")
    expect(viewer.locator("table.viewer-table tbody tr").first.locator("td").first).to_have_text("4")
    expect(count).to_have_text("Rows 1–2 of 2 (search or filter applied).")

    label = viewer.locator("li.stat-chart", has=page.locator("h4 code", has_text="label"))
    expect(label.locator(".stat-counts")).to_have_text("2 values, 0 nulls, about 2 distinct")
    expect(label.locator("svg title")).to_have_text("Most frequent values of label: a 1; b 1")
    assert page.evaluate("window.stillTheSamePage") is True
    viewer.screenshot(path=str(tmp_path / f"viewer-filtered-{width}.png"))
    assert _fits_the_screen(page)


def test_a_visitor_pages_through_the_rows_without_leaving_the_page(page: Any, world: World) -> None:
    page.goto(f"/datasets/{world.datasets['north-corpus'].slug}/viewer/?length=3")
    count = page.locator(".viewer-count")
    expect(count).to_have_text("Rows 1–3 of 7.")
    expect(page.get_by_role("link", name="Previous")).to_have_count(0)
    page.evaluate("window.stillTheSamePage = true")
    page.get_by_role("link", name="Next").click()
    expect(count).to_have_text("Rows 4–6 of 7.")
    page.get_by_role("link", name="Next").click()
    expect(count).to_have_text("Rows 7–7 of 7.")
    expect(page.get_by_role("link", name="Next")).to_have_count(0)
    page.get_by_role("link", name="Previous").click()
    expect(count).to_have_text("Rows 4–6 of 7.")
    expect(page.locator("table.viewer-table tbody th").first).to_have_text("3")
    assert page.evaluate("window.stillTheSamePage") is True


@pytest.mark.parametrize(("width", "height"), SIZES, ids=["laptop", "phone"])
def test_a_licensee_of_a_paid_dataset_sees_its_sample(
    page: Any, world: World, width: int, height: int, tmp_path: Path
) -> None:
    page.set_viewport_size({"width": width, "height": height})
    log_in(page, world.people["licensee"].username, PASSWORD)
    viewer = _open_viewer(page, world.datasets["north-paid"].slug)
    expect(viewer.locator(".viewer-source")).to_contain_text("Rows of the free sample of version 1")
    expect(viewer.locator("table.viewer-table tbody")).to_contain_text("note 0 of news-sample")
    page.screenshot(path=str(tmp_path / f"viewer-licensee-{width}.png"), full_page=True)
    assert _fits_the_screen(page)


def test_a_visitor_plays_a_clip_of_an_audio_dataset_on_a_phone(page: Any, world: World, tmp_path: Path) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    viewer = _open_viewer(page, world.datasets["valley-speech"].slug)
    players = viewer.locator("audio[controls]")
    expect(players).to_have_count(6)
    # The rows are wider than a phone: their box scrolls sideways, the page does not.
    assert viewer.locator(".viewer-scroll").evaluate("box => box.scrollWidth > box.clientWidth")
    assert _fits_the_screen(page)
    viewer.screenshot(path=str(tmp_path / "viewer-audio-390.png"))
    first = players.first
    assert first.evaluate("a => a.readyState") == 0  # preload="none": nothing fetched before play
    first.scroll_into_view_if_needed()
    box = first.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + 16, box["y"] + box["height"] / 2)  # the player's play button
    page.wait_for_function(
        "a => a.error === null && a.readyState >= 2 && (a.currentTime > 0 || a.ended)", arg=first.element_handle()
    )
    assert first.evaluate("a => a.error") is None
    assert first.evaluate("a => a.currentTime") > 0  # the clip is 12.5 ms long: it played to its end
