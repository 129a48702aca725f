"""The revenue-share ledger (licensing/revenue/ledger.py) against real PostgreSQL: the split's
arithmetic, the database's own checks (balanced transactions, append-only rows), posting from
recorded payments, refunds and payouts, with hypothesis properties over sequences of them."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, connection, transaction
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from config.refusals import Conflict
from licensing.models import LedgerAccount, LedgerEntry, LedgerTransaction, Payment, PayoutBatch
from licensing.revenue import earnings, ledger, payments, refunds
from marketplace.models import Dataset, RevenueShare, Submission, User
from marketplace.submissions.drafts import set_revenue_split
from marketplace.submissions.inputs import shares_from_json
from tests.factories import published_dataset, verified_user
from tests.second_factor import enroll_second_factor

_names = itertools.count(1)


# --- Builders shared by the ledger's tests ------------------------------------------------------


def paid_dataset(price_cents: int = 10_000, slug: str | None = None) -> Dataset:
    return published_dataset(slug or f"paid-{next(_names)}", is_paid=True, base_price_cents=price_cents)


def approved_submission(dataset: Dataset, contributors: list[dict[str, object]]) -> Submission:
    """The submission whose approval published ``dataset``'s current version, with this split
    (set through the service, as the contributor would). Approval itself needs a validated
    archive in storage; its outcome is two columns, written here as approve_submission does."""
    author = dataset.organization.memberships.get().user
    submission = Submission.objects.create(
        organization=dataset.organization, created_by=author, name=dataset.name, dataset=dataset
    )
    set_revenue_split(submission=submission, shares=shares_from_json({"contributors": contributors}))
    Submission.objects.filter(id=submission.id).update(
        status=Submission.Status.APPROVED, version=dataset.current_version, reviewed_at=timezone.now(),
        reviewed_by=author,
    )  # fmt: skip
    return submission


def licensee() -> User:
    return verified_user(f"licensee{next(_names)}")


def pay(dataset: Dataset, buyer: User | None = None) -> Payment:
    invoice, _ = payments.open_invoice(user=buyer or licensee(), dataset=dataset)
    return payments.record_payment(invoice_id=invoice.id, recorded_by=None, reference="bank")


def staff() -> User:
    name = f"staff{next(_names)}"
    user = verified_user(name, is_staff=True)
    enroll_second_factor(user)  # staff move money: the site asks them for one
    return user


def account(code: str) -> LedgerAccount:
    return LedgerAccount.objects.get(code=code)


def unbalanced_transactions() -> list[tuple[int, int]]:
    rows = (
        LedgerEntry.objects.values("transaction_id")
        .annotate(total=Sum("amount"))
        .exclude(total=0)
        .values_list("transaction_id", "total")
    )
    return list(rows)


@contextmanager
def checked_then_rolled_back() -> Iterator[None]:
    """One hypothesis example: its writes are checked by the database's deferred triggers (as a
    commit would), then rolled back so the next example starts from the same state."""
    with transaction.atomic():
        yield
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # fires the pending balance checks now
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        transaction.set_rollback(True)


# --- The split ----------------------------------------------------------------------------------


def basis_points(max_payees: int) -> st.SearchStrategy[list[int]]:
    """Splits of 10,000 basis points among 1..max_payees payees, each at least 1."""
    cuts = st.lists(st.integers(1, 9_999), unique=True, max_size=max_payees - 1)
    return cuts.map(lambda c: [b - a for a, b in itertools.pairwise([0, *sorted(c), 10_000])])


@given(amount=st.integers(0, 10**12), rate=st.decimals("0", "1", places=4), weights=basis_points(12))
@settings(max_examples=500, deadline=None)
def test_the_split_is_exact_and_fair(amount: int, rate: Decimal, weights: list[int]) -> None:
    fee = int((Decimal(amount) * rate).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    taken, parts = ledger.split_payment(amount=amount, fee=fee, weights=weights)
    assert taken == fee
    assert fee + sum(parts) == amount
    rest = amount - fee
    for part, weight in zip(parts, weights, strict=True):
        exact = Decimal(rest) * weight / 10_000
        assert 0 <= part and abs(part - exact) < 1  # never a cent more than the rounding needs


def test_largest_remainder_gives_leftover_cents_to_the_largest_remainders() -> None:
    assert ledger.largest_remainder(100, [1, 1, 1]) == [34, 33, 33]  # a tie goes to the first
    assert ledger.largest_remainder(10, [3_333, 3_333, 3_334]) == [3, 3, 4]
    assert ledger.largest_remainder(1, [5_000, 5_000]) == [1, 0]
    with pytest.raises(ValueError, match="fee"):
        ledger.split_payment(amount=5, fee=6, weights=[10_000])


# --- Posting payments ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_recorded_payment_posts_fee_and_shares_and_a_replay_posts_nothing() -> None:
    contributor = User.objects.create_user(username="ana", email="ana@example.org")
    dataset = paid_dataset(price_cents=1_001)
    submission = approved_submission(
        dataset,
        [{"username": "ana", "basisPoints": 6_667},
         {"name": "Bea Payee", "email": "Bea@Example.org", "basisPoints": 3_333}],
    )  # fmt: skip
    payment = pay(dataset)
    assert payment.amount_cents == 1_051  # 1,001 + a fee of 50.05 rounded half up to 50

    posted = LedgerTransaction.objects.get(payment=payment)
    assert (posted.idempotency_key, posted.kind, posted.currency) == (f"payment:{payment.id}", "payment", "usd")
    assert (posted.dataset_id, posted.submission_id) == (dataset.id, submission.id)
    lines = dict(posted.entries.values_list("account__code", "amount"))
    assert lines == {
        "cash:received": 1_051,
        "platform:fees": -50,
        f"payable:user:{contributor.id}": -667,  # 667.3667
        "payable:payee:bea@example.org": -334,  # 333.6333: the larger remainder gets the leftover cent
    }
    assert ledger.owed(account(f"payable:user:{contributor.id}"), "usd") == 667

    payments.record_payment(invoice_id=payment.invoice_id, recorded_by=None)
    assert ledger.post_payment(payment=payment) == posted
    assert LedgerTransaction.objects.count() == 1 and LedgerEntry.objects.count() == 4


@pytest.mark.django_db
def test_a_dataset_without_a_submission_pays_its_organization() -> None:
    dataset = paid_dataset(price_cents=2_000)
    payment = pay(dataset)
    lines = dict(LedgerTransaction.objects.get(payment=payment).entries.values_list("account__code", "amount"))
    assert lines == {"cash:received": 2_100, "platform:fees": -100, f"payable:org:{dataset.organization_id}": -2_000}
    assert account(f"payable:org:{dataset.organization_id}").organization == dataset.organization


@pytest.mark.django_db
def test_the_database_refuses_unbalanced_transactions_and_changes() -> None:
    payment = pay(paid_dataset())
    posted = LedgerTransaction.objects.get(payment=payment)
    entry = posted.entries.first()
    assert entry is not None
    for change in (
        lambda: LedgerEntry.objects.filter(id=entry.id).update(amount=entry.amount + 1),
        lambda: LedgerEntry.objects.filter(id=entry.id).delete(),
        lambda: LedgerTransaction.objects.filter(id=posted.id).update(memo="edited"),
        lambda: LedgerAccount.objects.filter(code="platform:fees").update(name="mine"),
    ):
        with pytest.raises(DatabaseError, match="evidence"), transaction.atomic():
            change()

    cash = account("cash:received")
    with pytest.raises(DatabaseError, match="does not balance: 1 entries summing to 5"), transaction.atomic():
        lonely = LedgerTransaction.objects.create(
            idempotency_key="hand-made", kind="payment", currency="usd", payment=payment, dataset=posted.dataset
        )
        LedgerEntry.objects.create(transaction=lonely, account=cash, amount=5)
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    with pytest.raises(ledger.LedgerError, match="does not balance"):
        ledger._post(key="by-hand", kind="payment", currency="usd", lines=[(cash, 5), (account("platform:fees"), -4)])


# --- Refunds ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_refund_reverses_the_payment_exactly_once() -> None:
    User.objects.create_user(username="cy", email="cy@example.org")
    dataset = paid_dataset(price_cents=999)
    approved_submission(dataset, [{"username": "cy", "basisPoints": 10_000}])
    payment = pay(dataset)
    with pytest.raises(PermissionDenied):
        refunds.refund_payment(invoice_id=payment.invoice_id, refunded_by=licensee(), reason="Mine.")
    refund = refunds.refund_payment(invoice_id=payment.invoice_id, refunded_by=staff(), reason="Wrong dataset bought.")
    original = LedgerTransaction.objects.get(idempotency_key=f"payment:{payment.id}")
    assert refund.transaction.kind == "refund" and refund.transaction.memo == "Wrong dataset bought."
    assert dict(refund.transaction.entries.values_list("account__code", "amount")) == {
        code: -amount for code, amount in original.entries.values_list("account__code", "amount")
    }
    with pytest.raises(Conflict, match=f"Invoice {payment.invoice_id} was already refunded on .*: Wrong dataset"):
        refunds.refund_payment(invoice_id=payment.invoice_id, refunded_by=None, reason="Again.")
    assert ledger.is_refunded(payment) and LedgerTransaction.objects.count() == 2
    assert LedgerEntry.objects.aggregate(total=Sum("amount"))["total"] == 0
    assert (
        all(ledger.owed(a, "usd") == 0 for a in LedgerAccount.objects.exclude(kind="cash"))
        and ledger.owed(account("cash:received"), "usd") == 0
    )


@pytest.mark.django_db
def test_a_refund_after_a_payout_leaves_the_payee_owing_it_back_from_future_earnings() -> None:
    contributor = User.objects.create_user(username="di", email="di@example.org")
    dataset = paid_dataset(price_cents=1_000)
    approved_submission(dataset, [{"username": "di", "basisPoints": 10_000}])
    first, second = pay(dataset), pay(dataset)
    payable = account(f"payable:user:{contributor.id}")
    admin = staff()
    ledger.create_payout_batch(amounts={payable.id: 1_500}, currency="usd", created_by=admin)
    assert ledger.owed(payable, "usd") == 500

    refund = refunds.refund_payment(invoice_id=first.invoice_id, refunded_by=None, reason="Chargeback.")
    lines = dict(refund.transaction.entries.values_list("account__code", "amount"))
    assert lines == {"cash:received": -1_050, "platform:fees": 50, payable.code: 1_000}  # the exact reversal
    assert ledger.owed(payable, "usd") == -500  # di owes 5.00 back
    assert ledger.is_refunded(first) and not ledger.is_refunded(second)
    with pytest.raises(ledger.LedgerError):  # nothing to pay out while they owe
        ledger.create_payout_batch(amounts={payable.id: 1}, currency="usd", created_by=admin)
    pay(dataset)  # the next sale pays the debt first
    assert ledger.owed(payable, "usd") == 500
    assert [b.balance for b in earnings.payable_balances() if b.account == payable] == [500]


# --- Payouts ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_payouts_never_exceed_a_balance_and_are_marked_paid_with_a_reference() -> None:
    contributor = User.objects.create_user(username="ed", email="ed@example.org")
    dataset = paid_dataset(price_cents=1_000)
    approved_submission(dataset, [{"username": "ed", "basisPoints": 10_000}])
    pay(dataset)
    payable, admin = account(f"payable:user:{contributor.id}"), staff()

    with pytest.raises(PermissionDenied):
        ledger.create_payout_batch(amounts={payable.id: 100}, currency="usd", created_by=contributor)
    with pytest.raises(ledger.LedgerError) as refused:
        ledger.create_payout_batch(amounts={payable.id: 1_001}, currency="usd", created_by=admin)
    assert refused.value.message_dict == {
        str(payable.id): ["ed is owed 10.00 USD: 10.01 USD would pay out more than their balance."]
    }
    with pytest.raises(ledger.LedgerError) as bad:
        ledger.create_payout_batch(amounts={payable.id: 0, 999_999: 5}, currency="usd", created_by=admin)
    assert set(bad.value.message_dict) == {str(payable.id), "999999"}
    assert not PayoutBatch.objects.exists()

    batch = ledger.create_payout_batch(amounts={payable.id: 1_000}, currency="usd", created_by=admin)
    assert ledger.owed(payable, "usd") == 0 and ledger.batch_total(batch) == 1_000
    with pytest.raises(ledger.LedgerError):
        ledger.create_payout_batch(amounts={payable.id: 1}, currency="usd", created_by=admin)
    with pytest.raises(ledger.LedgerError) as no_reference:
        ledger.mark_payout_batch_paid(batch_id=batch.id, reference=" ", paid_by=admin)
    assert "reference" in no_reference.value.message_dict

    paid = ledger.mark_payout_batch_paid(batch_id=batch.id, reference="SEPA-42", paid_by=admin)
    assert (paid.status, paid.reference, paid.paid_by) == ("paid", "SEPA-42", admin)
    assert ledger.mark_payout_batch_paid(batch_id=batch.id, reference="other", paid_by=admin).reference == "SEPA-42"
    assert ledger.owed(account("payout:pending"), "usd") == 0
    assert ledger.owed(account("cash:received"), "usd") == -50  # the platform's fee stays in cash
    with pytest.raises(DatabaseError, match="pending to paid"), transaction.atomic():
        PayoutBatch.objects.filter(id=batch.id).update(status="pending")


# --- Properties over sequences of events --------------------------------------------------------

events = st.lists(
    st.one_of(
        st.tuples(st.just("pay"), st.integers(0, 2), st.integers(1, 100_000)),
        st.tuples(st.just("replay"), st.integers(0, 30)),
        st.tuples(st.just("refund"), st.integers(0, 30)),
        st.tuples(st.just("payout"), st.integers(0, 3), st.integers(1, 200_000)),
    ),
    min_size=1,
    max_size=14,
)


@pytest.mark.django_db
@given(splits=st.lists(basis_points(3), min_size=3, max_size=3), script=events)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_ledger_properties_over_payments_replays_refunds_and_payouts(
    splits: Sequence[list[int]], script: list[tuple[int | str, ...]]
) -> None:
    """Whatever happens: every transaction sums to zero (checked by the database too), a replay
    writes nothing, every payment's fee and parts sum to its amount, and a payable is below zero
    only after a refund of money already paid out."""
    assume(any(step[0] == "pay" for step in script))
    with checked_then_rolled_back():
        people = [User.objects.create_user(username=f"p{i}", email=f"p{i}@example.org") for i in range(3)]
        datasets = []
        for index, weights in enumerate(splits):
            dataset = paid_dataset(price_cents=1_000 + index, slug=f"prop-{index}")
            approved_submission(
                dataset, [{"username": p.username, "basisPoints": w} for p, w in zip(people, weights, strict=False)]
            )
            datasets.append(dataset)
        admin, paid = staff(), []
        for step in script:
            kind = step[0]
            if kind == "pay":
                Dataset.objects.filter(id=datasets[int(step[1])].id).update(base_price_cents=int(step[2]))
                paid.append(pay(Dataset.objects.get(id=datasets[int(step[1])].id)))
            elif kind in ("replay", "refund") and paid:
                payment = paid[int(step[1]) % len(paid)]
                before = LedgerEntry.objects.count()
                already = ledger.is_refunded(payment)
                if kind == "replay" and already:  # a refunded invoice cannot be paid again
                    with pytest.raises(Conflict, match="refunded"):
                        payments.record_payment(invoice_id=payment.invoice_id, recorded_by=None)
                elif kind == "replay":
                    payments.record_payment(invoice_id=payment.invoice_id, recorded_by=None)
                elif already:
                    with pytest.raises(Conflict, match="already refunded"):
                        refunds.refund_payment(invoice_id=payment.invoice_id, refunded_by=admin, reason="Again.")
                else:
                    refunds.refund_payment(invoice_id=payment.invoice_id, refunded_by=admin, reason="Property.")
                    assert LedgerEntry.objects.count() > before
                if kind == "replay" or already:
                    assert LedgerEntry.objects.count() == before
            elif kind == "payout":
                payable = LedgerAccount.objects.filter(kind="payable").order_by("id")[int(step[1]) % 3 :].first()
                if payable is None:
                    continue
                balance, amount = ledger.owed(payable, "usd"), int(step[2])
                try:
                    ledger.create_payout_batch(amounts={payable.id: amount}, currency="usd", created_by=admin)
                except ledger.LedgerError:
                    assert amount > balance
                else:
                    assert amount <= balance
            for payable in LedgerAccount.objects.filter(kind="payable"):
                # Below zero only when a refund came after a payout: owed back from future earnings.
                if ledger.owed(payable, "usd") < 0:
                    assert payable.entries.filter(transaction__kind="payout").exists()
        assert unbalanced_transactions() == []
        for payment in paid:
            posted = LedgerTransaction.objects.get(idempotency_key=f"payment:{payment.id}")
            lines = list(posted.entries.values_list("account__kind", "amount"))
            fee = -sum(a for k, a in lines if k == "fees")
            parts = [-a for k, a in lines if k == "payable"]
            assert fee == payment.invoice.platform_fee_cents and fee + sum(parts) == payment.amount_cents
        assert RevenueShare.objects.count() == sum(len(ws) for ws in splits)


@pytest.mark.django_db
def test_a_grant_made_by_a_payment_is_in_the_transparency_log() -> None:
    # Payments wrote the grant themselves, so the log had no entry for a bought license.
    from provenance.models import LogEntry

    dataset = paid_dataset(price_cents=1_500)
    before = LogEntry.objects.filter(kind=LogEntry.Kind.GRANT).count()
    payment = pay(dataset)
    entries = LogEntry.objects.filter(kind=LogEntry.Kind.GRANT)
    assert entries.count() == before + 1
    payload = entries.order_by("-index").first().payload
    assert payload == {"grantId": payment.grant_id, "termsSha256": payment.grant.terms_sha256, "source": "payment"}
