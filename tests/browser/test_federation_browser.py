"""In chromium: the catalog lists a followed instance's datasets with their origin and a verified
mark (or the reason they are not); staff add an instance by URL, see each one's state and error
in words, and read a split-view alarm with both signed heads. Each page is photographed at a
desktop and a phone width and may not scroll sideways. Set ``SCREENSHOT_DIR`` to keep the files.
The other instance is tests/federation's misbehaving peer on a loopback port."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from devstack.services import free_port
from marketplace.models import User
from provenance.federation import following
from tests.browser.conftest import open_menu
from tests.browser.test_submission_browser import log_in
from tests.federation.stub_peer import StubPeer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = (1366, 390)


def photograph(page: Any, folder: Path, name: str) -> None:
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(folder / f"{name}-{width}.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= width, f"{name} overflows at {width}px"
    page.set_viewport_size({"width": WIDTHS[0], "height": 900})


@pytest.fixture
def stub_peer() -> Iterator[StubPeer]:
    with StubPeer().running() as peer:
        yield peer


def test_remote_datasets_in_the_catalog_and_the_staff_pages(
    page: Any, live_server: Any, stub_peer: StubPeer, tmp_path: Path
) -> None:
    shots = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    origin = stub_peer.origin
    origin.publish("ds-river", "River Sounds of the Teifi Valley")
    origin.publish("ds-market", "Market Chatter")
    origin.publish("ds-lying", "Lying Feed Corpus")
    origin.feed_sha256["ds-lying"] = "ab" * 32
    peer = following.add_peer(url=stub_peer.url, by=None, following=True, witnessing=True)
    following.sync_peer(peer_id=peer.id)

    page.goto("/datasets/")
    remote = page.locator("li.card.remote")
    expect(remote).to_have_count(3)
    expect(page.locator('li.card.remote[data-verified="true"] .badge.verified')).to_have_count(2)
    lying = page.locator('li.card.remote[data-verified="false"]')
    expect(lying).to_contain_text("Not verified")
    expect(lying).to_contain_text("the feed says the archive's SHA-256 is abababab")
    expect(remote.first).to_contain_text("from Stub Instance")
    photograph(page, shots, "catalog-remote")

    User.objects.create_user("fed-staff", "fed-staff@example.org", "a-long-staff-password", is_staff=True)
    log_in(page, "fed-staff", "a-long-staff-password")
    open_menu(page, "staff-menu")
    page.get_by_role("link", name="Federation").click()
    expect(page.locator(f"#peer-{peer.id}")).to_contain_text("2 of 3 datasets verified")
    # An instance that is down: added by URL, its first sync names the error in words.
    down = f"http://127.0.0.1:{free_port()}"
    page.get_by_label("Instance address").fill(down)
    page.get_by_role("button", name="Add").click()
    expect(page.get_by_role("status")).to_contain_text(f"Added {down}")
    following.sync_all()
    page.reload()
    expect(page.locator("#peers")).to_contain_text("connection refused (is the instance running?)")
    photograph(page, shots, "federation-peers")

    # The peer forks its log: the alarm, linked from the peers page, with both heads.
    origin.leaves[0] = origin.leaves[0].replace("ds-river", "ds-rewritten")
    origin.log("grant", "dataset:ds-market", {"grantId": 1})
    following.sync_peer(peer_id=peer.id)
    page.reload()
    expect(page.locator(f"#peer-{peer.id}")).to_contain_text("1 alarm: it showed two histories")
    page.get_by_role("link", name="Split-view alarms").click()
    expect(page.locator(".alarms")).to_contain_text("does not link")
    page.get_by_text("The earlier signed head (DSSE envelope)").click()
    photograph(page, shots, "federation-alarms")
    page.goto("/datasets/")
    expect(page.locator('li.card.remote[data-verified="false"]')).to_have_count(3)
    photograph(page, shots, "catalog-remote-alarm")
