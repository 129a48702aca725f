"""Refunds: the way back from a sale.

Staff refund a paid invoice (a page, ``POST /api/v1/invoices/{id}/refund``, or a trusted caller
such as a provider's webhook). In one transaction:

1. the ledger posts the exact reversal of the payment's transaction (``ledger.post_refund``:
   cash, the platform's fee and every payee's part, a payee already paid out left owing it);
2. a ``Refund`` row records the reversal, the reason and the grant the payment created, which
   from then on licenses nothing (``grants.grants_covering`` skips refunded grants, and
   ``downloads.decide`` answers that the purchase was refunded);
3. the invoice moves from paid to refunded (a conditional update).

The licensee is emailed once the transaction commits, and their *My licenses* page shows the
license as refunded. A refund is made once: asking again is refused with when and why it was.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from config.refusals import Conflict
from licensing.models import Invoice, LedgerAccount, LedgerTransaction, Payment, Refund
from licensing.revenue import ledger
from marketplace.dates import short_date
from marketplace.models import Dataset, User
from marketplace.notifications.messages import language_of


def already_refunded(refund: Refund) -> str:
    return _("Invoice %(id)s was already refunded on %(day)s: %(reason)s") % {
        "id": refund.payment.invoice_id,
        "day": short_date(refund.created_at),
        "reason": refund.reason,
    }


@transaction.atomic
def refund_payment(*, invoice_id: str, refunded_by: User | None, reason: str) -> Refund:
    """Refund the payment of a paid invoice and revoke the grant it paid for. ``refunded_by``
    None is a trusted caller (a command, a provider's webhook); a person must be staff."""
    if refunded_by is not None and not refunded_by.is_staff:
        raise PermissionDenied(_("Only staff refund payments."))
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": [_("Say why the payment is refunded: the licensee reads it.")]})
    invoice = Invoice.objects.select_for_update().select_related("dataset", "user").filter(id=invoice_id).first()
    if invoice is None:
        raise Invoice.DoesNotExist(_("No invoice %(id)s.") % {"id": invoice_id})
    payment = Payment.objects.filter(invoice=invoice).select_related("grant").first()
    earlier = Refund.objects.filter(payment=payment).select_related("payment").first() if payment else None
    if earlier is not None:
        raise Conflict(already_refunded(earlier))
    if payment is None or invoice.status != Invoice.Status.PAID:
        raise Conflict(
            _("Invoice %(id)s was never paid (it is %(state)s): there is nothing to refund.")
            % {"id": invoice.id, "state": str(invoice.get_status_display()).lower()}
        )
    reversal = ledger.post_refund(payment=payment, refunded_by=refunded_by, reason=reason)
    refund = Refund.objects.create(
        payment=payment,
        grant_id=payment.grant_id,
        transaction=reversal,
        amount_cents=payment.amount_cents,
        currency=payment.currency,
        reason=reason,
        refunded_by=refunded_by,
    )
    Invoice.objects.filter(id=invoice.id, status=Invoice.Status.PAID).update(
        status=Invoice.Status.REFUNDED, closed_at=refund.created_at, closed_by=refunded_by, closed_reason=reason
    )
    _tell_licensee(invoice.user, invoice.dataset, refund)
    return refund


def refunded_purchase(*, user: User, dataset: Dataset) -> Refund | None:
    """The newest refund of ``user``'s purchases of ``dataset``, if any."""
    return (
        Refund.objects.filter(payment__invoice__user=user, payment__invoice__dataset=dataset)
        .select_related("payment")
        .order_by("-created_at", "-id")
        .first()
    )


def refund_sentence(refund: Refund, dataset_name: str) -> str:
    """What a licensee reads when a download of a refunded purchase is refused."""
    return _(
        "Your purchase of %(dataset)s was refunded on %(day)s (%(amount)s), so the license it paid for was "
        "revoked: %(reason)s"
    ) % {
        "dataset": dataset_name,
        "day": short_date(refund.created_at),
        "amount": ledger.money(refund.amount_cents, refund.currency),
        "reason": refund.reason,
    }


def _tell_licensee(user: User, dataset: Dataset, refund: Refund) -> None:
    if not user.email:
        return
    with translation.override(language_of(user)):  # in the licensee's language, whoever refunded
        subject = _("Refunded: your purchase of %(dataset)s") % {"dataset": dataset.name}
        body = "\n\n".join(
            [
                refund_sentence(refund, dataset.name),
                _("Downloads of %(dataset)s under that license are refused from now on.") % {"dataset": dataset.name},
                _("To use it again, buy it again on its page: %(path)s")
                % {"path": reverse("dataset-detail", args=[dataset.slug])},
                str(settings.SITE_NAME),
            ]
        )
    transaction.on_commit(lambda: send_mail(subject, body, None, [user.email]))


@dataclass(frozen=True)
class ReversedLine:
    """One line of the refund's ledger transaction, before it is posted: the account, what the
    refund moves (cents, the sign of the ledger: a debit positive), and for a payee what they will
    be owed afterwards (below zero: they owe it back, recovered from their next earnings)."""

    name: str
    kind: str
    amount: int
    owed_after: int | None


def preview(invoice: Invoice) -> list[ReversedLine]:
    """The exact reversal a refund of ``invoice`` would post, for the confirmation page."""
    payment = Payment.objects.filter(invoice=invoice).first()
    if payment is None:
        return []
    original = LedgerTransaction.objects.filter(idempotency_key=f"payment:{payment.id}").first()
    if original is None:  # a payment recorded before the ledger: refunding posts it first
        return []
    lines = []
    for entry in original.entries.select_related("account").order_by("id"):
        payable = entry.account.kind == LedgerAccount.Kind.PAYABLE
        owed_after = ledger.owed(entry.account, original.currency) + entry.amount if payable else None
        lines.append(ReversedLine(entry.account.name, entry.account.kind, -entry.amount, owed_after))
    return lines
