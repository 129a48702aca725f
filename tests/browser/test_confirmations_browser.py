"""In chromium: every destructive button of the member, invitation and API key pages, and leaving an
organization, asks first. The first click changes nothing and says what will happen; "No" leads
back; only "Yes" acts. And the header's "My account" menu opens from the keyboard and closes on
Escape."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from licensing.keys.services import create_api_key
from licensing.models import ApiKey
from marketplace.models import Invitation, Membership
from marketplace.organizations.services import invite_member
from tests.browser.conftest import open_menu
from tests.browser.test_ways_back_browser import fits, person, second_page, sign_in
from tests.factories import organization

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

__all__ = ["second_page"]  # the fixture, used by name below


def test_removing_a_member_and_revoking_an_invitation_are_confirmed_first(page: Any) -> None:
    owner = person("keeper")
    org = organization("voice-lab", owner=owner)
    helper = person("helper")
    Membership.objects.create(organization=org, user=helper, role="member")
    invite_member(organization=org, email="late@example.org", role="reviewer", invited_by=owner, accept_url=lambda t: t)
    sign_in(page, owner)
    page.goto("/organizations/voice-lab/members/")

    page.get_by_role("button", name="Remove helper").click()
    expect(page.get_by_role("heading", name="Remove helper from Voice Lab?")).to_be_visible()
    expect(page.locator("#confirm-consequences")).to_contain_text("This cannot be undone")
    fits(page, "confirm-remove")
    assert Membership.objects.filter(organization=org, user=helper).exists()
    page.get_by_role("link", name="No, go back").click()
    expect(page.get_by_role("heading", name="Members of Voice Lab")).to_be_visible()
    assert Membership.objects.filter(organization=org, user=helper).exists()

    page.get_by_role("button", name="Remove helper").click()
    page.get_by_role("button", name="Yes, remove helper").click()
    expect(page.get_by_text("The member is removed.")).to_be_visible()
    assert not Membership.objects.filter(organization=org, user=helper).exists()

    page.get_by_role("button", name="Revoke the invitation to late@example.org").click()
    expect(page.get_by_role("heading", name="Revoke the invitation to late@example.org?")).to_be_visible()
    assert Invitation.objects.get(email="late@example.org").revoked_at is None
    page.get_by_role("button", name="Yes, revoke the invitation").click()
    expect(page.get_by_text("The invitation to late@example.org is revoked.")).to_be_visible()
    assert Invitation.objects.get(email="late@example.org").revoked_at is not None


def test_revoking_an_api_key_and_leaving_an_organization_are_confirmed_first(page: Any) -> None:
    owner = person("keeper")
    org = organization("voice-lab", owner=owner)
    helper = person("helper")
    Membership.objects.create(organization=org, user=helper, role="member")
    key, _ = create_api_key(user=helper, name="laptop", scopes=["read"], expires_at=timezone.now() + timedelta(days=30))
    sign_in(page, helper)

    page.goto("/account/")
    page.get_by_role("button", name="Revoke laptop").click()
    expect(page.get_by_role("heading", name="Revoke the key “laptop”?")).to_be_visible()
    expect(page.locator("#confirm-consequences")).to_contain_text(f"{key.prefix}…")
    fits(page, "confirm-key")
    assert ApiKey.objects.get(id=key.id).revoked_at is None
    page.get_by_role("link", name="No, keep it").click()
    expect(page.locator(f"#key-{key.id}")).to_contain_text("active")
    page.get_by_role("button", name="Revoke laptop").click()
    page.get_by_role("button", name="Yes, revoke the key").click()
    expect(page.get_by_text("is revoked; requests with it are now refused")).to_be_visible()
    assert ApiKey.objects.get(id=key.id).revoked_at is not None

    page.goto("/organizations/voice-lab/")
    page.get_by_role("button", name="Leave Voice Lab").click()
    expect(page.get_by_role("heading", name="Leave Voice Lab?")).to_be_visible()
    assert Membership.objects.filter(organization=org, user=helper).exists()
    page.get_by_role("link", name="No, stay").click()
    expect(page.get_by_role("button", name="Leave Voice Lab")).to_be_visible()
    page.get_by_role("button", name="Leave Voice Lab").click()
    page.get_by_role("button", name="Yes, leave Voice Lab").click()
    expect(page.get_by_text("You left Voice Lab.")).to_be_visible()
    assert not Membership.objects.filter(organization=org, user=helper).exists()


def test_the_account_menu_opens_from_the_keyboard_and_closes_on_escape(page: Any) -> None:
    sign_in(page, person("reader"))
    page.goto("/datasets/")
    menu = page.locator("#account-menu")
    expect(page.get_by_role("link", name="My licenses")).to_be_hidden()
    menu.locator("summary").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("link", name="My licenses")).to_be_visible()
    page.keyboard.press("Tab")
    page.keyboard.press("Escape")
    expect(page.get_by_role("link", name="My licenses")).to_be_hidden()
    expect(menu.locator("summary")).to_be_focused()
    # A click elsewhere closes it too; the links stay one click away.
    open_menu(page)
    page.locator("footer").click()
    expect(page.get_by_role("link", name="My licenses")).to_be_hidden()
    open_menu(page)
    page.get_by_role("link", name="My licenses").click()
    page.wait_for_url("**/licenses/**")
