"""In chromium: a contributor gives their payout details, downloads their data as JSON, then
deletes their account and cannot sign in again. Each page is photographed at a desktop and a
phone width (the files land in the test's tmp_path)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from licensing.models import PayoutDetails
from marketplace.models import User
from tests.browser.test_submission_browser import log_in
from tests.licensing.contributors.test_portability import busy_person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = (1366, 390)


def photograph(page: Any, folder: Path, name: str) -> None:
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(folder / f"{name}-{width}.png"), full_page=True)
        # Nothing is wider than the window (a table or a code block pushing the page sideways).
        assert page.evaluate("document.documentElement.scrollWidth") <= width, f"{name} overflows at {width}px"
    page.set_viewport_size({"width": WIDTHS[0], "height": 900})


def test_payout_details_export_and_deletion(page: Any, live_server: Any, tmp_path: Path) -> None:
    world = busy_person("ana")
    PayoutDetails.objects.filter(user=world["user"]).delete()
    log_in(page, "ana", "ana-password-123")

    page.get_by_role("link", name="Payout details").click()
    expect(page.locator("#saved-payout-details")).to_contain_text("No payout details yet")
    page.get_by_label("How to pay you").select_option("bank")
    page.get_by_label("Account holder").fill("Ana Lima")
    page.get_by_label("Account", exact=True).fill("DE89 3704 0044 0532 0130 01")
    page.get_by_role("button", name="Save payout details").click()
    expect(page.get_by_role("alert").first).to_contain_text("not a valid one")
    photograph(page, tmp_path, "payout-details-refused")
    page.get_by_label("Account", exact=True).fill("DE89 3704 0044 0532 0130 00")
    page.get_by_role("button", name="Save payout details").click()
    expect(page.locator("#saved-payout-details")).to_contain_text("DE89 3704 0044 0532 0130 00")
    photograph(page, tmp_path, "payout-details")

    page.goto("/account/")
    page.get_by_role("link", name="Your data").click()
    expect(page.get_by_role("heading", name="Your data")).to_be_visible()
    photograph(page, tmp_path, "my-data")
    with page.expect_download() as info:
        page.get_by_role("link", name="Download your data (JSON)").click()
    saved = tmp_path / info.value.suggested_filename
    info.value.save_as(saved)
    document = json.loads(saved.read_text())
    assert document["format"] == "datacollective-personal-data/1"
    assert document["payoutDetails"]["account"] == "DE89 3704 0044 0532 0130 00"
    assert len(document["consentRecords"]) == 2

    page.goto("/account/")
    page.get_by_role("link", name="Delete your account").click()
    photograph(page, tmp_path, "delete-account")
    page.get_by_label("Your password").fill("ana-password-123")
    page.get_by_label("I understand").check()
    page.get_by_role("button", name="Delete my account").click()
    expect(page.get_by_text("Your account is deleted")).to_be_visible()
    photograph(page, tmp_path, "deleted")
    assert not User.objects.get(id=world["user"].id).is_active

    page.goto("/login/")
    page.get_by_label("Username").fill("ana")
    page.get_by_label("Password").fill("ana-password-123")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{live_server.url}/login/")
