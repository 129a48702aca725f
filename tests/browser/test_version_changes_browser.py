"""In chromium, on a laptop and a phone: from a dataset's versions to the changes between two of
them, in the realistic world (valley-speech has three versions, each uploaded and validated)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.world import World, speech_files

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(("width", "height"), [(1366, 900), (390, 844)], ids=["laptop", "phone"])
def test_from_the_versions_to_the_changes_of_a_version(
    page: Any, world: World, width: int, height: int, tmp_path: Path
) -> None:
    page.set_viewport_size({"width": width, "height": height})
    dataset = world.datasets["valley-speech"]
    page.goto(f"/datasets/{dataset.slug}/")
    page.locator("nav.tabs").get_by_role("link", name="Versions").click()  # the page opens on the card
    versions = page.locator("table.versions")
    expect(versions.get_by_role("link", name="Changes from v2")).to_be_visible()
    versions.get_by_role("link", name="Changes from v1").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Changes in version 2 since version 1")
    expect(page.get_by_text("5 added, 3 removed, 2 changed, 0 unchanged.")).to_be_visible()
    changed = page.locator("section", has=page.get_by_role("heading", name="Changed"))
    index = changed.get_by_role("row", name="train.tsv")
    expect(index).to_contain_text("3 → 5")
    full = hashlib.sha256(speech_files("speech-2", clips=5)["train.tsv"]).hexdigest()
    expect(index.locator(f'code[title="{full}"]')).to_have_text(f"{full[:12]}…")
    # Nothing but the tables scrolls sideways: the page itself fits the screen.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(tmp_path / f"changes-{width}.png"), full_page=True)

    page.get_by_role("link", name="version 3", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Changes in version 2 since version 3")
    expect(page.get_by_role("heading", name="Added")).to_be_visible()
    page.goto(f"/datasets/{dataset.slug}/#versions")  # the tab's address opens it
    section = page.locator("section#versions")
    section.screenshot(path=str(tmp_path / f"versions-{width}.png"))
