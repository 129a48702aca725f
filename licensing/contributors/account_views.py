"""A person's own account pages: where to pay them, their data to take with them, and deleting
their account. Views parse and render; licensing.contributors.payouts and .portability decide."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from licensing.contributors import payouts, portability
from licensing.contributors.account_forms import DeleteAccountForm, PayoutDetailsForm
from marketplace.permissions import signed_in_user


@login_required
@require_http_methods(["GET", "POST"])
def payout_details(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    saved = payouts.payout_details_of(user)
    if request.method == "POST":
        form = PayoutDetailsForm(request.POST)
        if form.is_valid():
            try:
                payouts.set_payout_details(user=user, details=form.details())
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    for error in errors:
                        form.add_error(field if field in form.fields else None, error)
            else:
                messages.success(request, _("Your payout details are saved: staff use them for your next payout."))
                return redirect("payout-details")
    else:
        form = PayoutDetailsForm(initial=PayoutDetailsForm.initial_of(saved))
    return render(
        request,
        "licensing/payout_details.html",
        {"form": form, "saved": saved},
        status=400 if form.errors else 200,
    )


@login_required
@require_GET
def my_data(request: HttpRequest) -> HttpResponse:
    return render(request, "licensing/my_data.html", {"format": portability.EXPORT_FORMAT})


@login_required
@require_GET
def my_data_export(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    document = portability.export_for(user)
    response = HttpResponse(
        json.dumps(document, indent=2, ensure_ascii=False, cls=DjangoJSONEncoder),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="datacollective-{user.public_id}.json"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def delete_account(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    refusals = [reason.message for reason in portability.refusals_of(user)]
    form = DeleteAccountForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            portability.delete_account(user=user, password=form.cleaned_data["password"])
        except portability.DeletionRefused as exc:
            for reason in exc.reasons:
                if reason.refusal is portability.Refusal.UNCONFIRMED:
                    form.add_error("password", reason.message)
            refusals = [r.message for r in exc.reasons if r.refusal is not portability.Refusal.UNCONFIRMED]
        else:
            logout(request)
            messages.success(request, _("Your account is deleted and you are signed out. Thank you for contributing."))
            return redirect("home")
    return render(
        request,
        "licensing/delete_account.html",
        {"form": form, "refusals": refusals},
        status=400 if request.method == "POST" else 200,
    )
