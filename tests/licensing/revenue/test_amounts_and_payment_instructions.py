"""Money in the currency's units and shares in percent on every page (one formatter,
licensing.revenue.amounts), and the payment instructions an instance configures, shown with the
fee before buying and on the open invoice."""

from __future__ import annotations

import html
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.template import Context, Template
from django.test import Client, override_settings
from django.utils import translation

from config.env import env_payment_reference
from licensing.models import Invoice
from licensing.revenue import amounts, payments
from marketplace.models import User
from tests.factories import organization, stored_dataset
from tests.second_factor import pass_second_factor

pytestmark = pytest.mark.django_db

ARCHIVE = b"\x1f\x8b paid archive"
BANK = {
    "PAYMENT_PAYEE_NAME": "Data Collective Cooperative",
    "PAYMENT_IBAN": "DE89 3704 0044 0532 0130 00",
    "PAYMENT_BIC": "COBADEFFXXX",
    "PAYMENT_BANK_DETAILS": "",
    "PAYMENT_REFERENCE": "DC-{invoice}",
    "PAYMENT_NOTE": "Transfers take up to three working days.",
}


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    ("language", "cents", "expected"),
    [("en", 15750, "157.50 USD"), ("en", 123456789, "1,234,567.89 USD"), ("es", 15750, "157,50 USD"),
     ("ko", 15750, "157.50 USD"), ("en", -5, "-0.05 USD"), ("en", 0, "0.00 USD")],
)  # fmt: skip
def test_an_amount_is_in_the_currencys_units_in_each_language(language: str, cents: int, expected: str) -> None:
    with translation.override(language):
        assert amounts.amount(cents, "usd") == expected
        assert Template("{% load ledger_money %}{{ cents|money:'usd' }}").render(Context({"cents": cents})) == expected


def test_a_share_is_in_percent() -> None:
    with translation.override("en"):
        shown = [amounts.percent(bp) for bp in (10000, 5000, 3333, 1250, 1)]
        assert shown == ["100 %", "50 %", "33.33 %", "12.5 %", "0.01 %"]
    with translation.override("es"):
        assert amounts.percent(1250) == "12,5 %"
        assert Template("{% load ledger_money %}{{ 2500|percent }}").render(Context()) == "25 %"


def test_the_reference_pattern_must_name_the_invoice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAYMENT_REFERENCE", "DATA COLLECTIVE")
    with pytest.raises(ImproperlyConfigured, match=r"must contain \{invoice\}"):
        env_payment_reference("PAYMENT_REFERENCE", "{invoice}")
    monkeypatch.setenv("PAYMENT_REFERENCE", "DC/{invoice}")
    assert env_payment_reference("PAYMENT_REFERENCE", "{invoice}") == "DC/{invoice}"


@override_settings(**BANK)
def test_the_fee_shows_before_buying_and_the_bank_details_the_moment_one_buys(make_user: Any) -> None:
    owner, buyer = make_user(), make_user()
    dataset = stored_dataset(
        "paid-voices", ARCHIVE, org=organization("paid-shop", owner=owner), is_paid=True, base_price_cents=15000
    )
    client = signed_in(buyer)
    before = html.unescape(client.get(f"/datasets/{dataset.slug}/").content.decode())
    breakdown = before.split('id="price-breakdown"')[1].split("</dl>")[0]
    assert "150.00 USD" in breakdown and "7.50 USD" in breakdown and "157.50 USD" in breakdown
    assert "Buy for 157.50 USD: open an invoice" in before

    bought = client.post(f"/datasets/{dataset.slug}/buy/", follow=True)
    invoice = Invoice.objects.get(user=buyer)
    page = html.unescape(bought.content.decode())
    assert f"Invoice {invoice.id} is open for 157.50 USD" in page
    instructions = page.split('id="payment-instructions"')[1].split("</div>")[0]
    for shown in ("157.50 USD", "Data Collective Cooperative", "DE89 3704 0044 0532 0130 00", "COBADEFFXXX",
                  f"DC-{invoice.id}", "Transfers take up to three working days."):  # fmt: skip
        assert shown in instructions
    assert "cents" not in page

    # The API gives the same instructions as one sentence.
    text = payments.provider().instructions(invoice)
    assert f"quoting the reference DC-{invoice.id}" in text and "IBAN: DE89 3704 0044 0532 0130 00." in text

    # The organization's invoices page: the amount with its fee, and "Mark paid".
    invoices_url = f"/organizations/{dataset.organization.slug}/invoices/"
    invoices = html.unescape(signed_in(owner).get(invoices_url).content.decode())
    assert "157.50 USD" in invoices and "of which 7.50 USD fee" in invoices and "Mark paid" in invoices
    assert f"Transfers quote DC-{invoice.id}" in invoices  # to match the bank statement's line
    with translation.override("en"):  # the request activates Spanish; leave it behind
        spanish = signed_in(owner).get(
            f"/organizations/{dataset.organization.slug}/invoices/", headers={"accept-language": "es"}
        )
    assert "157,50 USD" in html.unescape(spanish.content.decode())

    deciding = signed_in(owner)
    pass_second_factor(deciding, owner)  # money moves: the owner confirms with their authenticator app
    paid = deciding.post(
        f"/organizations/{dataset.organization.slug}/invoices/{invoice.id}/paid/", {"reference": "TX"}, follow=True
    )
    assert f"Invoice {invoice.id} is paid (157.50 USD)" in html.unescape(paid.content.decode())


@override_settings(PAYMENT_PAYEE_NAME="", PAYMENT_IBAN="", PAYMENT_BIC="", PAYMENT_BANK_DETAILS="", PAYMENT_NOTE="")
def test_an_instance_without_bank_details_says_whom_to_ask(make_user: Any) -> None:
    buyer = make_user()
    shop = organization("plain-shop")
    dataset = stored_dataset("paid-plain", ARCHIVE, org=shop, is_paid=True, base_price_cents=10000)
    client = signed_in(buyer)
    client.post(f"/datasets/{dataset.slug}/buy/")
    invoice = Invoice.objects.get(user=buyer)
    page = html.unescape(client.get(f"/datasets/{dataset.slug}/").content.decode())
    assert "This instance publishes no bank details: ask Plain Shop where to pay." in page
    assert f'data-testid="payment-reference">{invoice.id}<' in page  # the default reference: the invoice id
