"""In chromium: a licensee sees their invoice go paid as a notification and in "My invoices"; an
organization's owner opens its dashboard and reaches the access requests from it. The new pages
fit 1366 and 390 pixels wide."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from licensing.access import access_requests
from licensing.revenue import payments
from tests.browser.conftest import open_menu
from tests.browser.test_ways_back_browser import fits, paid, person, second_page, sign_in
from tests.factories import organization, published_dataset
from tests.second_factor import enroll_second_factor

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

__all__ = ["second_page"]  # the fixture, used by name below


def test_a_licensee_sees_their_invoice_paid_in_notifications_and_my_invoices(page: Any, second_page: Any) -> None:
    dataset = paid()
    owner = person("treasurer")
    dataset.organization.memberships.update(user=owner)
    buyer = person("buyer")
    invoice, _ = payments.open_invoice(user=buyer, dataset=dataset)

    sign_in(second_page, buyer)
    open_menu(second_page)
    second_page.get_by_role("navigation", name="Main").get_by_role("link", name="My invoices").click()
    row = second_page.locator(f"#invoice-{invoice.id}")
    expect(row).to_contain_text("157.50 USD")
    expect(row).to_contain_text("Open")
    expect(row.get_by_role("link", name="Payment instructions")).to_be_visible()
    fits(second_page, "my-invoices")

    enroll_second_factor(owner)  # owners confirm with their authenticator app before money moves
    sign_in(page, owner)
    page.goto(f"/organizations/{dataset.organization.slug}/invoices/")
    page.get_by_role("button", name=f"Mark paid: invoice {invoice.id}").click()
    expect(page.locator(f"#invoice-{invoice.id}")).to_contain_text("Paid")

    second_page.reload()
    # The header's "My account" shows the count while closed; the link inside says it again.
    expect(second_page.locator("#account-menu summary")).to_contain_text("1 unread")
    open_menu(second_page)
    expect(second_page.get_by_role("link", name="Notifications 1 unread")).to_be_visible()
    expect(second_page.locator(f"#invoice-{invoice.id}")).to_contain_text("Paid")
    second_page.get_by_role("link", name="Notifications 1 unread").click()
    expect(second_page.get_by_text("Your payment of 157.50 USD for Support Dialogues was received.")).to_be_visible()
    fits(second_page, "notifications")
    second_page.get_by_role("button", name="Mark all read").click()
    expect(second_page.get_by_text("All notifications are marked read.")).to_be_visible()
    expect(second_page.locator("#account-menu summary")).not_to_contain_text("unread")
    open_menu(second_page)
    expect(second_page.get_by_role("link", name="Notifications", exact=True)).to_be_visible()


def test_an_owner_reaches_access_requests_from_the_dashboard(page: Any) -> None:
    owner = person("keeper")
    org = organization("voice-lab", owner=owner)
    dataset = published_dataset("clinic-voices", org=org, name="Clinic Voices", visibility="restricted")
    access_requests.request_access(
        user=person("researcher"), dataset=dataset, full_name="Ada", organization_name="Lab", intended_use="Study"
    )
    sign_in(page, owner)
    page.goto("/organizations/voice-lab/")
    page.get_by_role("link", name="Open the dashboard").click()
    waiting = page.locator("#pending-requests")
    expect(waiting).to_contain_text("1 waiting for a decision")
    fits(page, "organization-dashboard")
    waiting.get_by_role("link", name="Access requests").click()
    expect(page).to_have_url(f"{page.url.split('/organizations/')[0]}/organizations/voice-lab/access-requests/")
    expect(page.get_by_text("Ada")).to_be_visible()
