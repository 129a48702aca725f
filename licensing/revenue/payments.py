"""Buying a paid dataset: invoices, a payment provider interface, and recorded payments.

The default provider is a manual invoice: the licensee pays by transfer and an admin of the
selling organization (or staff) marks the invoice paid, in the browser or with
``manage.py mark_invoice_paid``. A card provider implements ``PaymentProvider`` and calls
``record_payment`` from its confirmation webhook. A recorded payment creates the licensee's
grant for the terms shown when the invoice was opened, and posts it to the revenue-share ledger
(``licensing.revenue.ledger``), in the same transaction.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from licensing.access import grants
from licensing.access.grants import current_version, terms_for
from licensing.models import Invoice, LicenseGrant, Payment
from licensing.revenue import ledger
from marketplace.models import Dataset, Membership, Organization, User
from marketplace.permissions import MANAGER_ROLES


class PaymentProvider(Protocol):
    """What a payment provider does for us. ``open`` runs after the invoice row exists (outside
    the transaction: it may call the provider's servers); ``instructions`` tells the licensee
    how to pay."""

    name: str

    def open(self, invoice: Invoice) -> None: ...

    def instructions(self, invoice: Invoice) -> str: ...


class ManualInvoiceProvider:
    """Pay by bank transfer quoting the invoice id; a person marks it paid."""

    name = "manual"

    def open(self, invoice: Invoice) -> None:
        return None  # nothing to call: the invoice itself is the request for payment

    def instructions(self, invoice: Invoice) -> str:
        return (
            f"Transfer {format_amount(invoice.amount_cents, invoice.currency)} quoting invoice {invoice.id}. "
            f"An admin of {invoice.dataset.organization.name} marks it paid when the money arrives; "
            "your download opens then."
        )


PROVIDERS: dict[str, PaymentProvider] = {"manual": ManualInvoiceProvider()}


def provider(name: str | None = None) -> PaymentProvider:
    chosen = name or settings.PAYMENT_PROVIDER
    try:
        return PROVIDERS[chosen]
    except KeyError:
        raise ImproperlyConfigured(f"PAYMENT_PROVIDER={chosen!r} is unknown; use one of {sorted(PROVIDERS)}") from None


def format_amount(cents: int, currency: str) -> str:
    return f"{cents / 100:,.2f} {currency.upper()}"


def price_of(dataset: Dataset) -> tuple[int, int]:
    """(base price, platform fee) in cents, the fee rounded half up as the catalog shows it."""
    if not dataset.is_paid or not dataset.base_price_cents:
        raise ValidationError(f"{dataset.name} is free: there is nothing to buy.")
    fee = int((Decimal(dataset.base_price_cents) * Decimal(settings.PLATFORM_FEE_RATE)).quantize(
        Decimal(1), rounding=ROUND_HALF_UP
    ))  # fmt: skip
    return dataset.base_price_cents, fee


def has_paid(*, user: User, dataset: Dataset) -> bool:
    return Payment.objects.filter(invoice__user=user, invoice__dataset=dataset).exists()


def open_invoice(
    *, user: User, dataset: Dataset, user_agent: str = "", organization: Organization | None = None
) -> tuple[Invoice, bool]:
    """The caller's open (or already paid) invoice for ``dataset``, or a new one. Returns the
    invoice and whether it was created."""
    existing = (
        Invoice.objects.filter(user=user, dataset=dataset, status__in=[Invoice.Status.OPEN, Invoice.Status.PAID])
        .order_by("-created_at")
        .first()
    )
    if existing is not None:
        return existing, False
    base, fee = price_of(dataset)
    terms = terms_for(dataset=dataset, version=current_version(dataset))
    chosen = provider()
    try:
        with transaction.atomic():
            invoice = Invoice.objects.create(
                dataset=dataset,
                version=terms.version,
                user=user,
                organization=organization,
                base_price_cents=base,
                platform_fee_cents=fee,
                amount_cents=base + fee,
                currency=dataset.currency,
                provider=chosen.name,
                terms_text=terms.text,
                terms_sha256=terms.sha256,
                user_agent=user_agent[:500],
            )
    except IntegrityError:  # a concurrent call of the same user opened it first
        found = Invoice.objects.filter(user=user, dataset=dataset, status=Invoice.Status.OPEN).first()
        if found is None:
            raise
        return found, False
    chosen.open(invoice)
    return invoice, True


def can_mark_paid(user: object, invoice: Invoice) -> bool:
    if not isinstance(user, User) or not user.is_authenticated:
        return False
    if user.is_staff:
        return True
    return Membership.objects.filter(
        organization_id=invoice.dataset.organization_id, user=user, role__in=MANAGER_ROLES
    ).exists()


@transaction.atomic
def record_payment(*, invoice_id: str, recorded_by: User | None, reference: str = "") -> Payment:
    """Mark an open invoice paid: the payment row, the grant, its ledger transaction and the
    invoice's new state commit together. Repeating it returns the first payment (and posts it
    to the ledger if it was recorded before the ledger existed: posting is idempotent).
    ``recorded_by`` None means a trusted caller (a management command or a provider webhook);
    a person must be allowed to."""
    invoice = Invoice.objects.select_for_update().select_related("dataset__organization", "version__license").filter(
        id=invoice_id
    ).first()  # fmt: skip
    if invoice is None:
        raise Invoice.DoesNotExist(f"No invoice {invoice_id}.")
    if recorded_by is not None and not can_mark_paid(recorded_by, invoice):
        raise PermissionDenied(f"Only admins of {invoice.dataset.organization.name} or staff mark invoices paid.")
    if invoice.status == Invoice.Status.PAID:
        ledger.post_payment(payment=invoice.payment)
        return invoice.payment
    if invoice.status != Invoice.Status.OPEN:
        raise ValidationError(f"Invoice {invoice.id} is {invoice.status}: it cannot be paid.")
    grant = grants.record_grant(
        user=invoice.user,
        organization=invoice.organization,
        dataset=invoice.dataset,
        version=invoice.version,
        terms_text=invoice.terms_text,
        terms_sha256=invoice.terms_sha256,
        source=LicenseGrant.Source.PAYMENT,
        user_agent=invoice.user_agent,
    )
    payment = Payment.objects.create(
        invoice=invoice,
        amount_cents=invoice.amount_cents,
        currency=invoice.currency,
        provider=invoice.provider,
        reference=reference.strip()[:200],
        recorded_by=recorded_by,
        grant=grant,
    )
    Invoice.objects.filter(id=invoice.id, status=Invoice.Status.OPEN).update(
        status=Invoice.Status.PAID, paid_at=timezone.now()
    )
    ledger.post_payment(payment=payment)
    return payment


def invoices_for_organization(*, organization_id: str) -> QuerySet[Invoice]:
    return (
        Invoice.objects.filter(dataset__organization_id=organization_id)
        .select_related("dataset", "user")
        .order_by("status", "-created_at")
    )
