"""In chromium, pages that keep work (issue 22): an access-requests page holding a 200-character
name and a 200 KB intended use, and the invoices page, fit 1366 and 390 pixels with every action
button reachable; a failed submission form shows its error summary at the top, focused, whose links
move the focus to their fields; what was typed in one part survives saving another; deleting asks
first."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from licensing.models import AccessRequest
from licensing.revenue import payments
from marketplace.models import Membership, Submission
from marketplace.organizations.services import approve_organization
from marketplace.submissions import drafts
from tests import factories
from tests.browser.test_ways_back_browser import WIDEST, person, sign_in
from tests.factories import organization, published_dataset
from tests.second_factor import enroll_second_factor

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = (1366, 390)
LONG_NAME = "Ffion" + "a" * 195  # 200 characters without a space: nowhere to wrap but anywhere
HUGE_USE = ("Speech research on rare dialects " * 6250)[:200_000]  # 200 KB


def no_sideways_scrolling(page: Any, name: str) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, (
        f"{name} scrolls sideways by {overflow}px at {page.viewport_size['width']}px: {page.evaluate(WIDEST)}"
    )


def reachable(button: Any) -> None:
    """Scrolled to within its row, the button is inside the viewport: on screen, clickable."""
    button.scroll_into_view_if_needed()
    expect(button).to_be_in_viewport()
    box = button.bounding_box()
    width = button.page.evaluate("window.innerWidth")
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, box


def test_access_requests_with_huge_texts_fit_and_keep_their_buttons_in_view(page: Any) -> None:
    owner = person("owner")
    enroll_second_factor(owner)  # deciding on access asks the owner's authenticator app
    org = organization("valley-clinic", owner=owner)
    dataset = published_dataset("restricted-voices", org=org, name=LONG_NAME, visibility="restricted")
    huge = AccessRequest.objects.create(
        dataset=dataset, user=person("ffion"), full_name=LONG_NAME, organization_name="Ysbyty" + "b" * 194,
        intended_use=HUGE_USE,
    )  # fmt: skip
    plain = AccessRequest.objects.create(
        dataset=dataset, user=person("gwen"), full_name="Gwen Jones", organization_name="Uni", intended_use="ASR."
    )
    approved = AccessRequest.objects.create(
        dataset=dataset, user=person("hywel"), full_name="Hywel", organization_name="Lab", intended_use="TTS.",
        status=AccessRequest.Status.APPROVED, decided_by=owner, decided_at=timezone.now(),
    )  # fmt: skip

    sign_in(page, owner)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"/organizations/{org.slug}/access-requests/")
        no_sideways_scrolling(page, "access requests")
        for item in (huge, plain):
            row = page.locator(f"#request-{item.id}")
            reachable(row.get_by_role("button", name=f"Approve {item.user.username}"))
            reachable(row.get_by_role("button", name=f"Reject {item.user.username}"))
        reachable(page.locator(f"#request-{approved.id}").get_by_role("button", name="Revoke hywel"))
        # The whole intended use is one click away, in a box that scrolls by itself.
        row = page.locator(f"#request-{huge.id}")
        row.get_by_text("Show all 200000 characters").click()
        box = row.locator(".long-text-box").filter(has_text="Speech research")
        expect(box).to_be_visible()
        assert box.evaluate("e => e.scrollHeight > e.clientHeight")  # it scrolls inside, the page does not
        no_sideways_scrolling(page, "access requests with the whole text open")

    # Rejecting asks for a confirmation first, then decides.
    page.set_viewport_size({"width": 1366, "height": 900})
    row = page.locator(f"#request-{plain.id}")
    row.get_by_label("Reason for rejecting").fill("Not a research use.")
    row.get_by_role("button", name="Reject gwen").click()
    expect(page.get_by_role("heading", name="Reject this request?")).to_be_visible()
    assert AccessRequest.objects.get(id=plain.id).status == "pending"
    expect(page.get_by_label("Reason (the requester reads it)")).to_have_value("Not a research use.")
    page.get_by_role("button", name="Yes, reject the request").click()
    expect(page.get_by_text("The request of gwen is rejected")).to_be_visible()
    assert AccessRequest.objects.get(id=plain.id).status == "rejected"


def test_the_invoices_page_keeps_mark_paid_in_view_and_shows_amounts_in_units(page: Any) -> None:
    owner = person("seller")
    org = organization("valley-shop", owner=owner)
    invoices = []
    for number, name in enumerate((LONG_NAME, "Harbor notes", "Support dialogues")):
        dataset = published_dataset(f"paid-{number}", org=org, name=name, is_paid=True, base_price_cents=15000)
        invoice, _ = payments.open_invoice(user=person(f"buyer{number}"), dataset=dataset)
        invoices.append(invoice)

    sign_in(page, owner)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"/organizations/{org.slug}/invoices/")
        no_sideways_scrolling(page, "invoices")
        for invoice in invoices:
            row = page.locator(f"#invoice-{invoice.id}")
            expect(row).to_contain_text("157.50 USD")
            reachable(row.get_by_role("button", name=f"Mark paid: invoice {invoice.id}"))
            reachable(row.get_by_role("link", name=f"Void {invoice.id}"))
    assert "cents" not in page.content()


def test_a_failed_form_shows_its_summary_focused_and_nothing_typed_is_lost(page: Any) -> None:
    factories.license_for("CC-BY-4.0")
    org = approve_organization(organization=organization("speech-co"))
    author = person("author")
    Membership.objects.create(organization=org, user=author, role="member")
    draft = drafts.create_submission(user=author, name="Valley speech")

    sign_in(page, author)
    page.goto(f"/submissions/{draft.id}/")
    # Typed in the datasheet, then the consent terms filled in and saved with their own button.
    page.get_by_label("Short description").fill("Read speech from the valley.")
    expect(page.locator("#datasheet [data-save-state]")).to_have_text(
        "Not saved yet: you changed something since the last save."
    )
    page.get_by_label("The exact consent text contributors saw").fill("I agree.\n")
    page.get_by_label("Collection start").fill("2025-01-01")
    page.get_by_label("Collection end").fill("2025-06-30")
    page.get_by_label("How a contributor withdraws").fill("Write to us.")
    page.locator("#consent").get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Consent terms saved.")).to_be_visible()
    page.reload()
    expect(page.get_by_label("Short description")).to_have_value("Read speech from the valley.")
    assert Submission.objects.get(id=draft.id).short_description == "Read speech from the valley."

    # A mistake far down the page: the summary is at the top, focused, and links to the field.
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.get_by_label("Legal contact email").fill("not-an-email")
        page.get_by_label("Funded by full name").fill("The Valley Fund")
        page.locator("#lineage").get_by_role("button", name="Save draft").click()
        summary = page.locator("[data-error-summary]")
        expect(summary).to_be_focused()
        expect(summary).to_be_in_viewport()
        assert summary.bounding_box()["y"] < page.locator("h1").bounding_box()["y"]
        no_sideways_scrolling(page, "the submission with errors")
        summary.get_by_role("link", name="Legal contact email: Enter a valid email address.").click()
        expect(page.get_by_label("Legal contact email")).to_be_focused()
        expect(page.get_by_label("Legal contact email")).to_be_in_viewport()
        expect(page.get_by_label("Legal contact email")).to_have_value("not-an-email")
        expect(page.get_by_label("Funded by full name")).to_have_value("The Valley Fund")  # kept as typed
        expect(page.locator(".has-error").filter(has=page.get_by_label("Legal contact email"))).to_contain_text(
            "Enter a valid email address."
        )  # the field keeps its own message
        page.goto(f"/submissions/{draft.id}/")

    # Deleting: a button away from "Submit for review", to a page that asks first.
    page.get_by_role("button", name="Delete submission and its files…").click()
    expect(page.get_by_role("heading", name="Delete “Valley speech”?")).to_be_visible()
    page.get_by_role("link", name="No, keep it").click()
    assert Submission.objects.get(id=draft.id).status == "draft"
    page.get_by_role("button", name="Delete submission and its files…").click()
    page.get_by_role("button", name="Yes, delete the submission and its files").click()
    expect(page.get_by_text("Submission “Valley speech” and its uploaded files are deleted.")).to_be_visible()
    assert Submission.objects.get(id=draft.id).status == "deleted"
