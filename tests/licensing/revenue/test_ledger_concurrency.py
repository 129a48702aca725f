"""The ledger under concurrency on real PostgreSQL: fifty payments for one dataset recorded at
the same moment, each in its own thread and database connection, leave exact balances; payout
batches racing for one balance never spend it twice."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import pytest
from django.db import connection
from django.db.models import Sum

from licensing.models import LedgerAccount, LedgerEntry, LedgerTransaction, PayoutBatch
from licensing.revenue import ledger, payments
from marketplace.models import User
from tests.licensing.revenue.test_ledger import approved_submission, licensee, paid_dataset, staff

pytestmark = pytest.mark.django_db(transaction=True)
T = TypeVar("T")


def all_at_once(calls: list[Callable[[], T]]) -> list[T | Exception]:
    """Run every call in its own thread (and so its own connection), released together."""
    start = threading.Barrier(len(calls))

    def run(call: Callable[[], T]) -> T | Exception:
        try:
            start.wait()
            return call()
        except Exception as exc:  # noqa: BLE001 - the caller asserts on what each one got
            return exc
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def test_fifty_simultaneous_payments_leave_exact_balances() -> None:
    ana = User.objects.create_user(username="ana", email="ana@example.org")
    dataset = paid_dataset(price_cents=1_001)
    approved_submission(
        dataset,
        [{"username": "ana", "basisPoints": 5_000},
         {"name": "Bo", "email": "bo@example.org", "basisPoints": 3_333},
         {"name": "Cai", "email": "cai@example.org", "basisPoints": 1_667}],
    )  # fmt: skip
    invoices = [payments.open_invoice(user=licensee(), dataset=dataset)[0] for _ in range(50)]

    def paying(invoice_id: str) -> Callable[[], object]:
        return lambda: payments.record_payment(invoice_id=invoice_id, recorded_by=None, reference="wire")

    results = all_at_once([paying(invoice.id) for invoice in invoices])
    assert [r for r in results if isinstance(r, Exception)] == []

    # One payment: 1,051 cents, a 50 cent fee, 1,001 split 500.5 / 333.63 / 166.87 -> 500 / 334 / 167.
    assert LedgerTransaction.objects.filter(kind="payment").count() == 50
    balances = {
        code: ledger.owed(LedgerAccount.objects.get(code=code), "usd")
        for code in (f"payable:user:{ana.id}", "payable:payee:bo@example.org", "payable:payee:cai@example.org")
    }
    assert balances == {
        f"payable:user:{ana.id}": 50 * 500,
        "payable:payee:bo@example.org": 50 * 334,
        "payable:payee:cai@example.org": 50 * 167,
    }
    assert ledger.owed(LedgerAccount.objects.get(code="platform:fees"), "usd") == 50 * 50
    assert -ledger.owed(LedgerAccount.objects.get(code="cash:received"), "usd") == 50 * 1_051
    assert LedgerEntry.objects.aggregate(total=Sum("amount"))["total"] == 0
    assert LedgerAccount.objects.filter(kind="payable").count() == 3  # created once, not once per payment

    # Replays racing each other post nothing new.
    replays = all_at_once([paying(invoice.id) for invoice in invoices[:10]])
    assert [r for r in replays if isinstance(r, Exception)] == []
    assert LedgerTransaction.objects.count() == 50


def test_racing_payout_batches_cannot_spend_one_balance_twice() -> None:
    ana = User.objects.create_user(username="ana", email="ana@example.org")
    dataset = paid_dataset(price_cents=1_000)
    approved_submission(dataset, [{"username": "ana", "basisPoints": 10_000}])
    for _ in range(3):
        payments.record_payment(
            invoice_id=payments.open_invoice(user=licensee(), dataset=dataset)[0].id, recorded_by=None
        )
    payable, admin = LedgerAccount.objects.get(code=f"payable:user:{ana.id}"), staff()
    assert ledger.owed(payable, "usd") == 3_000

    # Eight staff pages each try to pay out 2,000 of the 3,000: only one may.
    results = all_at_once(
        [
            lambda: ledger.create_payout_batch(amounts={payable.id: 2_000}, currency="usd", created_by=admin)
            for _ in range(8)
        ]
    )
    created = [r for r in results if isinstance(r, PayoutBatch)]
    refused = [r for r in results if isinstance(r, ledger.LedgerError)]
    assert (len(created), len(refused)) == (1, 7)
    assert "is owed 10.00 USD" in refused[0].messages[0]
    assert ledger.owed(payable, "usd") == 1_000
