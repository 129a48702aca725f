"""The contributor's pages: opening a claim link, "My contributions", withdrawing, and the
organization's page of contributor ids and claim links."""

from __future__ import annotations

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Min
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from licensing.contributors import claims, contributions, withdrawing
from licensing.contributors.forms import BulkClaimLinksForm, ClaimLinkForm, WithdrawForm
from licensing.models import ConsentRecord, ContributorClaim, PayoutDetails
from licensing.revenue import earnings
from licensing.views_common import organization_for_page
from marketplace.models import Dataset, Organization, RevenueShare
from marketplace.permissions import signed_in_user


@require_http_methods(["GET", "POST"])
def claim(request: HttpRequest, token: str) -> HttpResponse:
    """A claim link: what it binds, and the button that binds it to the signed-in account."""
    found = claims.claim_for_token(token)
    user = request.user if request.user.is_authenticated else None
    problem = claims.why_unusable(found, signed_in_user(request) if user else None)
    if problem or found is None:
        return render(request, "contributors/claim.html", {"problem": problem}, status=410 if found else 404)
    if found.claimed_at is not None:
        return redirect("my-contributions")
    if request.method == "POST" and user is not None:
        try:
            claims.accept_claim(token=token, user=signed_in_user(request))
        except ValidationError as exc:
            return render(request, "contributors/claim.html", {"problem": " ".join(exc.messages)}, status=409)
        messages.success(
            request, _("Claimed. These are your contributions to %(name)s.") % {"name": found.organization.name}
        )
        return redirect("my-contributions")
    return render(request, "contributors/claim.html", {"claim": found, "next": request.get_full_path()})


@login_required
@require_GET
def my_contributions(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    items = contributions.contributions_of(user)
    context = {
        "items": items,
        "claims": list(claims.held_by(user)),
        "earnings": earnings.earnings_for(earnings.accounts_of(user)),
        "payout_details": PayoutDetails.objects.filter(user=user).first(),
    }
    return render(request, "contributors/contributions.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def withdraw(request: HttpRequest, dataset_id: str | None = None) -> HttpResponse:
    """Confirm, then withdraw from one dataset (``dataset_id``) or from every one."""
    user = signed_in_user(request)
    dataset = get_object_or_404(Dataset, id=dataset_id) if dataset_id else None
    held = withdrawing.holdings(user, dataset_id=dataset_id)
    form = WithdrawForm(request.POST or None)
    problem = ""
    if request.method == "POST" and form.is_valid():
        try:
            made = withdrawing.withdraw_myself(user=user, dataset_id=dataset_id, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            problem = " ".join(exc.messages)
        else:
            names = sorted({w.dataset.name for w in made})
            messages.success(
                request,
                _(
                    "Your consent is withdrawn from %(names)s. A new version without your records is being made; "
                    "follow it below."
                )
                % {"names": ", ".join(names)},
            )
            return redirect("my-contributions")
    context = {"dataset": dataset, "held": held, "form": form, "problem": problem}
    status = 400 if form.errors or problem else 200
    return render(request, "contributors/withdraw.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def organization_contributors(request: HttpRequest, slug: str) -> HttpResponse:
    """Owners and admins: the contributor ids and payees of the organization, whether each is
    claimed, and a form that makes (and optionally emails) a claim link."""
    organization = organization_for_page(request, slug, managers_only=True, staff=False)
    bulk = BulkClaimLinksForm(request.POST if "lines" in request.POST else None)
    form = ClaimLinkForm(request.POST if request.method == "POST" and "lines" not in request.POST else None)
    link = ""
    if bulk.is_bound and bulk.is_valid():
        try:
            made = claims.issue_claims(
                organization=organization,
                by=signed_in_user(request),
                rows=claims.parse_bulk(bulk.cleaned_data["lines"]),
                claim_url=lambda token: request.build_absolute_uri(reverse("claim", args=[token])),
            )
        except ValidationError as exc:
            bulk.add_error("lines", " ".join(exc.messages))
        else:
            return _links_csv(organization, made)
    if form.is_bound and form.is_valid():
        try:
            _claim, link = claims.issue_claim(
                organization=organization,
                by=signed_in_user(request),
                contributor_id=form.cleaned_data["contributor_id"],
                payee_email=form.cleaned_data["payee_email"] or "",
                send_to=form.cleaned_data["send_to"] or "",
                claim_url=lambda token: request.build_absolute_uri(reverse("claim", args=[token])),
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        else:
            sent = form.cleaned_data["send_to"]
            if sent:
                messages.success(request, _("Claim link emailed to %(email)s.") % {"email": sent})
            else:
                messages.success(request, _("Claim link made: copy it below."))
            form = ClaimLinkForm()
    contributor_ids = (
        ConsentRecord.objects.filter(terms__submission__organization=organization)
        .values("contributor_id")
        .annotate(datasets=Count("terms__submission__dataset", distinct=True), first=Min("given_at"))
        .order_by("contributor_id")[:1000]
    )
    payees = (
        RevenueShare.objects.filter(submission__organization=organization)
        .exclude(payee_email="")
        .values("payee_email")
        .distinct()
        .order_by("payee_email")[:1000]
    )
    links = claims.claims_of(organization)[:500]
    held = {c.contributor_id: c for c in links if c.claimed_at and c.contributor_id}
    held_payees = {c.payee_email: c for c in links if c.claimed_at and c.payee_email}
    context = {
        "organization": organization,
        "form": form,
        "link": link,
        "contributor_ids": [dict(row, claim=held.get(row["contributor_id"])) for row in contributor_ids],
        "payees": [dict(row, claim=held_payees.get(row["payee_email"].lower())) for row in payees],
        "links": links,
        "bulk": bulk,
    }
    status = 400 if form.errors or bulk.errors else 200
    return render(request, "contributors/organization.html", context, status=status)


def _links_csv(organization: Organization, made: list[tuple[ContributorClaim, str]]) -> HttpResponse:
    """The links just made, as a CSV file (they are shown only this once)."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="claim-links-{organization.slug}.csv"'
    writer = csv.writer(response)
    writer.writerow(["contributor_id", "emailed_to", "link", "expires_at"])
    for claim, link in made:
        writer.writerow([claim.contributor_id, claim.sent_to, link, claim.expires_at.isoformat()])
    return response
