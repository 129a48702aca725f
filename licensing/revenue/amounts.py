"""Money and shares as people read them: an amount in its currency's units ("157.50 USD", in
Spanish "157,50 USD"), a revenue share in percent ("25 %", "33.33 %"). Pages, page messages and
emails call these (through the ``money`` and ``percent`` template filters); the ledger keeps
integer cents and basis points, and its CSV statement keeps ``ledger.money``'s fixed format.

Decimal arithmetic only: a float loses cents."""

from __future__ import annotations

from decimal import Decimal

from django.utils.formats import number_format

CENTS_PER_UNIT = 100
BASIS_POINTS_PER_PERCENT = 100


def amount(cents: int | None, currency: str = "") -> str:
    """Integer minor units in the currency's units, with the active language's separators."""
    units = Decimal(int(cents or 0)) / CENTS_PER_UNIT
    text = number_format(units, decimal_pos=2, use_l10n=True, force_grouping=True)
    return f"{text} {currency.upper()}" if currency else text


def percent(basis_points: int | None) -> str:
    """Basis points as a percentage, with no more decimals than it needs: 2500 -> "25 %", 1250 -> "12.5 %"."""
    value = Decimal(int(basis_points or 0)) / BASIS_POINTS_PER_PERCENT
    exponent = value.normalize().as_tuple().exponent
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    return f"{number_format(value, decimal_pos=places, use_l10n=True, force_grouping=True)} %"


def cents_of(units: Decimal) -> int:
    """An amount typed in currency units (at most two decimals, checked by the form) in cents."""
    return int(units * CENTS_PER_UNIT)


def units_of(cents: int | None) -> Decimal | None:
    return None if cents is None else (Decimal(cents) / CENTS_PER_UNIT).quantize(Decimal("0.01"))


def basis_points_of(percentage: Decimal) -> int:
    return int(percentage * BASIS_POINTS_PER_PERCENT)


def percentage_of(basis_points: int | None) -> Decimal | None:
    return None if basis_points is None else (Decimal(basis_points) / BASIS_POINTS_PER_PERCENT).normalize()
