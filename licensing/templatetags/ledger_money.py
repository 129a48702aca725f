"""``{{ cents|money:currency }}``: integer minor units as an amount in the currency's units
("157.50 USD"), and ``{{ basis_points|percent }}``: a share in percent ("25 %"), both in the
active language's number format (licensing.revenue.amounts); ``{{ invoice|payment_reference }}``:
the reference a transfer for it quotes."""

from __future__ import annotations

from django import template

from licensing.models import Invoice
from licensing.revenue import amounts, payments

register = template.Library()


@register.filter
def money(cents: int | None, currency: str = "") -> str:
    return amounts.amount(cents, currency)


@register.filter
def percent(basis_points: int | None) -> str:
    return amounts.percent(basis_points)


@register.filter
def payment_reference(invoice: Invoice) -> str:
    """The reference a transfer for ``invoice`` quotes (the instance's ``PAYMENT_REFERENCE``)."""
    return payments.payment_reference(invoice)
