"""The revenue-share ledger: every cent a licensee pays, where it went, and what we still owe.

Double entry in integer minor units (cents), one currency per transaction; a debit is positive,
a credit negative, and every transaction sums to zero (the database checks it at commit, see
migration 0006). Accounts:

- ``cash:received``: money licensees paid us (debited by payments, credited by refunds and
  confirmed payouts);
- ``platform:fees``: the platform's fee on each payment;
- ``payable:user:<id>``, ``payable:payee:<email>``, ``payable:org:<id>``: what we owe a
  contributor (a user, a payee named by email) or an organization;
- ``payout:pending``: payouts staff created, on their way to the bank;
- ``platform:refund-shortfall``: kept for the refunds posted before refunds were exact
  reversals (the platform then bore what a paid-out payee no longer owed); nothing posts to it now.

Each transaction's ``idempotency_key`` names its source event (``payment:<id>``,
``refund:payment:<id>``, ``payout:batch:<id>``, ``payout:batch:<id>:paid``,
``payout:batch:<id>:cancelled``): posting the same event again returns the first transaction and
writes nothing.

A refund is the exact reversal of its payment, line by line, payees' parts included. When a payee
was already paid out, their payable goes below zero: they owe that back, and it is recovered from
what they earn next (a payout never exceeds a positive balance), as marketplaces that pay sellers
out before refunds settle do. The platform does not silently absorb it, and the refund is not
refused: the licensee's money back does not depend on a contributor's bank.

Which split applies: the revenue shares of the submission whose approval published the paid
version. A version with no such submission (seeded data, a version published another way) pays
its whole remainder to the dataset's organization.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from config.refusals import Conflict
from licensing.models import LedgerAccount, LedgerEntry, LedgerTransaction, Payment, PayoutBatch
from marketplace.dates import short_date
from marketplace.models import Organization, RevenueShare, Submission, User

CASH = "cash:received"
FEES = "platform:fees"
PAYOUT_PENDING = "payout:pending"
REFUND_SHORTFALL = "platform:refund-shortfall"

SYSTEM_ACCOUNTS = {
    CASH: (LedgerAccount.Kind.CASH, "Payments received"),
    FEES: (LedgerAccount.Kind.FEES, "Platform fees"),
    PAYOUT_PENDING: (LedgerAccount.Kind.PAYOUT, "Payouts sent, awaiting confirmation"),
    REFUND_SHORTFALL: (LedgerAccount.Kind.SHORTFALL, "Refunds of money already paid out"),
}


class LedgerError(ValidationError):
    """A posting that would break the ledger's rules; nothing was written."""


def money(cents: int, currency: str = "") -> str:
    """Integer cents as ``1,234.56 USD``, with integer arithmetic (floats lose cents)."""
    whole, fraction = divmod(abs(cents), 100)
    text = f"{'-' if cents < 0 else ''}{whole:,}.{fraction:02d}"
    return f"{text} {currency.upper()}" if currency else text


# --- The split: pure arithmetic, property-tested ----------------------------------------------


def largest_remainder(amount: int, weights: Sequence[int]) -> list[int]:
    """Divide ``amount`` in proportion to ``weights`` so that the parts sum exactly to it.

    Each part is first the floor of its exact quota; the cents left over (fewer than the number
    of parts) go one each to the largest fractional remainders (Hamilton's method), ties to the
    earlier weight, so the same inputs always give the same cents."""
    if amount < 0:
        raise ValueError("amount must not be negative")
    if not weights or any(w <= 0 for w in weights):
        raise ValueError("weights must be positive and at least one")
    total = sum(weights)
    quotas = [amount * weight for weight in weights]
    parts = [quota // total for quota in quotas]
    left = amount - sum(parts)
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(quotas[i] % total), i))
    for index in by_remainder[:left]:
        parts[index] += 1
    return parts


def split_payment(*, amount: int, fee: int, weights: Sequence[int]) -> tuple[int, list[int]]:
    """(fee, parts): the platform fee first, then the rest by ``weights`` (basis points)."""
    if not 0 <= fee <= amount:
        raise ValueError(f"fee {fee} must be between 0 and the amount {amount}")
    return fee, largest_remainder(amount - fee, weights)


# --- Accounts ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Payee:
    code: str
    name: str
    user_id: int | None = None
    payee_email: str = ""
    organization_id: str | None = None


def payee_of_share(share: RevenueShare) -> Payee:
    if share.user_id is not None:
        user = share.user
        name = (user.get_full_name() or user.get_username()) if user else f"user {share.user_id}"
        return Payee(code=f"payable:user:{share.user_id}", name=name, user_id=share.user_id)
    email = share.payee_email.strip().lower()
    return Payee(code=f"payable:payee:{email}", name=f"{share.payee_name} <{email}>", payee_email=email)


def payee_of_organization(organization: Organization) -> Payee:
    return Payee(code=f"payable:org:{organization.id}", name=organization.name, organization_id=organization.id)


def _accounts(payees: Sequence[Payee] = (), *, system: Sequence[str] = ()) -> dict[str, LedgerAccount]:
    """The accounts with these codes, created when missing. ON CONFLICT DO NOTHING, so fifty
    concurrent payments for the same contributor create the account once and none fails."""
    rows = [LedgerAccount(code=code, kind=SYSTEM_ACCOUNTS[code][0], name=SYSTEM_ACCOUNTS[code][1]) for code in system]
    rows += [
        LedgerAccount(
            code=p.code,
            kind=LedgerAccount.Kind.PAYABLE,
            name=p.name[:200],
            user_id=p.user_id,
            payee_email=p.payee_email,
            organization_id=p.organization_id,
        )
        for p in payees
    ]
    codes = [row.code for row in rows]
    found = {a.code: a for a in LedgerAccount.objects.filter(code__in=codes)}
    missing = [row for row in rows if row.code not in found]
    if missing:
        LedgerAccount.objects.bulk_create(missing, ignore_conflicts=True)
        found = {a.code: a for a in LedgerAccount.objects.filter(code__in=codes)}
    return found


def owed(account: LedgerAccount | int, currency: str) -> int:
    """What we owe on a payable account: the negated sum of its entries (credits are negative)."""
    account_id = account if isinstance(account, int) else account.id
    total = LedgerEntry.objects.filter(account_id=account_id, transaction__currency=currency).aggregate(
        total=Sum("amount")
    )["total"]
    return -(total or 0)


# --- Posting ----------------------------------------------------------------------------------


def _post(
    *, key: str, kind: str, currency: str, lines: Sequence[tuple[LedgerAccount, int]], **fields: Any
) -> tuple[LedgerTransaction, bool]:
    """Write one balanced transaction, or return the one already posted under ``key``.

    Lines on the same account are merged and zero lines dropped; a set of lines that does not sum
    to zero is refused here with a clear message (the database would refuse it at commit)."""
    existing = LedgerTransaction.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return existing, False
    merged: dict[int, int] = defaultdict(int)
    accounts: dict[int, LedgerAccount] = {}
    for account, amount in lines:
        merged[account.id] += amount
        accounts[account.id] = account
    entries = [(accounts[account_id], amount) for account_id, amount in merged.items() if amount != 0]
    if sum(amount for _, amount in entries) != 0:
        raise LedgerError(f"Transaction {key} does not balance: {entries}.")
    if len(entries) < 2:
        raise LedgerError(f"Transaction {key} moves nothing.")
    try:
        with transaction.atomic():
            posted = LedgerTransaction.objects.create(idempotency_key=key, kind=kind, currency=currency, **fields)
            LedgerEntry.objects.bulk_create(
                LedgerEntry(transaction=posted, account=account, amount=amount) for account, amount in entries
            )
    except IntegrityError:
        # A concurrent call posted the same event first and committed: that one stands.
        concurrent = LedgerTransaction.objects.filter(idempotency_key=key).first()
        if concurrent is None:
            raise
        return concurrent, False
    return posted, True


def split_for(payment: Payment) -> tuple[Submission | None, list[tuple[Payee, int]]]:
    """Who shares a payment's remainder, with their weights (basis points)."""
    invoice = payment.invoice
    submission = (
        Submission.objects.filter(version_id=invoice.version_id, status=Submission.Status.APPROVED)
        .order_by("reviewed_at", "id")
        .first()
    )
    shares = (
        list(submission.revenue_shares.select_related("user").order_by("-basis_points", "id")) if submission else []
    )
    if not shares:
        return None, [(payee_of_organization(invoice.dataset.organization), 1)]
    return submission, [(payee_of_share(share), share.basis_points) for share in shares]


@transaction.atomic
def post_payment(*, payment: Payment) -> LedgerTransaction:
    """Post a recorded payment: cash in, the invoice's platform fee, each payee's part.

    The fee is the one the invoice charged (``licensing.revenue.payments.price_of``: the base price times
    ``PLATFORM_FEE_RATE``, rounded half up, added on top of the base price); the rest is split by
    basis points with largest-remainder rounding, so fee + parts == amount to the cent."""
    key = f"payment:{payment.id}"
    existing = LedgerTransaction.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return existing
    payment = Payment.objects.select_related("invoice__dataset__organization").get(id=payment.id)
    submission, split = split_for(payment)
    fee, parts = split_payment(
        amount=payment.amount_cents,
        fee=min(payment.invoice.platform_fee_cents, payment.amount_cents),
        weights=[weight for _, weight in split],
    )
    accounts = _accounts([payee for payee, _ in split], system=[CASH, FEES])
    lines = [(accounts[CASH], payment.amount_cents), (accounts[FEES], -fee)]
    lines += [(accounts[payee.code], -part) for (payee, _), part in zip(split, parts, strict=True)]
    posted, _ = _post(
        key=key,
        kind=LedgerTransaction.Kind.PAYMENT,
        currency=payment.currency.lower(),
        lines=lines,
        payment=payment,
        dataset=payment.invoice.dataset,
        submission=submission,
        memo=f"Invoice {payment.invoice_id}",
    )
    return posted


def _lock(account_ids: Sequence[int]) -> dict[int, LedgerAccount]:
    """Lock accounts in id order (so two lockers never deadlock): payouts and refunds that
    read a balance and spend it hold these locks until they commit."""
    return {a.id: a for a in LedgerAccount.objects.select_for_update().filter(id__in=account_ids).order_by("id")}


@transaction.atomic
def post_refund(*, payment: Payment, refunded_by: User | None, reason: str) -> LedgerTransaction:
    """Post the exact reversal of a payment's transaction: every line (cash, the platform's fee,
    each payee's part) with its sign turned. A payee already paid out is left owing the
    difference (a negative balance, recovered from their next earnings). Posting it again
    returns the first reversal. The payables are locked, in id order, so that a payout batch
    being created at the same moment reads their balance after this reversal, not before.

    Callers: ``licensing.revenue.refunds.refund_payment``, which also revokes the grant and
    records the refund in the same transaction; nothing else should refund."""
    key = f"refund:payment:{payment.id}"
    existing = LedgerTransaction.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return existing
    original = post_payment(payment=payment)
    entries = list(original.entries.select_related("account"))
    _lock([e.account_id for e in entries if e.account.kind == LedgerAccount.Kind.PAYABLE])
    posted, _ = _post(
        key=key,
        kind=LedgerTransaction.Kind.REFUND,
        currency=original.currency,
        lines=[(entry.account, -entry.amount) for entry in entries],
        payment=payment,
        dataset_id=original.dataset_id,
        submission_id=original.submission_id,
        memo=(reason.strip() or f"Refund of invoice {payment.invoice_id}")[:300],
        created_by=refunded_by,
    )
    return posted


def is_refunded(payment: Payment) -> bool:
    return LedgerTransaction.objects.filter(idempotency_key=f"refund:payment:{payment.id}").exists()


# --- Payouts ----------------------------------------------------------------------------------


def _staff(user: User) -> None:
    if not user.is_staff:
        raise PermissionDenied(_("Only staff manage payouts."))


@transaction.atomic
def create_payout_batch(*, amounts: Mapping[int, int], currency: str, created_by: User) -> PayoutBatch:
    """Take ``amounts`` (payable account id -> cents) off the payees' balances into one batch.

    The accounts are locked and their balances read under the lock, so two batches (or a batch
    and a refund) cannot both spend the same cents; an amount above a balance refuses the whole
    batch with an error naming the account, and nothing is written."""
    _staff(created_by)
    currency = currency.lower()
    errors: dict[str, list[str]] = {}
    for account_id, amount in amounts.items():
        if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
            errors[str(account_id)] = ["Enter a whole number of cents above zero."]
    if not amounts:
        raise LedgerError({"amounts": ["Choose at least one payee and an amount."]})
    locked = _lock(list(amounts))
    for account_id in amounts:
        account = locked.get(account_id)
        if account is None or account.kind != LedgerAccount.Kind.PAYABLE:
            errors[str(account_id)] = [f"No payable account {account_id}."]
        elif str(account_id) not in errors and amounts[account_id] > (balance := owed(account, currency)):
            errors[str(account_id)] = [
                f"{account.name} is owed {money(balance, currency)}: "
                f"{money(amounts[account_id], currency)} would pay out more than their balance."
            ]
    if errors:
        raise LedgerError(errors)
    batch = PayoutBatch.objects.create(currency=currency, created_by=created_by)
    pending = _accounts(system=[PAYOUT_PENDING])[PAYOUT_PENDING]
    lines = [(locked[account_id], amount) for account_id, amount in amounts.items()]
    lines.append((pending, -sum(amounts.values())))
    _post(
        key=f"payout:batch:{batch.id}",
        kind=LedgerTransaction.Kind.PAYOUT,
        currency=currency,
        lines=lines,
        payout_batch=batch,
        memo=f"Payout batch {batch.id}",
        created_by=created_by,
    )
    return batch


@transaction.atomic
def mark_payout_batch_paid(*, batch_id: int, reference: str, paid_by: User) -> PayoutBatch:
    """The bank confirmed the batch: record its reference and move the money out of cash.
    Marking it again returns it unchanged."""
    _staff(paid_by)
    reference = reference.strip()
    if not reference:
        raise LedgerError({"reference": ["Give the bank's or provider's reference of the transfer."]})
    batch = PayoutBatch.objects.select_for_update().filter(id=batch_id).first()
    if batch is None:
        raise PayoutBatch.DoesNotExist(_("No payout batch %(batch_id)s.") % {"batch_id": batch_id})
    if batch.status == PayoutBatch.Status.PAID:
        return batch
    if batch.status == PayoutBatch.Status.CANCELLED:
        raise LedgerError(
            _("Payout batch %(id)s was cancelled: it cannot be marked paid. Create a new batch instead.")
            % {"id": batch.id}
        )
    PayoutBatch.objects.filter(id=batch.id, status=PayoutBatch.Status.PENDING).update(
        status=PayoutBatch.Status.PAID, paid_at=timezone.now(), paid_by=paid_by, reference=reference[:200]
    )
    accounts = _accounts(system=[PAYOUT_PENDING, CASH])
    total = batch_total(batch)
    _post(
        key=f"payout:batch:{batch.id}:paid",
        kind=LedgerTransaction.Kind.PAYOUT_PAID,
        currency=batch.currency,
        lines=[(accounts[PAYOUT_PENDING], total), (accounts[CASH], -total)],
        payout_batch=batch,
        memo=f"Payout batch {batch.id} paid: {reference}"[:300],
        created_by=paid_by,
    )
    batch.refresh_from_db()
    return batch


def batch_total(batch: PayoutBatch) -> int:
    """The cents a batch takes off payables (its payout transaction's debits to them)."""
    total = LedgerEntry.objects.filter(
        transaction__payout_batch=batch,
        transaction__kind=LedgerTransaction.Kind.PAYOUT,
        account__kind=LedgerAccount.Kind.PAYABLE,
    ).aggregate(total=Sum("amount"))["total"]
    return total or 0


@transaction.atomic
def cancel_payout_batch(*, batch_id: int, reason: str, cancelled_by: User) -> PayoutBatch:
    """Staff call a pending batch off (the transfer was never sent, or bounced before it was
    confirmed): the batch moves to cancelled by a conditional update, and its transaction is
    reversed exactly, line by line, so every amount is owed to its payee again and payable in a
    later batch. A paid batch cannot be cancelled (the money left; a later batch corrects
    mistakes), and a batch is cancelled once: the second call is refused."""
    _staff(cancelled_by)
    reason = reason.strip()
    if not reason:
        raise LedgerError({"reason": [_("Say why the batch is cancelled: the payees' statements show it.")]})
    batch = PayoutBatch.objects.select_for_update().filter(id=batch_id).first()
    if batch is None:
        raise PayoutBatch.DoesNotExist(_("No payout batch %(id)s.") % {"id": batch_id})
    if batch.status == PayoutBatch.Status.PAID:
        raise Conflict(
            _(
                "Payout batch %(id)s was paid on %(day)s (reference %(reference)s): a paid batch cannot be "
                "cancelled. If the money came back, pay it out again in a new batch."
            )
            % {
                "id": batch.id,
                "day": short_date(batch.paid_at),
                "reference": batch.reference,
            }
        )
    if batch.status == PayoutBatch.Status.CANCELLED:
        raise Conflict(
            _("Payout batch %(id)s was already cancelled: %(reason)s") % {"id": batch.id, "reason": batch.cancel_reason}
        )
    payout = batch.transactions.get(kind=LedgerTransaction.Kind.PAYOUT)
    entries = list(payout.entries.select_related("account"))
    _lock([e.account_id for e in entries if e.account.kind == LedgerAccount.Kind.PAYABLE])
    changed = PayoutBatch.objects.filter(id=batch.id, status=PayoutBatch.Status.PENDING).update(
        status=PayoutBatch.Status.CANCELLED, cancelled_at=timezone.now(), cancelled_by=cancelled_by,
        cancel_reason=reason[:2000],
    )  # fmt: skip
    if changed != 1:  # unreachable under the row lock; kept so a change of locking cannot post twice
        raise Conflict(_("Payout batch %(id)s changed meanwhile: reload it.") % {"id": batch.id})
    _post(
        key=f"payout:batch:{batch.id}:cancelled",
        kind=LedgerTransaction.Kind.PAYOUT_CANCELLED,
        currency=payout.currency,
        lines=[(entry.account, -entry.amount) for entry in entries],
        payout_batch=batch,
        memo=f"Payout batch {batch.id} cancelled: {reason}"[:300],
        created_by=cancelled_by,
    )
    batch.refresh_from_db()
    return batch
