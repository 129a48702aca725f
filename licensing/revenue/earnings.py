"""Reads of the revenue-share ledger: a contributor's earnings per dataset and month, statements,
payouts, an organization's revenue per dataset, and the balances staff pay out. The pages, the
CSV statement and ``GET /api/v1/me/earnings`` all read these, so they never disagree.

Figures are integer cents. "Earned" is what payments credited to the payee less what refunds
took back; "balance" is what we still owe (earned less payouts; cancelled payout batches give
their amounts back). A balance below zero is what a payee owes after a refund of a sale they had
already been paid for: it is recovered from their next earnings."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db.models import Case, F, IntegerField, Q, QuerySet, Sum, Value, When
from django.db.models.functions import TruncMonth
from django.utils import timezone

from licensing.models import ContributorClaim, LedgerAccount, LedgerEntry, LedgerTransaction, PayoutBatch
from marketplace.models import Organization, User

PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
EARNING_KINDS = [LedgerTransaction.Kind.PAYMENT, LedgerTransaction.Kind.REFUND]


def accounts_of(user: User) -> QuerySet[LedgerAccount]:
    """The payable accounts a signed-in user sees as theirs: those of their user id, and those of
    the payee addresses they claimed through a link emailed there (an address alone is not proof
    of who signs in; opening a link sent to it is)."""
    claimed = ContributorClaim.objects.filter(claimed_by=user).exclude(payee_email="").values("payee_email")
    return LedgerAccount.objects.filter(kind=LedgerAccount.Kind.PAYABLE).filter(
        Q(user=user) | Q(user__isnull=True, organization__isnull=True, payee_email__in=claimed)
    )


def parse_period(value: str) -> tuple[date, date] | None:
    """``YYYY-MM`` -> [first day, first day of the next month); None when it is not one."""
    match = PERIOD.match(value or "")
    if match is None:
        return None
    year, month = int(match.group(1)), int(match.group(2))
    return date(year, month, 1), date(year + month // 12, month % 12 + 1, 1)


@dataclass
class DatasetEarnings:
    dataset_id: str
    name: str
    slug: str
    currency: str
    earned: int = 0
    refunded: int = 0
    payments: int = 0
    periods: dict[str, int] = field(default_factory=dict)  # "YYYY-MM" -> net earned

    @property
    def net(self) -> int:
        return self.earned - self.refunded


@dataclass
class Totals:
    currency: str
    earned: int = 0
    refunded: int = 0
    paid_out: int = 0
    balance: int = 0


@dataclass
class Earnings:
    totals: list[Totals]
    datasets: list[DatasetEarnings]
    periods: list[str]
    payouts: list[dict[str, Any]]

    def chart(self) -> dict[str, Any]:
        """What the page's chart draws (and its table shows): net earnings per month, one series
        per dataset, in currency units."""
        return {
            "periods": self.periods,
            "series": [
                {
                    "label": f"{d.name} ({d.currency.upper()})",
                    "values": [d.periods.get(p, 0) / 100 for p in self.periods],
                }
                for d in self.datasets
            ],
        }


def _month(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m") if timezone.is_aware(moment) else moment.strftime("%Y-%m")


def earnings_for(accounts: QuerySet[LedgerAccount]) -> Earnings:
    """Earnings of these payable accounts, in three queries whatever their number of entries."""
    rows = (
        LedgerEntry.objects.filter(account__in=accounts, transaction__kind__in=EARNING_KINDS)
        .annotate(period=TruncMonth("transaction__created_at"))
        .values(
            "transaction__dataset_id",
            "transaction__dataset__name",
            "transaction__dataset__slug",
            "transaction__currency",
            "period",
        )
        .annotate(
            earned=Sum(Case(When(transaction__kind="payment", then=-F("amount")), default=Value(0))),
            refunded=Sum(Case(When(transaction__kind="refund", then=F("amount")), default=Value(0))),
            payments=Sum(
                Case(When(transaction__kind="payment", then=Value(1)), default=Value(0)), output_field=IntegerField()
            ),
        )  # fmt: skip
        .order_by("transaction__dataset__name", "transaction__currency", "period")
    )
    datasets: dict[tuple[str, str], DatasetEarnings] = {}
    periods: set[str] = set()
    for row in rows:
        key = (row["transaction__dataset_id"], row["transaction__currency"])
        item = datasets.setdefault(
            key,
            DatasetEarnings(
                dataset_id=key[0],
                name=row["transaction__dataset__name"],
                slug=row["transaction__dataset__slug"],
                currency=key[1],
            ),
        )
        month = _month(row["period"])
        periods.add(month)
        item.earned += row["earned"]
        item.refunded += row["refunded"]
        item.payments += row["payments"]
        item.periods[month] = item.periods.get(month, 0) + row["earned"] - row["refunded"]

    totals: dict[str, Totals] = {}
    for item in datasets.values():
        total = totals.setdefault(item.currency, Totals(item.currency))
        total.earned += item.earned
        total.refunded += item.refunded
    sums = (
        LedgerEntry.objects.filter(account__in=accounts)
        .values("transaction__currency", "transaction__kind")
        .annotate(total=Sum("amount"))
    )
    for row in sums:
        total = totals.setdefault(row["transaction__currency"], Totals(row["transaction__currency"]))
        total.balance -= row["total"]
        if row["transaction__kind"] in (LedgerTransaction.Kind.PAYOUT, LedgerTransaction.Kind.PAYOUT_CANCELLED):
            total.paid_out += row["total"]  # a cancelled batch's reversal gives its amount back
    return Earnings(
        totals=sorted(totals.values(), key=lambda t: t.currency),
        datasets=list(datasets.values()),
        periods=sorted(periods),
        payouts=payouts_for(accounts),
    )


def payouts_for(accounts: QuerySet[LedgerAccount]) -> list[dict[str, Any]]:
    rows = (
        LedgerEntry.objects.filter(account__in=accounts, transaction__kind=LedgerTransaction.Kind.PAYOUT)
        .select_related("transaction__payout_batch", "account")
        .order_by("-transaction__created_at", "-id")
    )
    return [
        {
            "batch": row.transaction.payout_batch_id,
            "account": row.account.code,
            "amount": row.amount,
            "currency": row.transaction.currency,
            "status": row.transaction.payout_batch.status if row.transaction.payout_batch else "pending",
            "created_at": row.transaction.created_at,
            "paid_at": row.transaction.payout_batch.paid_at if row.transaction.payout_batch else None,
            "reference": row.transaction.payout_batch.reference if row.transaction.payout_batch else "",
        }
        for row in rows
    ]


@dataclass
class StatementLine:
    at: datetime
    transaction: str
    kind: str
    account: str
    dataset: str
    memo: str
    currency: str
    amount: int  # positive: we owe the payee more; negative: a refund or a payout
    balance: int


def statement(accounts: QuerySet[LedgerAccount], *, period: tuple[date, date] | None = None) -> list[StatementLine]:
    """Every movement of these accounts, oldest first, with the running balance per account and
    currency (the balance before the period is carried into its first line)."""
    entries = (
        LedgerEntry.objects.filter(account__in=accounts)
        .select_related("transaction__dataset", "account")
        .order_by("transaction__created_at", "transaction_id", "id")
    )
    running: dict[tuple[int, str], int] = defaultdict(int)
    lines = []
    for entry in entries:
        txn = entry.transaction
        key = (entry.account_id, txn.currency)
        running[key] -= entry.amount
        day = timezone.localdate(txn.created_at)
        if period is not None and not period[0] <= day < period[1]:
            continue
        lines.append(
            StatementLine(
                at=txn.created_at,
                transaction=txn.idempotency_key,
                kind=txn.kind,
                account=entry.account.code,
                dataset=txn.dataset.name if txn.dataset else "",
                memo=txn.memo,
                currency=txn.currency,
                amount=-entry.amount,
                balance=running[key],
            )
        )
    return lines


@dataclass
class DatasetRevenue:
    dataset_id: str
    name: str
    slug: str
    currency: str
    payments: int = 0
    refunds: int = 0
    gross: int = 0  # what licensees paid, less refunds
    fees: int = 0
    contributors: int = 0  # to the payees of the revenue shares, or to the organization


def revenue_of(organization: Organization) -> list[DatasetRevenue]:
    """Revenue per dataset of an organization: money in, the platform's fee and the payees' parts,
    net of refunds (a refund's shortfall, borne by the platform, counts as returned to the
    licensee and taken from no one)."""
    rows = (
        LedgerEntry.objects.filter(
            transaction__dataset__organization=organization, transaction__kind__in=EARNING_KINDS
        )
        .values("transaction__dataset_id", "transaction__dataset__name", "transaction__dataset__slug",
                "transaction__currency", "transaction__kind", "account__kind")
        .annotate(total=Sum("amount"))
        .order_by("transaction__dataset__name")
    )  # fmt: skip
    found: dict[tuple[str, str], DatasetRevenue] = {}
    for row in rows:
        key = (row["transaction__dataset_id"], row["transaction__currency"])
        item = found.setdefault(
            key,
            DatasetRevenue(key[0], row["transaction__dataset__name"], row["transaction__dataset__slug"], key[1]),
        )
        kind, total = row["account__kind"], row["total"]
        if kind == LedgerAccount.Kind.CASH:
            item.gross += total
        elif kind == LedgerAccount.Kind.FEES:
            item.fees -= total
        elif kind in (LedgerAccount.Kind.PAYABLE, LedgerAccount.Kind.SHORTFALL):
            item.contributors -= total
    counts = (
        LedgerTransaction.objects.filter(dataset__organization=organization, kind__in=EARNING_KINDS)
        .values("dataset_id", "currency", "kind")
        .annotate(n=Sum(Value(1)))
    )
    for row in counts:
        item = found[(row["dataset_id"], row["currency"])]
        if row["kind"] == LedgerTransaction.Kind.PAYMENT:
            item.payments = row["n"]
        else:
            item.refunds = row["n"]
    return list(found.values())


@dataclass
class PayableBalance:
    account: LedgerAccount
    currency: str
    balance: int


def payable_balances() -> list[PayableBalance]:
    """Every payable account we owe something, for staff to pay out."""
    rows = (
        LedgerEntry.objects.filter(account__kind=LedgerAccount.Kind.PAYABLE)
        .values("account_id", "transaction__currency")
        .annotate(total=Sum("amount"))
        .filter(total__lt=0)
        .order_by("account_id")
    )
    accounts = LedgerAccount.objects.in_bulk([row["account_id"] for row in rows])
    return [PayableBalance(accounts[row["account_id"]], row["transaction__currency"], -row["total"]) for row in rows]


def batches() -> QuerySet[PayoutBatch]:
    return PayoutBatch.objects.select_related("created_by", "paid_by").order_by("-created_at", "-id")
