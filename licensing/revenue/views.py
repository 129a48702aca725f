"""Pages of money: an organization's invoices (marked paid there), and of the revenue-share ledger:
a contributor's earnings (chart, table, payouts) and CSV statement, an organization's revenue per
dataset, and the staff's payout batches.

Views parse and render; licensing.revenue.earnings reads and licensing.revenue.ledger writes. The earnings page
is complete without JavaScript (a table of the same figures the chart draws)."""

from __future__ import annotations

import csv
import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from config.refusals import Conflict
from licensing.contributors.payouts import details_for_accounts
from licensing.models import Invoice, LedgerAccount, PayoutBatch
from licensing.revenue import amounts, earnings, ledger, payments, refunds
from licensing.views_common import organization_for_page
from marketplace.accounts.second_factor import ask_for_second_factor, second_factor_required
from marketplace.models import User
from marketplace.permissions import signed_in_user


@login_required
@require_GET
def my_earnings(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    figures = earnings.earnings_for(earnings.accounts_of(user))
    return render(
        request,
        "licensing/earnings.html",
        {"earnings": figures, "chart": figures.chart(), "periods": list(reversed(figures.periods))},
    )


@login_required
@require_GET
def my_statement(request: HttpRequest) -> HttpResponse:
    """The CSV statement of the signed-in user's accounts: every movement with its running
    balance, for one month (``?period=YYYY-MM``) or everything."""
    user = signed_in_user(request)
    raw = request.GET.get("period", "")
    period = earnings.parse_period(raw) if raw else None
    if raw and period is None:
        return HttpResponseBadRequest(
            f"period must be a month as YYYY-MM, not {raw[:20]!r}.", content_type="text/plain"
        )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["date", "transaction", "kind", "account", "dataset", "memo", "currency", "amount", "balance"])
    for line in earnings.statement(earnings.accounts_of(user), period=period):
        writer.writerow(
            [line.at.isoformat(), line.transaction, line.kind, line.account, line.dataset, _csv_safe(line.memo),
             line.currency.upper(), ledger.money(line.amount), ledger.money(line.balance)]
        )  # fmt: skip
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    name = f"earnings-{user.get_username()}-{raw or 'all'}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _csv_safe(text: str) -> str:
    """A cell a spreadsheet will not run as a formula (OWASP CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@login_required
@require_GET
def organization_revenue(request: HttpRequest, slug: str) -> HttpResponse:
    organization = organization_for_page(request, slug, managers_only=True, staff=True)
    rows = earnings.revenue_of(organization)
    return render(request, "licensing/earnings_organization.html", {"organization": organization, "rows": rows})


def _staff(request: HttpRequest) -> User:
    user = signed_in_user(request)
    if not user.is_staff:
        raise PermissionDenied(_("Only staff manage payouts."))
    return user


@login_required
@require_http_methods(["GET", "POST"])
@second_factor_required(staff_only=True)
def payouts(request: HttpRequest) -> HttpResponse:
    """Every balance we owe, with an amount to pay each (blank skips it); one batch per submit."""
    user = _staff(request)
    balances = earnings.payable_balances()
    entered: dict[str, str] = {}
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        currency = request.POST.get("currency", "usd")
        amounts: dict[int, int] = {}
        for item in balances:
            if item.currency != currency:
                continue
            name = f"amount-{item.account.id}"
            raw = entered[name] = request.POST.get(name, "").strip()
            if not raw:
                continue
            cents = _cents(raw)
            if cents is None:
                errors[str(item.account.id)] = ["Enter an amount such as 12.50."]
            else:
                amounts[item.account.id] = cents
        if not amounts and not errors:
            errors["amounts"] = ["Enter an amount for at least one payee."]
        if not errors:
            try:
                batch = ledger.create_payout_batch(amounts=amounts, currency=currency, created_by=user)
            except ledger.LedgerError as exc:
                errors = exc.message_dict
            else:
                messages.success(
                    request,
                    _("Payout batch %(batch)s created; mark it paid when the bank confirms.") % {"batch": batch.id},
                )
                return redirect("payout-batch", batch_id=batch.id)
    details = details_for_accounts(b.account for b in balances)
    return render(
        request,
        "licensing/earnings_payouts.html",
        {
            "rows": [
                {
                    "item": b,
                    "value": entered.get(f"amount-{b.account.id}", ""),
                    "errors": errors.get(str(b.account.id)),
                    "details": details.get(b.account.id),
                }
                for b in balances
            ],
            "errors": errors,
            "batches": earnings.batches()[:50],
        },
        status=400 if errors else 200,
    )


def _cents(raw: str) -> int | None:
    """``12``, ``12.5`` or ``12.50`` (currency units, as people type them) -> 1250."""
    whole, _, fraction = raw.replace(",", "").partition(".")
    if not whole.isdigit() or (fraction and (not fraction.isdigit() or len(fraction) > 2)):
        return None
    return int(whole) * 100 + int(fraction.ljust(2, "0") or 0)


@login_required
@require_http_methods(["GET", "POST"])
@second_factor_required(staff_only=True)
def payout_batch(request: HttpRequest, batch_id: int) -> HttpResponse:
    user = _staff(request)
    batch = get_object_or_404(PayoutBatch.objects.select_related("created_by", "paid_by"), id=batch_id)
    error = ""
    if request.method == "POST":
        try:
            ledger.mark_payout_batch_paid(batch_id=batch.id, reference=request.POST.get("reference", ""), paid_by=user)
        except ledger.LedgerError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(request, _("Payout batch %(batch)s is marked paid.") % {"batch": batch.id})
            return redirect("payout-batch", batch_id=batch.id)
    lines = list(
        batch.transactions.filter(kind="payout")
        .get()
        .entries.filter(account__kind=LedgerAccount.Kind.PAYABLE)
        .select_related("account")
    )
    details = details_for_accounts(line.account for line in lines)
    return render(
        request,
        "licensing/earnings_payout_batch.html",
        {
            "batch": batch,
            "lines": [{"line": line, "details": details.get(line.account_id)} for line in lines],
            "total": ledger.batch_total(batch),
            "error": error,
        },
        status=400 if error else 200,
    )


@login_required
@require_GET
def invoices(request: HttpRequest, slug: str) -> HttpResponse:
    organization = organization_for_page(request, slug, managers_only=True, staff=True)
    payments.expire_overdue_invoices(dataset__organization=organization)
    items = payments.invoices_for_organization(organization_id=organization.id)
    return render(request, "licensing/invoices.html", {"organization": organization, "invoices": items})


@login_required
@require_POST
@second_factor_required
def invoice_paid(request: HttpRequest, slug: str, invoice_id: str) -> HttpResponse:
    organization = organization_for_page(request, slug, managers_only=True, staff=True)
    invoice = get_object_or_404(Invoice, id=invoice_id, dataset__organization=organization)
    try:
        payments.record_payment(
            invoice_id=invoice.id, recorded_by=signed_in_user(request), reference=request.POST.get("reference", "")
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except Conflict as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("Invoice %(id)s is paid (%(amount)s); %(user)s may download now.")
            % {
                "id": invoice.id,
                "amount": amounts.amount(invoice.amount_cents, invoice.currency),
                "user": invoice.user.get_username(),
            },
        )
    return redirect("organization-invoices", slug=organization.slug)


# --- The ways back: voiding an invoice, refunding a payment, cancelling a payout batch ----------------
# Each destructive action takes two steps: a form that says what will happen (and asks why), then
# a confirmation that repeats it with the exact figures; only the second POST (``confirm=yes``) acts.


def _next_or(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=False):
        return target
    return fallback


@login_required
@require_http_methods(["GET", "POST"])
def invoice_void(request: HttpRequest, invoice_id: str) -> HttpResponse:
    """The licensee who opened it, the selling organization's owners and admins, or staff void
    an open invoice; the page asks for a confirmation (and, optionally, why)."""
    user = signed_in_user(request)
    invoice = Invoice.objects.select_related("dataset__organization", "user").filter(id=invoice_id).first()
    if invoice is None or not payments.can_void(user, invoice):
        raise Http404(_("No invoice %(id)s.") % {"id": invoice_id})
    own = invoice.user_id == user.id
    fallback = (
        reverse("dataset-detail", args=[invoice.dataset.slug]) + "#access"
        if own
        else reverse("organization-invoices", args=[invoice.dataset.organization.slug])
    )
    error = ""
    if request.method == "POST" and not own and (asked := ask_for_second_factor(request)):
        return asked
    if request.method == "POST":
        try:
            payments.void_invoice(invoice_id=invoice.id, voided_by=user, reason=request.POST.get("reason", ""))
        except Conflict as exc:
            error = str(exc)
        else:
            messages.success(
                request,
                _("Invoice %(id)s is voided: it can no longer be paid. A new purchase opens a new invoice.")
                % {"id": invoice.id},
            )
            return redirect(_next_or(request, fallback))
    return render(
        request,
        "licensing/invoice_void.html",
        {"invoice": invoice, "own": own, "error": error, "next": _next_or(request, fallback),
         "payable": invoice.status == Invoice.Status.OPEN and not payments.is_overdue(invoice)},
        status=409 if error else 200,
    )  # fmt: skip


@login_required
@require_http_methods(["GET", "POST"])
@second_factor_required(staff_only=True)
def invoice_refund(request: HttpRequest, invoice_id: str) -> HttpResponse:
    """Staff refund a paid invoice: a reason, then a confirmation naming the amount, the grant it
    revokes and every ledger line it reverses."""
    user = signed_in_user(request)
    if not user.is_staff:
        raise PermissionDenied(_("Only staff refund payments."))
    invoice = get_object_or_404(Invoice.objects.select_related("dataset__organization", "user"), id=invoice_id)
    reason = request.POST.get("reason", "").strip() if request.method == "POST" else ""
    step, errors = "reason", {}
    if request.method == "POST":
        if not reason:
            errors["reason"] = _("Say why the payment is refunded: the licensee reads it.")
        elif request.POST.get("confirm") != "yes":
            step = "confirm"
        else:
            try:
                refunds.refund_payment(invoice_id=invoice.id, refunded_by=user, reason=reason)
            except (Conflict, ValidationError) as exc:
                errors["refund"] = str(exc) if isinstance(exc, Conflict) else " ".join(exc.messages)
            else:
                messages.success(
                    request,
                    _("Invoice %(id)s is refunded and %(user)s's license is revoked; they were emailed.")
                    % {"id": invoice.id, "user": invoice.user.get_username()},
                )
                return redirect("organization-invoices", slug=invoice.dataset.organization.slug)
    return render(
        request,
        "licensing/invoice_refund.html",
        {"invoice": invoice, "reason": reason, "step": step, "errors": errors,
         "preview": refunds.preview(invoice) if invoice.status == Invoice.Status.PAID else None},
        status=(409 if "refund" in errors else 400) if errors else 200,
    )  # fmt: skip


@login_required
@require_http_methods(["GET", "POST"])
@second_factor_required(staff_only=True)
def payout_batch_cancel(request: HttpRequest, batch_id: int) -> HttpResponse:
    """Staff cancel a pending payout batch: a reason, then a confirmation listing what each payee
    is owed again."""
    _staff(request)
    user = signed_in_user(request)
    batch = get_object_or_404(PayoutBatch.objects.select_related("created_by"), id=batch_id)
    reason = request.POST.get("reason", "").strip() if request.method == "POST" else ""
    step, errors = "reason", {}
    if request.method == "POST":
        if not reason:
            errors["reason"] = _("Say why the batch is cancelled: the payees' statements show it.")
        elif request.POST.get("confirm") != "yes":
            step = "confirm"
        else:
            try:
                ledger.cancel_payout_batch(batch_id=batch.id, reason=reason, cancelled_by=user)
            except (Conflict, ledger.LedgerError) as exc:
                errors["cancel"] = str(exc) if isinstance(exc, Conflict) else " ".join(exc.messages)
            else:
                messages.success(
                    request,
                    _("Payout batch %(id)s is cancelled: its amounts are owed to the payees again.") % {"id": batch.id},
                )
                return redirect("payout-batch", batch_id=batch.id)
    lines = list(
        batch.transactions.get(kind="payout")
        .entries.filter(account__kind=LedgerAccount.Kind.PAYABLE)
        .select_related("account")
    )
    return render(
        request,
        "licensing/payout_cancel.html",
        {"batch": batch, "lines": lines, "total": ledger.batch_total(batch), "reason": reason, "step": step,
         "errors": errors},
        status=(409 if "cancel" in errors else 400) if errors else 200,
    )  # fmt: skip
