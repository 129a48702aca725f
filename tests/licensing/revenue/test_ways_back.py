"""The ways back from a sale and a payout (licensing/revenue/refunds.py, payments.void_invoice and
the expiry, ledger.cancel_payout_batch) against real PostgreSQL, through the services and the API:
a refund revokes the grant it paid for and posts the exact reversal, once; an invoice is voided or
expires and cannot be paid then; a pending payout batch is cancelled and its amounts are owed again."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.db import DatabaseError, transaction
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from config.refusals import Conflict
from licensing.access import downloads
from licensing.access.downloads import Refusal
from licensing.models import Invoice, LedgerAccount, LedgerTransaction, PayoutBatch, Refund
from licensing.revenue import ledger, payments, refunds
from marketplace.models import Dataset, User
from tests.licensing.revenue.test_ledger import account, approved_submission, licensee, paid_dataset, pay, staff
from tests.second_factor import enroll_second_factor, pass_second_factor

pytestmark = pytest.mark.django_db


def api(user: User, bearer: Any) -> APIClient:
    _, key = bearer("read", "download", user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def verdict_for(user: User, dataset: Dataset) -> downloads.Verdict:
    dataset.refresh_from_db()
    assert dataset.current_version is not None
    return downloads.decide(
        user=user, dataset=dataset, version=dataset.current_version, kind="archive", page_url="/datasets/x/"
    )


# --- Refunds ----------------------------------------------------------------------------------------


def test_a_refund_revokes_the_grant_posts_the_reversal_tells_the_licensee_and_is_made_once(
    bearer: Any, django_capture_on_commit_callbacks: Any
) -> None:
    User.objects.create_user(username="ana", email="ana@example.org")
    dataset = paid_dataset(price_cents=15_000)
    approved_submission(dataset, [{"username": "ana", "basisPoints": 10_000}])
    buyer = licensee()
    payment = pay(dataset, buyer)
    assert verdict_for(buyer, dataset).allowed

    admin = staff()
    with django_capture_on_commit_callbacks(execute=True):
        response = api(admin, bearer).post(
            f"/api/v1/invoices/{payment.invoice_id}/refund", {"reason": "Bought the wrong dataset."}, format="json"
        )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["amountCents"], body["revokedGrantId"], body["invoice"]["status"]) == (
        15_750,
        payment.grant_id,
        "refunded",
    )
    assert body["ledgerTransaction"] == f"refund:payment:{payment.id}"

    # The exact reversal: every line of the sale, the payee's share included.
    sale = LedgerTransaction.objects.get(idempotency_key=f"payment:{payment.id}")
    reversal = LedgerTransaction.objects.get(idempotency_key=f"refund:payment:{payment.id}")
    assert dict(reversal.entries.values_list("account__code", "amount")) == {
        code: -amount for code, amount in sale.entries.values_list("account__code", "amount")
    }
    # The grant licenses nothing now: the download says why, in words.
    verdict = verdict_for(buyer, dataset)
    assert verdict.refusal is Refusal.REFUNDED
    assert f"Your purchase of {dataset.name} was refunded on" in verdict.message
    assert "157.50 USD" in verdict.message and "Bought the wrong dataset." in verdict.message
    refused = api(buyer, bearer).post(f"/api/datasets/{dataset.id}/download")
    assert refused.status_code == 402 and "was refunded" in refused.json()["message"]
    # Told by email, once the refund committed.
    (sent,) = [m for m in mail.outbox if m.to == [buyer.email]]
    assert "Refunded" in sent.subject and "Bought the wrong dataset." in sent.body

    again = api(admin, bearer).post(
        f"/api/v1/invoices/{payment.invoice_id}/refund", {"reason": "Twice?"}, format="json"
    )
    assert again.status_code == 409
    assert f"Invoice {payment.invoice_id} was already refunded on" in again.json()["message"]
    assert Refund.objects.count() == 1 and LedgerTransaction.objects.filter(kind="refund").count() == 1
    # Marking it paid again is refused too.
    with pytest.raises(Conflict, match="paid and then refunded"):
        payments.record_payment(invoice_id=payment.invoice_id, recorded_by=None)
    # The refund row is evidence.
    with pytest.raises(DatabaseError, match="evidence"), transaction.atomic():
        Refund.objects.filter(payment=payment).update(reason="edited")

    # Buying again opens a new invoice; once paid, the download opens.
    invoice, created = payments.open_invoice(user=buyer, dataset=dataset)
    assert created and invoice.id != payment.invoice_id
    payments.record_payment(invoice_id=invoice.id, recorded_by=None)
    assert verdict_for(buyer, dataset).allowed


def test_only_staff_refund_and_only_a_paid_invoice_with_a_reason(bearer: Any) -> None:
    dataset = paid_dataset(price_cents=2_000)
    buyer = licensee()
    payment = pay(dataset, buyer)
    owner = dataset.organization.memberships.get().user
    url = f"/api/v1/invoices/{payment.invoice_id}/refund"
    assert api(buyer, bearer).post(url, {"reason": "x"}, format="json").status_code == 403
    assert api(owner, bearer).post(url, {"reason": "x"}, format="json").status_code == 403
    assert api(licensee(), bearer).post(url, {"reason": "x"}, format="json").status_code == 404
    no_reason = api(staff(), bearer).post(url, {}, format="json")
    assert no_reason.status_code == 400 and "Say why the payment is refunded" in no_reason.json()["message"]
    open_one, _ = payments.open_invoice(user=licensee(), dataset=dataset)
    unpaid = api(staff(), bearer).post(f"/api/v1/invoices/{open_one.id}/refund", {"reason": "x"}, format="json")
    assert unpaid.status_code == 409 and "was never paid (it is open)" in unpaid.json()["message"]
    assert not Refund.objects.exists()


def test_the_staff_refund_page_asks_for_a_reason_then_a_confirmation(client: Client) -> None:
    dataset = paid_dataset(price_cents=15_000)
    buyer = licensee()
    payment = pay(dataset, buyer)
    url = f"/staff/invoices/{payment.invoice_id}/refund/"
    client.force_login(buyer)
    assert client.get(url).status_code == 403
    pass_second_factor(client, staff())
    page = client.get(url)
    assert page.status_code == 200 and "157.50 USD" in page.content.decode()
    missing = client.post(url, {"reason": " "})
    assert missing.status_code == 400 and "Say why the payment is refunded" in missing.content.decode()
    review = client.post(url, {"reason": "Duplicate purchase."})
    assert review.status_code == 200 and 'id="refund-confirm"' in review.content.decode()
    assert not Refund.objects.exists()  # nothing happens before the confirmation
    done = client.post(url, {"reason": "Duplicate purchase.", "confirm": "yes"})
    assert done.status_code == 302 and Invoice.objects.get(id=payment.invoice_id).status == "refunded"
    twice = client.post(url, {"reason": "Duplicate purchase.", "confirm": "yes"})
    assert twice.status_code == 409 and "already refunded" in twice.content.decode()


# --- Voided and expired invoices ----------------------------------------------------------------------


def test_the_licensee_voids_their_open_invoice_which_then_cannot_be_paid(bearer: Any) -> None:
    dataset = paid_dataset(price_cents=1_000)
    buyer = licensee()
    invoice, _ = payments.open_invoice(user=buyer, dataset=dataset)
    assert invoice.expires_at is not None and invoice.expires_at > timezone.now() + timedelta(days=29)
    assert api(licensee(), bearer).post(f"/api/v1/invoices/{invoice.id}/void", {}, format="json").status_code == 404
    voided = api(buyer, bearer).post(
        f"/api/v1/invoices/{invoice.id}/void", {"reason": "Changed my mind."}, format="json"
    )
    assert voided.status_code == 200 and voided.json()["status"] == "void" and voided.json()["closedAt"]
    again = api(buyer, bearer).post(f"/api/v1/invoices/{invoice.id}/void", {}, format="json")
    assert again.status_code == 409 and "is voided already" in again.json()["message"]
    owner = dataset.organization.memberships.get().user
    enroll_second_factor(owner)
    paid = api(owner, bearer).post(f"/api/v1/invoices/{invoice.id}/payment", {"reference": "bank"}, format="json")
    assert paid.status_code == 409
    assert f"Invoice {invoice.id} was voided on" in paid.json()["message"]
    assert "can open a new invoice" in paid.json()["message"]
    fresh = api(buyer, bearer).post(f"/api/v1/datasets/{dataset.id}/purchases", {}, format="json")
    assert fresh.status_code == 201 and fresh.json()["invoiceId"] != invoice.id


def test_organization_admins_void_and_a_paid_invoice_is_refunded_not_voided(client: Client) -> None:
    dataset = paid_dataset(price_cents=1_000)
    invoice, _ = payments.open_invoice(user=licensee(), dataset=dataset)
    owner = dataset.organization.memberships.get().user
    client.force_login(licensee())
    assert client.get(f"/invoices/{invoice.id}/void/").status_code == 404
    pass_second_factor(client, owner)
    assert client.get(f"/invoices/{invoice.id}/void/").status_code == 200
    done = client.post(f"/invoices/{invoice.id}/void/", {"reason": "Duplicate."})
    assert done.status_code == 302 and done["Location"] == f"/organizations/{dataset.organization.slug}/invoices/"
    assert Invoice.objects.get(id=invoice.id).closed_by == owner
    payment = pay(dataset)
    with pytest.raises(Conflict, match="Staff refund it instead"):
        payments.void_invoice(invoice_id=payment.invoice_id, voided_by=owner)


def test_an_invoice_past_its_expiry_cannot_be_paid_and_buying_again_opens_a_new_one() -> None:
    dataset = paid_dataset(price_cents=1_000)
    buyer = licensee()
    invoice, _ = payments.open_invoice(user=buyer, dataset=dataset)
    Invoice.objects.filter(id=invoice.id).update(expires_at=timezone.now() - timedelta(minutes=1))
    with pytest.raises(Conflict, match=f"Invoice {invoice.id} expired unpaid on"):
        payments.record_payment(invoice_id=invoice.id, recorded_by=None)
    assert verdict_for(buyer, dataset).refusal is Refusal.PAYMENT_DUE
    # Beat's task marks it; a paid or still valid invoice is left alone.
    other, _ = payments.open_invoice(user=licensee(), dataset=dataset)
    assert payments.expire_overdue_invoices() == 1
    assert Invoice.objects.get(id=invoice.id).status == "expired"
    assert Invoice.objects.get(id=other.id).status == "open"
    fresh, created = payments.open_invoice(user=buyer, dataset=dataset)
    assert created and fresh.id != invoice.id
    payments.record_payment(invoice_id=fresh.id, recorded_by=None)
    assert verdict_for(buyer, dataset).allowed


# --- Cancelled payout batches -------------------------------------------------------------------------


def test_cancelling_a_pending_batch_gives_the_amounts_back_exactly_once(bearer: Any) -> None:
    ana = User.objects.create_user(username="ana", email="ana@example.org")
    dataset = paid_dataset(price_cents=1_000)
    approved_submission(dataset, [{"username": "ana", "basisPoints": 10_000}])
    pay(dataset)
    payable, admin = account(f"payable:user:{ana.id}"), staff()
    batch = ledger.create_payout_batch(amounts={payable.id: 600}, currency="usd", created_by=admin)
    assert ledger.owed(payable, "usd") == 400

    assert (
        api(ana, bearer).post(f"/api/v1/payouts/{batch.id}/cancellation", {"reason": "x"}, format="json").status_code
        == 403
    )
    missing = api(admin, bearer).post(f"/api/v1/payouts/{batch.id}/cancellation", {}, format="json")
    assert missing.status_code == 400 and "Say why the batch is cancelled" in missing.json()["message"]
    done = api(admin, bearer).post(f"/api/v1/payouts/{batch.id}/cancellation", {"reason": "Wrong IBAN."}, format="json")
    assert done.status_code == 200, done.json()
    assert (done.json()["status"], done.json()["cancelReason"], done.json()["totalCents"]) == (
        "cancelled",
        "Wrong IBAN.",
        600,
    )
    assert ledger.owed(payable, "usd") == 1_000 and ledger.owed(account("payout:pending"), "usd") == 0
    payout = LedgerTransaction.objects.get(idempotency_key=f"payout:batch:{batch.id}")
    cancelled = LedgerTransaction.objects.get(idempotency_key=f"payout:batch:{batch.id}:cancelled")
    assert dict(cancelled.entries.values_list("account_id", "amount")) == {
        account_id: -amount for account_id, amount in payout.entries.values_list("account_id", "amount")
    }
    again = api(admin, bearer).post(f"/api/v1/payouts/{batch.id}/cancellation", {"reason": "x"}, format="json")
    assert again.status_code == 409 and "already cancelled: Wrong IBAN." in again.json()["message"]
    with pytest.raises(ledger.LedgerError, match="was cancelled: it cannot be marked paid"):
        ledger.mark_payout_batch_paid(batch_id=batch.id, reference="SEPA", paid_by=admin)
    with pytest.raises(DatabaseError, match="pending to paid or to cancelled"), transaction.atomic():
        PayoutBatch.objects.filter(id=batch.id).update(status="pending")
    # The balance is payable again, and the earnings count nothing paid out.
    ledger.create_payout_batch(amounts={payable.id: 1_000}, currency="usd", created_by=admin)
    from licensing.revenue import earnings

    (totals,) = earnings.earnings_for(LedgerAccount.objects.filter(id=payable.id)).totals
    assert (totals.paid_out, totals.balance) == (1_000, 0)


def test_a_paid_batch_cannot_be_cancelled(client: Client) -> None:
    ana = User.objects.create_user(username="ana", email="ana@example.org")
    dataset = paid_dataset(price_cents=1_000)
    approved_submission(dataset, [{"username": "ana", "basisPoints": 10_000}])
    pay(dataset)
    admin = staff()
    batch = ledger.create_payout_batch(
        amounts={account(f"payable:user:{ana.id}").id: 1_000}, currency="usd", created_by=admin
    )
    ledger.mark_payout_batch_paid(batch_id=batch.id, reference="SEPA-9", paid_by=admin)
    pass_second_factor(client, admin)
    refused = client.post(f"/staff/payouts/{batch.id}/cancel/", {"reason": "Too late.", "confirm": "yes"})
    assert refused.status_code == 409 and "a paid batch cannot be cancelled" in refused.content.decode()
    with pytest.raises(Conflict, match=r"was paid on .* \(reference SEPA-9\): a paid batch cannot be cancelled"):
        ledger.cancel_payout_batch(batch_id=batch.id, reason="Too late.", cancelled_by=admin)
    assert PayoutBatch.objects.get(id=batch.id).status == "paid"
    assert refunds.refunded_purchase(user=ana, dataset=dataset) is None


def test_the_earnings_page_explains_a_balance_below_zero(client: Client) -> None:
    ana = User.objects.create_user(username="ana", email="ana@example.org")
    dataset = paid_dataset(price_cents=1_000)
    approved_submission(dataset, [{"username": "ana", "basisPoints": 10_000}])
    payment = pay(dataset)
    ledger.create_payout_batch(
        amounts={account(f"payable:user:{ana.id}").id: 1_000}, currency="usd", created_by=staff()
    )
    refunds.refund_payment(invoice_id=payment.invoice_id, refunded_by=None, reason="Chargeback.")
    client.force_login(ana)
    body = client.get("/account/earnings/").content.decode()
    assert "Your balance is -10.00 USD" in body and "taken from what you earn next" in body
