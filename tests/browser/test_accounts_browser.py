"""In chromium: sign up, log out, log in, verify the address (an API key waits for it), create an
API key and see it exactly once."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from licensing.keys.services import hash_api_key
from licensing.models import ApiKey
from tests.browser.conftest import open_menu

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_sign_up_log_in_and_create_a_key_seen_once(page: Any) -> None:
    page.goto("/")
    page.get_by_role("link", name="Sign up").click()
    page.get_by_label("Username").fill("browser-user")
    page.get_by_label("Email").fill("browser-user@example.org")
    page.get_by_label("Password", exact=True).fill("a-long-browser-password")
    page.get_by_label("Password again").fill("a-long-browser-password")
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url("**/account/")
    expect(page.get_by_text("Welcome, browser-user")).to_be_visible()

    open_menu(page)
    page.get_by_role("button", name="Log out").click()
    page.get_by_role("link", name="Log in").click()
    page.get_by_label("Username").fill("browser-user")
    page.get_by_label("Password").fill("a-long-browser-password")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/account/")

    # A key waits for a verified address: the page says so and mails the link again.
    page.get_by_label("Name").fill("notebook")
    page.get_by_role("button", name="Create key").click()
    expect(page.get_by_role("heading", name="Verify your email address first")).to_be_visible()
    assert not ApiKey.objects.filter(user__username="browser-user").exists()
    page.get_by_role("button", name="Send the link again").click()
    page.wait_for_url("**/accounts/email/")
    link = re.search(r"https?://[^/\s]+(/accounts/confirm-email/\S+)", str(mail.outbox[-1].body)).group(1)  # type: ignore[union-attr]
    page.goto(link)
    page.get_by_role("button", name="Confirm").click()
    page.goto("/account/")
    expect(page.locator("body")).not_to_contain_text("not verified yet")

    page.get_by_label("Name").fill("notebook")
    page.get_by_label("Upload: create submissions and upload archives").check()
    page.get_by_role("button", name="Create key").click()
    expect(page.get_by_test_id("new-api-key")).to_be_visible()
    raw_key = page.get_by_test_id("new-api-key").input_value()
    assert re.fullmatch(r"dck_[A-Za-z0-9_-]{43}", raw_key)
    expect(page.get_by_text("it is shown only this once")).to_be_visible()

    stored = ApiKey.objects.get(user__username="browser-user")
    assert stored.key_hash == hash_api_key(raw_key)
    assert stored.scopes == ["download", "read", "upload"]

    page.get_by_role("link", name="Done").click()
    page.wait_for_url("**/account/")
    expect(page.get_by_role("cell", name="notebook", exact=True)).to_be_visible()
    expect(page.get_by_test_id("new-api-key")).to_have_count(0)
    expect(page.locator("body")).not_to_contain_text(raw_key)

    # The key page answered a POST and is marked no-store: going back must not show it again.
    try:
        page.go_back()
    except PlaywrightError as refusal:
        assert "ERR_CACHE_MISS" in str(refusal)
    expect(page.get_by_test_id("new-api-key")).to_have_count(0)
