"""``{{ cents|money:currency }}``: integer minor units shown as an amount, never through floats."""

from __future__ import annotations

from django import template

from licensing.revenue import ledger

register = template.Library()


@register.filter
def money(cents: int | None, currency: str = "") -> str:
    return ledger.money(int(cents or 0), currency)
