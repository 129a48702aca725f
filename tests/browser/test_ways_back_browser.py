"""In chromium, the ways back: staff refund a purchase (the licensee's download is then refused,
saying so), a licensee voids their invoice, staff cancel a payout batch and take a dataset down,
and a contributor names a parent dataset on the submission page. Each new page is also looked at
1366 and 390 pixels wide: nothing may scroll sideways (screenshots go to $SCREENSHOT_DIR when set)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from licensing.keys.services import create_api_key
from licensing.models import Invoice, PayoutBatch
from licensing.revenue import ledger, payments
from marketplace.models import Dataset, Membership, User
from marketplace.organizations.services import approve_organization
from marketplace.submissions import drafts
from tests.browser.conftest import open_menu
from tests.browser.test_submission_browser import log_in
from tests.factories import organization, published_dataset, verified_user
from tests.licensing.revenue.test_ledger import approved_submission
from tests.second_factor import enroll_second_factor

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = (1366, 390)
BUY = re.compile(r"^Buy for .*: open an invoice$")  # the button names the total, fee included
# The elements reaching furthest right, to name the culprit when a page scrolls sideways.
WIDEST = """[...document.querySelectorAll('body *')]
  .map(e => [Math.round(e.getBoundingClientRect().right), e.tagName + (e.id ? '#' + e.id : '') + '.' + e.className])
  .filter(([right, name]) => right > document.documentElement.clientWidth && !name.startsWith('T'))
  .sort((a, b) => b[0] - a[0]).slice(0, 5)"""


def person(username: str, **extra: Any) -> User:
    return verified_user(username, password=f"{username}-password", **extra)


def sign_in(page: Any, user: User) -> None:
    log_in(page, user.username, f"{user.username}-password")


@pytest.fixture
def second_page(browser: Any, live_server: Any) -> Iterator[Any]:
    """Another browser (its own cookies), for a second person."""
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def fits(page: Any, name: str) -> None:
    """The page at each width: no sideways scrolling; a screenshot of each when asked for."""
    folder = os.environ.get("SCREENSHOT_DIR")
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        if folder:
            page.screenshot(path=str(Path(folder) / f"{name}-{width}.png"), full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        wide = page.evaluate(WIDEST)
        assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at {width}px: {wide}"
    page.set_viewport_size({"width": 1366, "height": 900})


def paid(slug: str = "support-dialogues", price: int = 15_000) -> Dataset:
    return published_dataset(slug, name=slug.replace("-", " ").title(), is_paid=True, base_price_cents=price)


def test_staff_refund_a_purchase_and_the_licensees_download_is_refused(page: Any, second_page: Any) -> None:
    dataset = paid()
    buyer, staff = person("buyer"), person("moderator", is_staff=True)
    enroll_second_factor(staff)  # staff confirm with their authenticator app before money moves
    invoice, _ = payments.open_invoice(user=buyer, dataset=dataset)
    payments.record_payment(invoice_id=invoice.id, recorded_by=None, reference="bank")

    sign_in(page, staff)
    page.goto(f"/organizations/{dataset.organization.slug}/invoices/")
    fits(page, "invoices")
    page.get_by_role("link", name=f"Refund {invoice.id}").click()
    expect(page.get_by_role("heading", name="Refund a payment")).to_be_visible()
    expect(page.locator("#refund-lines")).to_contain_text("-157.50 USD")  # cash back to the licensee
    fits(page, "refund-reason")
    page.get_by_role("button", name="Review the refund").click()  # the browser asks for the required reason
    assert Invoice.objects.get(id=invoice.id).status == "paid"
    page.get_by_label("Why is it refunded? The licensee reads this.").fill("Bought by mistake; the buyer asked.")
    page.get_by_role("button", name="Review the refund").click()
    expect(page.locator("#refund-confirm")).to_contain_text("Refund 157.50 USD to buyer and revoke their license?")
    fits(page, "refund-confirm")
    assert Invoice.objects.get(id=invoice.id).status == "paid"  # nothing before the confirmation
    page.get_by_role("button", name="Yes, refund 157.50 USD").click()
    expect(page.get_by_text(f"Invoice {invoice.id} is refunded")).to_be_visible()
    expect(page.locator(f"#invoice-{invoice.id}")).to_contain_text("Refunded")

    # The licensee: the dataset page says the purchase was refunded and offers to buy again ...
    sign_in(second_page, buyer)
    second_page.goto(f"/datasets/{dataset.slug}/")
    panel = second_page.locator("#access-panel")
    expect(panel).to_contain_text("Your purchase of Support Dialogues was refunded on")
    expect(panel).to_contain_text("Bought by mistake; the buyer asked.")
    expect(panel.get_by_role("button", name=BUY)).to_be_visible()
    second_page.goto("/account/licenses/")
    expect(second_page.get_by_text("this license is revoked")).to_be_visible()
    # ... and a download with their key is refused, saying why.
    _, key = create_api_key(user=buyer, name="pipeline", scopes=["download"])
    refused = second_page.request.post(
        f"/api/datasets/{dataset.id}/download", headers={"Authorization": f"Bearer {key}"}
    )
    assert refused.status == 402 and "was refunded" in refused.json()["message"]


def test_a_licensee_voids_their_open_invoice(page: Any) -> None:
    dataset = paid()
    buyer = person("buyer")
    invoice, _ = payments.open_invoice(user=buyer, dataset=dataset)

    sign_in(page, buyer)
    page.goto(f"/datasets/{dataset.slug}/")
    expect(page.locator("#access-panel")).to_contain_text(f"Invoice {invoice.id} is open.")
    page.get_by_role("link", name="Void this invoice").click()
    expect(page.get_by_role("heading", name="Void an invoice")).to_be_visible()
    fits(page, "invoice-void")
    page.get_by_label("Why (optional)").fill("I will buy it for my team instead.")
    page.get_by_role("button", name="Yes, void this invoice").click()
    expect(page.get_by_text(f"Invoice {invoice.id} is voided")).to_be_visible()
    expect(page.locator("#access-panel").get_by_role("button", name=BUY)).to_be_visible()
    voided = Invoice.objects.get(id=invoice.id)
    assert (voided.status, voided.closed_reason) == ("void", "I will buy it for my team instead.")


def test_staff_cancel_a_pending_payout_batch(page: Any) -> None:
    person("ana")
    dataset = paid("welsh-speech", price=2_000)
    approved_submission(dataset, [{"username": "ana", "basisPoints": 10_000}])
    invoice, _ = payments.open_invoice(user=person("buyer"), dataset=dataset)
    payments.record_payment(invoice_id=invoice.id, recorded_by=None)
    staff = person("moderator", is_staff=True)
    enroll_second_factor(staff)  # staff confirm with their authenticator app before money moves
    payable = User.objects.get(username="ana").ledger_accounts.get()
    batch = ledger.create_payout_batch(amounts={payable.id: 2_000}, currency="usd", created_by=staff)

    sign_in(page, staff)
    page.goto(f"/staff/payouts/{batch.id}/")
    page.get_by_role("link", name="Cancel this batch").click()
    expect(page.locator("#cancel-lines")).to_contain_text("20.00 USD")
    page.get_by_label("Why is it cancelled?").fill("The bank returned the transfer: wrong IBAN.")
    page.get_by_role("button", name="Review the cancellation").click()
    fits(page, "payout-cancel-confirm")
    page.get_by_role("button", name="Yes, cancel the batch").click()
    expect(page.locator("#batch-cancelled")).to_contain_text("The bank returned the transfer: wrong IBAN.")
    assert PayoutBatch.objects.get(id=batch.id).status == "cancelled"
    page.goto("/staff/payouts/")
    expect(page.locator("#payable-balances")).to_contain_text("20.00 USD")  # owed again, payable again
    expect(page.locator("#payout-batches")).to_contain_text("Cancelled")


def test_staff_take_a_dataset_down_from_the_page(page: Any) -> None:
    dataset = published_dataset("radiology-snippets", name="Radiology Snippets")
    staff = person("moderator", is_staff=True)
    enroll_second_factor(staff)  # staff confirm with their authenticator app before money moves

    sign_in(page, staff)
    open_menu(page, "staff-menu")
    page.get_by_role("link", name="Takedowns").click()
    page.get_by_label("Dataset: its page's address, slug or id").fill(
        f"{page.url.split('/staff')[0]}/datasets/radiology-snippets/"
    )
    page.get_by_label("Reason (shown on the dataset's page)").fill("Holds patients' names: the clinic's request.")
    page.get_by_role("button", name="Review the takedown").click()
    expect(page.locator("#takedown-confirm")).to_contain_text("Take Radiology Snippets of")
    fits(page, "takedown-confirm")
    page.get_by_role("button", name="Yes, take Radiology Snippets down").click()
    expect(page.get_by_text("Radiology Snippets is taken down")).to_be_visible()
    expect(page.locator("#removed-radiology-snippets")).to_contain_text("Holds patients' names: the clinic's request.")
    fits(page, "takedowns")
    assert Dataset.objects.get(id=dataset.id).status == "removed"
    page.goto("/datasets/radiology-snippets/")
    expect(page.get_by_text("Holds patients' names: the clinic's request.")).to_be_visible()


def test_a_contributor_names_a_parent_dataset_in_the_submission_form(page: Any) -> None:
    org = approve_organization(organization=organization("speech-co"))
    published_dataset("valley-speech", org=org, name="Valley Speech")
    author = person("author")
    Membership.objects.create(organization=org, user=author, role="member")
    draft = drafts.create_submission(user=author, name="Valley Speech, cleaned")

    sign_in(page, author)
    page.goto(f"/submissions/{draft.id}/")
    field = page.get_by_label("Derived from (one dataset version per line)")
    field.fill("valley-speech")
    page.locator("#lineage").get_by_role("button", name="Save draft").click()
    expect(page.locator("#lineage .has-error")).to_contain_text("give the dataset, then the version number")
    page.get_by_label("Derived from (one dataset version per line)").fill("valley-speech v1")
    page.locator("#lineage").get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Lineage saved: 1 parent.")).to_be_visible()
    expect(page.locator("#declared-parents")).to_contain_text("Valley Speech version 1")
    fits(page, "submission-lineage")
    if os.environ.get("SCREENSHOT_DIR"):
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            page.locator("#lineage").screenshot(path=str(Path(os.environ["SCREENSHOT_DIR"]) / f"lineage-{width}.png"))
    assert [v.dataset.slug for v in draft.parents.all()] == ["valley-speech"]
