"""Where a person wants to be paid (their ``PayoutDetails``), which payable ledger accounts are
theirs, and what staff read next to each balance when they send a payout batch.

The details are checked for shape, not for truth: an IBAN must have an IBAN's length and its
ISO 13616 check digits (mod 97), a PayPal account must be an email address. Nobody but the person
writes them; staff only read them."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import QuerySet
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext

from licensing.models import ContributorClaim, LedgerAccount, PayoutDetails
from licensing.revenue import earnings
from marketplace.models import User

Method = PayoutDetails.Method

# ISO 13616: two letters (the country), two check digits, then up to 30 letters and digits.
IBAN_LIKE = re.compile(r"^[A-Z]{2}[0-9]{2}")
IBAN = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$")
ACCOUNT_NUMBER = re.compile(r"^[0-9][0-9 -]{2,38}[0-9]$")
LIMITS = {"account_holder": 200, "account": 200, "bank_name": 200, "notes": 2000}

# The API's names of the fields (camelCase), one map for reading and for naming problems.
API_NAMES = {
    "method": "method",
    "account_holder": "accountHolder",
    "account": "account",
    "bank_name": "bankName",
    "notes": "notes",
}


@dataclass(frozen=True)
class PayoutDetailsInput:
    method: str
    account_holder: str
    account: str
    bank_name: str = ""
    notes: str = ""

    @classmethod
    def from_json(cls, payload: object) -> PayoutDetailsInput:
        """The body of ``PUT /api/v1/me/payout-details``; a field of the wrong type is named."""
        if not isinstance(payload, dict):
            raise ValidationError(gettext("The body must be a JSON object."))
        values: dict[str, str] = {}
        errors: dict[str, list[str]] = {}
        for field, name in API_NAMES.items():
            value = payload.get(name, "")
            if value is None:
                value = ""
            if not isinstance(value, str):
                errors[name] = ["Must be a string."]
                continue
            values[field] = value
        if errors:
            raise ValidationError(errors)
        return cls(**values)


def _compact(value: str) -> str:
    return re.sub(r"[\s-]+", "", value).upper()


def iban_is_valid(value: str) -> bool:
    """ISO 13616 / ISO 7064 mod 97-10: the country code and check digits moved to the end, letters
    as numbers (A=10 ... Z=35), the whole number mod 97 is 1."""
    compact = _compact(value)
    if not IBAN.match(compact):
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


def problems_of(details: PayoutDetailsInput) -> dict[str, list[str]]:
    """Everything wrong with ``details``, keyed by field, in words the person can act on."""
    errors: dict[str, list[str]] = {}

    def say(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    for field, limit in LIMITS.items():
        value = getattr(details, field)
        if "\x00" in value:
            say(field, "Remove the NUL character.")
        elif len(value.strip()) > limit:
            say(field, f"Keep it to {limit} characters (it has {len(value.strip())}).")
    if details.method not in Method.values:
        say("method", "Choose bank transfer, PayPal or other.")
    if not details.account_holder.strip():
        say("account_holder", "Give the name the account is held in, as the bank or PayPal knows it.")
    account = details.account.strip()
    if not account:
        say("account", "Give the account to pay into.")
    elif "account" not in errors and details.method == Method.BANK:
        if IBAN_LIKE.match(_compact(account)):
            if not iban_is_valid(account):
                say(
                    "account",
                    "This looks like an IBAN but is not a valid one: check the country code, the two "
                    "check digits and the length (for example DE89 3704 0044 0532 0130 00).",
                )
        elif not ACCOUNT_NUMBER.match(account):
            say("account", "Give an IBAN, or an account number made of digits (spaces and dashes are fine).")
    elif "account" not in errors and details.method == Method.PAYPAL:
        try:
            validate_email(account)
        except ValidationError:
            say("account", "A PayPal account is an email address, such as ana@example.org.")
    if details.method == Method.OTHER and not details.notes.strip():
        say("notes", "Say how we should pay you (the service, and anything it needs).")
    return errors


def _normalized_account(details: PayoutDetailsInput) -> str:
    account = details.account.strip()
    if details.method == Method.BANK and IBAN_LIKE.match(_compact(account)):
        compact = _compact(account)
        return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))
    if details.method == Method.PAYPAL:
        return account.lower()
    return account


@transaction.atomic
def set_payout_details(*, user: User, details: PayoutDetailsInput) -> PayoutDetails:
    """Save where ``user`` wants to be paid, replacing what was there; nothing is saved when a
    field is wrong (a ``ValidationError`` names every problem)."""
    errors = problems_of(details)
    if errors:
        raise ValidationError(errors)
    saved, _ = PayoutDetails.objects.update_or_create(
        user=user,
        defaults={
            "method": details.method,
            "account_holder": details.account_holder.strip(),
            "account": _normalized_account(details),
            "bank_name": details.bank_name.strip() if details.method == Method.BANK else "",
            "notes": details.notes.strip(),
            "updated_at": timezone.now(),
        },
    )
    return saved


def payout_details_of(user: User) -> PayoutDetails | None:
    return PayoutDetails.objects.filter(user=user).first()


def claimed_payee_emails(user: User) -> QuerySet[ContributorClaim, Any]:
    """The revenue-share payee addresses ``user`` claimed (lower case, as ledger codes hold them)."""
    return (
        ContributorClaim.objects.filter(claimed_by=user, claimed_at__isnull=False)
        .exclude(payee_email="")
        .values_list(Lower("payee_email"), flat=True)
    )


def payable_accounts_of(user: User) -> QuerySet[LedgerAccount]:
    """What we owe ``user``: the payable accounts of their user id, and those of the payee
    addresses they claimed (a claim link is the proof that the address is theirs)."""
    return earnings.accounts_of(user)  # one rule for the earnings page, the export and deletion


def details_for_accounts(accounts: Iterable[LedgerAccount]) -> dict[int, PayoutDetails | None]:
    """Payable account id -> the payout details of the person it pays (the user of the account,
    or whoever claimed its payee address), None when they have given none or nobody claimed it.
    Two queries, whatever the number of accounts."""
    accounts = list(accounts)
    emails = {a.payee_email.lower() for a in accounts if a.payee_email}
    holders: dict[str, int] = {}
    if emails:
        claims = (
            ContributorClaim.objects.filter(claimed_at__isnull=False)
            .annotate(email=Lower("payee_email"))
            .filter(email__in=emails)
            .values_list("email", "claimed_by_id")
        )
        holders = {email: user_id for email, user_id in claims if user_id is not None}
    owner_of = {a.id: a.user_id if a.user_id else holders.get(a.payee_email.lower()) for a in accounts}
    found = PayoutDetails.objects.in_bulk([uid for uid in owner_of.values() if uid], field_name="user_id")
    return {account_id: found.get(uid) if uid else None for account_id, uid in owner_of.items()}
