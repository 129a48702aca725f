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
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from licensing.contributors.payouts import details_for_accounts
from licensing.models import Invoice, LedgerAccount, PayoutBatch
from licensing.revenue import earnings, ledger, payments
from licensing.views_common import organization_for_page
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
        raise PermissionDenied("Only staff manage payouts.")
    return user


@login_required
@require_http_methods(["GET", "POST"])
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
                messages.success(request, f"Payout batch {batch.id} created; mark it paid when the bank confirms.")
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
            messages.success(request, f"Payout batch {batch.id} is marked paid.")
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
    items = payments.invoices_for_organization(organization_id=organization.id)
    return render(request, "licensing/invoices.html", {"organization": organization, "invoices": items})


@login_required
@require_POST
def invoice_paid(request: HttpRequest, slug: str, invoice_id: str) -> HttpResponse:
    organization = organization_for_page(request, slug, managers_only=True, staff=True)
    invoice = get_object_or_404(Invoice, id=invoice_id, dataset__organization=organization)
    try:
        payments.record_payment(
            invoice_id=invoice.id, recorded_by=signed_in_user(request), reference=request.POST.get("reference", "")
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Invoice {invoice.id} is paid; {invoice.user.get_username()} may download now.")
    return redirect("organization-invoices", slug=organization.slug)
