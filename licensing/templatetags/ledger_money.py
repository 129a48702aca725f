"""``{{ cents|money:currency }}``: integer minor units as an amount in the currency's units
("157.50 USD"), and ``{{ basis_points|percent }}``: a share in percent ("25 %"), both in the
active language's number format (licensing.revenue.amounts)."""

from __future__ import annotations

from django import template

from licensing.revenue import amounts

register = template.Library()


@register.filter
def money(cents: int | None, currency: str = "") -> str:
    return amounts.amount(cents, currency)


@register.filter
def percent(basis_points: int | None) -> str:
    return amounts.percent(basis_points)
