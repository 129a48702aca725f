"""Buying a paid dataset: invoices, a payment provider interface, and recorded payments.

The default provider is a manual invoice: the licensee pays by transfer and an admin of the
selling organization (or staff) marks the invoice paid, in the browser or with
``manage.py mark_invoice_paid``. A card provider implements ``PaymentProvider`` and calls
``record_payment`` from its confirmation webhook. A recorded payment creates the licensee's
grant for the terms shown when the invoice was opened, and posts it to the revenue-share ledger
(``licensing.revenue.ledger``), in the same transaction.

An open invoice ends unpaid in one of two ways: voided (by the licensee who opened it, the
selling organization's owners or admins, or staff) or expired, ``INVOICE_EXPIRY_DAYS`` after it
was opened (beat's ``licensing.tasks.expire_invoices`` marks them; until it runs, paying an
overdue invoice is refused all the same and buying again replaces it). Either way the licensee
can open a new one. A paid invoice ends refunded (``licensing.revenue.refunds``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from config.refusals import Conflict
from licensing.access import grants
from licensing.access.grants import current_version, terms_for
from licensing.models import Invoice, LicenseGrant, Payment
from licensing.revenue import amounts, ledger
from marketplace.dates import short_date
from marketplace.models import Dataset, Membership, Notification, Organization, User
from marketplace.notifications.services import notify
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
        return payment_instructions(invoice).text()


PROVIDERS: dict[str, PaymentProvider] = {"manual": ManualInvoiceProvider()}


def provider(name: str | None = None) -> PaymentProvider:
    chosen = name or settings.PAYMENT_PROVIDER
    try:
        return PROVIDERS[chosen]
    except KeyError:
        raise ImproperlyConfigured(f"PAYMENT_PROVIDER={chosen!r} is unknown; use one of {sorted(PROVIDERS)}") from None


def format_amount(cents: int, currency: str) -> str:
    return amounts.amount(cents, currency)


@dataclass(frozen=True)
class PaymentInstructions:
    """How to pay an open invoice by transfer, as the instance configured it (settings
    ``PAYMENT_PAYEE_NAME``, ``PAYMENT_IBAN``, ``PAYMENT_BIC``, ``PAYMENT_BANK_DETAILS``,
    ``PAYMENT_REFERENCE``, ``PAYMENT_NOTE``): what the invoice page, the dataset page and the API
    show the licensee the moment they buy."""

    amount: str
    payee: str
    iban: str
    bic: str
    bank_details: str
    reference: str
    note: str
    organization: str

    @property
    def has_bank_details(self) -> bool:
        return bool(self.iban or self.bank_details)

    def text(self) -> str:
        """One paragraph, for the API and emails."""
        parts = [_("Transfer %(amount)s quoting the reference %(reference)s.") % {
            "amount": self.amount, "reference": self.reference,
        }]  # fmt: skip
        if self.payee:
            parts.append(_("Payee: %(payee)s.") % {"payee": self.payee})
        if self.iban:
            parts.append(_("IBAN: %(iban)s.") % {"iban": self.iban})
        if self.bic:
            parts.append(_("BIC: %(bic)s.") % {"bic": self.bic})
        if self.bank_details:
            parts.append(self.bank_details)
        if not self.has_bank_details:
            parts.append(
                _("This instance publishes no bank details: ask %(organization)s where to pay.")
                % {"organization": self.organization}
            )
        if self.note:
            parts.append(self.note)
        parts.append(
            _("An admin of %(organization)s marks the invoice paid when the money arrives; your download opens then.")
            % {"organization": self.organization}
        )
        return " ".join(parts)


def payment_reference(invoice: Invoice) -> str:
    """The reference a transfer quotes: ``PAYMENT_REFERENCE`` with ``{invoice}`` replaced by the
    invoice's id (the setting is checked at start-up to contain it)."""
    return str(settings.PAYMENT_REFERENCE).replace("{invoice}", invoice.id)


def payment_instructions(invoice: Invoice) -> PaymentInstructions:
    return PaymentInstructions(
        amount=amounts.amount(invoice.amount_cents, invoice.currency),
        payee=settings.PAYMENT_PAYEE_NAME,
        iban=settings.PAYMENT_IBAN,
        bic=settings.PAYMENT_BIC,
        bank_details=settings.PAYMENT_BANK_DETAILS,
        reference=payment_reference(invoice),
        note=settings.PAYMENT_NOTE,
        organization=invoice.dataset.organization.name,
    )


@dataclass(frozen=True)
class Price:
    """What buying costs, shown before the licensee clicks: the license, the fee, the total."""

    base_cents: int
    fee_cents: int
    currency: str

    @property
    def total_cents(self) -> int:
        return self.base_cents + self.fee_cents


def price_for(dataset: Dataset) -> Price:
    base, fee = price_of(dataset)
    return Price(base_cents=base, fee_cents=fee, currency=dataset.currency)


def price_of(dataset: Dataset) -> tuple[int, int]:
    """(base price, platform fee) in cents, the fee rounded half up as the catalog shows it."""
    if not dataset.is_paid or not dataset.base_price_cents:
        raise ValidationError(_("%(dataset)s is free: there is nothing to buy.") % {"dataset": dataset.name})
    fee = int((Decimal(dataset.base_price_cents) * Decimal(settings.PLATFORM_FEE_RATE)).quantize(
        Decimal(1), rounding=ROUND_HALF_UP
    ))  # fmt: skip
    return dataset.base_price_cents, fee


def has_paid(*, user: User, dataset: Dataset) -> bool:
    """Whether ``user`` holds a payment for ``dataset`` that was not refunded."""
    return Payment.objects.filter(invoice__user=user, invoice__dataset=dataset, refund__isnull=True).exists()


def expiry_for(opened_at: datetime) -> datetime:
    return opened_at + timedelta(days=settings.INVOICE_EXPIRY_DAYS)


def is_overdue(invoice: Invoice, now: datetime | None = None) -> bool:
    """An open invoice past its expiry: it can no longer be paid, whether or not beat has marked it."""
    return (
        invoice.status == Invoice.Status.OPEN
        and invoice.expires_at is not None
        and invoice.expires_at <= (now or timezone.now())
    )


def open_invoices() -> QuerySet[Invoice]:
    """Invoices that can still be paid: open, and not past their expiry."""
    return Invoice.objects.filter(status=Invoice.Status.OPEN, expires_at__gt=timezone.now())


def expire_overdue_invoices(*, now: datetime | None = None, **scope: object) -> int:
    """Mark open invoices past their expiry as expired (a conditional update: one that was paid
    meanwhile stays paid). ``scope`` narrows it (``user=``, ``dataset=``). Returns how many."""
    moment = now or timezone.now()
    return Invoice.objects.filter(status=Invoice.Status.OPEN, expires_at__lte=moment, **scope).update(
        status=Invoice.Status.EXPIRED, closed_at=moment
    )


def why_not_payable(invoice: Invoice) -> str:
    """What a person reads when an invoice cannot be paid (its state, when, and what to do)."""
    day = short_date(invoice.closed_at)
    if invoice.status == Invoice.Status.VOID:
        text = _("Invoice %(id)s was voided on %(day)s: it cannot be paid.") % {"id": invoice.id, "day": day}
    elif invoice.status == Invoice.Status.REFUNDED:
        text = _("Invoice %(id)s was paid and then refunded: it cannot be paid again.") % {"id": invoice.id}
    elif invoice.status == Invoice.Status.EXPIRED or is_overdue(invoice):
        expired = invoice.closed_at or invoice.expires_at
        text = _("Invoice %(id)s expired unpaid on %(day)s: it can no longer be paid.") % {
            "id": invoice.id,
            "day": short_date(expired),
        }
    else:
        text = _("Invoice %(id)s is %(status)s: it cannot be paid.") % {
            "id": invoice.id, "status": invoice.get_status_display().lower()
        }  # fmt: skip
    return text + " " + _("The licensee can open a new invoice on the dataset's page.")


def open_invoice(
    *, user: User, dataset: Dataset, user_agent: str = "", organization: Organization | None = None
) -> tuple[Invoice, bool]:
    """The caller's open (or already paid) invoice for ``dataset``, or a new one. Returns the
    invoice and whether it was created. An overdue open invoice is marked expired first, so that
    buying again after the expiry opens a fresh one at today's price and terms."""
    expire_overdue_invoices(user=user, dataset=dataset)
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
                expires_at=expiry_for(timezone.now()),
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
        raise Invoice.DoesNotExist(_("No invoice %(invoice_id)s.") % {"invoice_id": invoice_id})
    if recorded_by is not None and not can_mark_paid(recorded_by, invoice):
        raise PermissionDenied(
            _("Only admins of %(organization)s or staff mark invoices paid.")
            % {"organization": invoice.dataset.organization.name}
        )
    if invoice.status == Invoice.Status.PAID:
        ledger.post_payment(payment=invoice.payment)
        return invoice.payment
    if invoice.status != Invoice.Status.OPEN or is_overdue(invoice):
        raise Conflict(why_not_payable(invoice))
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
    notify(
        users=[invoice.user_id],
        kind=Notification.Kind.INVOICE_PAID,
        params={"dataset": invoice.dataset.name, "amount": format_amount(invoice.amount_cents, invoice.currency)},
        link=reverse("my-invoices"),
    )
    return payment


def invoices_for_organization(*, organization_id: str) -> QuerySet[Invoice]:
    return (
        Invoice.objects.filter(dataset__organization_id=organization_id)
        .select_related("dataset", "user")
        .order_by("status", "-created_at")
    )


def can_void(user: object, invoice: Invoice) -> bool:
    """The licensee who opened it, the selling organization's owners and admins, and staff."""
    return (
        isinstance(user, User)
        and user.is_authenticated
        and (user.id == invoice.user_id or can_mark_paid(user, invoice))
    )


@transaction.atomic
def void_invoice(*, invoice_id: str, voided_by: User, reason: str = "") -> Invoice:
    """Call an open invoice off: it can no longer be paid, and its licensee may open a new one.
    A conditional update from open, so a payment recorded at the same moment and a void cannot
    both win; voiding anything but an open invoice is refused with what it is instead."""
    invoice = Invoice.objects.select_for_update().select_related("dataset__organization").filter(id=invoice_id).first()
    if invoice is None:
        raise Invoice.DoesNotExist(_("No invoice %(id)s.") % {"id": invoice_id})
    if not can_void(voided_by, invoice):
        raise PermissionDenied(
            _("Only the licensee who opened it, admins of %(organization)s or staff void an invoice.")
            % {"organization": invoice.dataset.organization.name}
        )
    if invoice.status == Invoice.Status.PAID:
        raise Conflict(
            _("Invoice %(id)s is paid: a paid invoice is not voided. Staff refund it instead.") % {"id": invoice.id}
        )
    if invoice.status != Invoice.Status.OPEN or is_overdue(invoice):
        state = Invoice.Status.EXPIRED.label if is_overdue(invoice) else invoice.get_status_display()
        raise Conflict(
            _("Invoice %(id)s is %(state)s already: only an open invoice can be voided.")
            % {"id": invoice.id, "state": str(state).lower()}
        )
    now = timezone.now()
    changed = Invoice.objects.filter(id=invoice.id, status=Invoice.Status.OPEN).update(
        status=Invoice.Status.VOID, closed_at=now, closed_by=voided_by, closed_reason=reason.strip()[:2000]
    )
    if changed != 1:  # unreachable under the row lock
        raise Conflict(_("Invoice %(id)s changed meanwhile: reload the page.") % {"id": invoice.id})
    invoice.refresh_from_db()
    return invoice
