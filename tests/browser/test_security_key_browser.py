"""In chromium, with its virtual authenticator (the DevTools protocol's WebAuthn domain standing in
for a USB security key): staff register a key, mark an invoice paid (asked for the key first, the
payment carries on once it answers), sign out and sign in again passing the second step with the
key alone, and the next payment goes through at once.

WebAuthn refuses an IP address as the relying party's id, so the pages are opened on ``localhost``
(a secure context over plain HTTP, which fido2 accepts as an origin too): pytest-django's
live_server listens there already."""

from __future__ import annotations

from typing import Any

import pytest
from allauth.mfa.models import Authenticator
from playwright.sync_api import expect

from licensing.models import Invoice
from licensing.revenue import payments
from marketplace.models import User
from tests.browser.conftest import open_menu
from tests.factories import published_dataset

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "cashier-password"  # noqa: S105 (a test account's)


def _security_key(page: Any) -> str:
    """Plug a virtual USB security key into this browser; it says yes to every request."""
    devtools = page.context.new_cdp_session(page)
    devtools.send("WebAuthn.enable")
    answer = devtools.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "usb",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )
    return str(answer["authenticatorId"])


def _mark_paid(page: Any, invoice: Invoice) -> None:
    page.goto(f"/organizations/{invoice.dataset.organization.slug}/invoices/")
    page.get_by_label("Bank's payment reference").first.fill(f"bank {invoice.id}")
    page.get_by_role("button", name=f"Mark paid: invoice {invoice.id}").click()


def test_a_security_key_is_a_second_factor_for_signing_in_and_for_money(page: Any, live_server: Any) -> None:
    assert live_server.url.startswith("http://localhost:"), live_server.url
    dataset = published_dataset("support-dialogues", is_paid=True, base_price_cents=15_000)
    buyer = User.objects.create_user(username="buyer", email="buyer@example.org")
    first, _ = payments.open_invoice(user=buyer, dataset=dataset)
    User.objects.create_user(username="cashier", email="cashier@example.org", password=PASSWORD, is_staff=True)
    _security_key(page)

    # Signed in with the password only, no second factor yet.
    page.goto("/login/")
    page.get_by_label("Username").fill("cashier")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/account/")

    # Marking paid sends them to turn a second factor on: they add a security key.
    _mark_paid(page, first)
    page.wait_for_url("**/accounts/2fa/")
    expect(page.get_by_text("Moving money and approving need a second factor.")).to_be_visible()
    page.get_by_role("link", name="Add").first.click()
    if "/reauthenticate/" in page.url:  # allauth asks for the password again before a new factor
        page.get_by_label("Password").fill(PASSWORD)
        page.locator("main form button[type=submit]").first.click()
    page.wait_for_url("**/accounts/2fa/webauthn/add/**")
    page.get_by_label("Name").fill("blue key")
    page.get_by_role("button", name="Add").click()
    page.wait_for_url(lambda url: "/webauthn/add/" not in url)
    key = Authenticator.objects.get(user__username="cashier", type=Authenticator.Type.WEBAUTHN)
    assert str(key) == "blue key"
    page.goto("/accounts/2fa/webauthn/")
    expect(page.get_by_role("cell", name="blue key", exact=True)).to_be_visible()

    # The same session never passed the key: marking paid asks for it, then carries on.
    _mark_paid(page, first)
    page.wait_for_url("**/accounts/2fa/webauthn/reauthenticate/**")
    assert Invoice.objects.get(id=first.id).status == Invoice.Status.OPEN
    page.get_by_role("button", name="Use a security key").click()
    page.wait_for_url(lambda url: "/reauthenticate/" not in url)
    assert Invoice.objects.get(id=first.id).status == Invoice.Status.PAID

    # Signed out, the password alone does not sign in: the key is the second step.
    page.goto("/account/")
    open_menu(page)
    page.get_by_role("button", name="Log out").click()
    page.goto("/login/")
    page.get_by_label("Username").fill("cashier")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/accounts/2fa/authenticate/")
    page.get_by_role("button", name="Use a security key").click()
    page.wait_for_url("**/account/")
    expect(page.get_by_text("Successfully signed in as cashier.")).to_be_visible()

    # This session passed the key at sign-in: the next payment goes through at once.
    second, _ = payments.open_invoice(user=User.objects.create_user(username="buyer2"), dataset=dataset)
    _mark_paid(page, second)
    expect(page.get_by_text(f"Invoice {second.id}")).to_be_visible()
    assert Invoice.objects.get(id=second.id).status == Invoice.Status.PAID
