"""Pages of access to datasets: the forms of the dataset page's "Access and download" panel
(accept the terms, request access, buy, download), the licensee's grants and receipts, and the
organization's access requests and download analytics.

Views parse and render; licensing.access.panel says what the panel offers (from
licensing.access.downloads.decide), so the page and the API never disagree about who may download.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from licensing.access import access_requests, downloads, grants
from licensing.access.forms import AccessRequestForm
from licensing.access.http_statuses import REFUSAL_STATUS
from licensing.access.panel import access_panel
from licensing.models import AccessRequest
from licensing.revenue import amounts, payments
from licensing.views_common import organization_for_page
from marketplace.accounts.second_factor import second_factor_required
from marketplace.accounts.verified_email import verified_email_required
from marketplace.catalog.dataset_page import render_dataset
from marketplace.models import Dataset, User
from marketplace.permissions import signed_in_user


def _dataset(slug: str) -> Dataset:
    dataset = get_object_or_404(
        Dataset.objects.select_related("organization", "license", "current_version__license"), slug=slug
    )
    if dataset.status != Dataset.Status.PUBLISHED:
        raise Http404("not published")
    return dataset


def _dataset_for_member(request: HttpRequest, slug: str) -> tuple[Dataset, User]:
    """The published dataset and the signed-in user; a private dataset is a 404 outside its organization.

    An error re-renders the whole datasheet: never a private one for someone outside its organization.
    """
    dataset = _dataset(slug)
    user = signed_in_user(request)
    if dataset.visibility == Dataset.Visibility.PRIVATE and not access_requests.is_member(user, dataset):
        raise Http404("private")
    return dataset, user


def _back(dataset: Dataset) -> HttpResponseRedirect:
    return redirect(reverse("dataset-detail", args=[dataset.slug]) + "#access")


def _rerender(request: HttpRequest, dataset: Dataset, **extra: Any) -> HttpResponse:
    return render_dataset(request, dataset, access=access_panel(request, dataset, **extra), status=400)


@login_required
@require_POST
@verified_email_required
def accept_terms(request: HttpRequest, slug: str) -> HttpResponse:
    """Accept the license and every restriction shown; the hidden hash is the terms the page showed."""
    dataset, user = _dataset_for_member(request, slug)
    version = grants.current_version(dataset)
    terms = grants.terms_for(dataset=dataset, version=version)
    errors = []
    if request.POST.get("accept_license") != "on":
        errors.append(
            _("Tick the box to accept the license (%(license)s).") % {"license": version.license.abbreviation}
        )
    for index, (label, _text) in enumerate(terms.restrictions):
        if request.POST.get(f"accept_restriction_{index}") != "on":
            errors.append(_("Tick the box to accept the %(label)s.") % {"label": _(label).lower()})
    if errors:
        return _rerender(request, dataset, accept_errors=errors)
    try:
        grant = grants.accept_terms(
            user=user,
            dataset=dataset,
            terms_sha256=request.POST.get("terms_sha256", ""),
            source="web",
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
            organization=grants.licensee_organization(user=user, slug=request.POST.get("organization") or None),
        )
    except grants.TermsChanged:
        return _rerender(request, dataset, accept_errors=[_("The terms changed while you read them: read them again.")])
    except ValidationError as exc:
        return _rerender(request, dataset, accept_errors=exc.messages)
    messages.success(
        request, _("You accepted the terms of %(name)s (grant %(id)s).") % {"name": dataset.name, "id": grant.id}
    )
    return _back(dataset)


@login_required
@require_POST
@verified_email_required
def request_access(request: HttpRequest, slug: str) -> HttpResponse:
    dataset, user = _dataset_for_member(request, slug)
    form = AccessRequestForm(request.POST)
    if not form.is_valid():
        return _rerender(request, dataset, request_form=form)
    try:
        item = access_requests.request_access(user=user, dataset=dataset, **form.cleaned_data)
    except ValidationError as exc:
        for name, errors in exc.message_dict.items() if hasattr(exc, "error_dict") else [(None, exc.messages)]:
            for error in errors:
                form.add_error(name if name in form.fields else None, error)
        return _rerender(request, dataset, request_form=form)
    if item.status == AccessRequest.Status.APPROVED:
        messages.success(request, _("Access to %(name)s is approved.") % {"name": dataset.name})
    else:
        messages.success(request, _("Your request was sent to %(name)s.") % {"name": dataset.organization.name})
    return _back(dataset)


@login_required
@require_POST
@verified_email_required
def buy(request: HttpRequest, slug: str) -> HttpResponse:
    dataset, user = _dataset_for_member(request, slug)
    try:
        invoice, _created = payments.open_invoice(
            user=user, dataset=dataset, user_agent=request.META.get("HTTP_USER_AGENT", "")
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _(
                "Invoice %(id)s is open for %(amount)s: pay it as shown below. The terms shown now are the ones "
                "the payment grants."
            )
            % {"id": invoice.id, "amount": amounts.amount(invoice.amount_cents, invoice.currency)},
        )
    return _back(dataset)


@login_required
@require_POST
def download(request: HttpRequest, slug: str) -> HttpResponse:
    """Record the download and send the browser to the presigned URL (the bytes come from storage)."""
    dataset = _dataset(slug)
    kind = "sample" if request.POST.get("kind") == "sample" else "archive"
    version = dataset.current_version
    if version is None:
        raise Http404("no version")
    try:
        issued = downloads.issue(
            user=request.user,
            api_key=None,
            dataset=dataset,
            version=version,
            kind=kind,
            page_url=reverse("dataset-detail", args=[dataset.slug]),
            ip_address=request.META.get("REMOTE_ADDR") or None,
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
        )
    except downloads.DownloadRefused as exc:
        if REFUSAL_STATUS[exc.refusal] == 404:
            raise Http404("private") from None
        messages.error(request, exc.verdict.message)
        return _back(dataset)
    return HttpResponseRedirect(issued.url)


# --- The licensee's grants -----------------------------------------------------------------------


@login_required
@require_GET
def grant_list(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    return render(request, "licensing/grants.html", {"grants": grants.grants_of(user=user)[:500]})


@login_required
@require_GET
def grant_receipt(request: HttpRequest, grant_id: int) -> HttpResponse:
    grant = grants.grants_of(user=signed_in_user(request)).filter(id=grant_id).first()
    if grant is None:
        raise Http404("not yours")
    response = HttpResponse(
        json.dumps(grants.receipt(grant), indent=2, ensure_ascii=False), content_type="application/json"
    )
    response["Content-Disposition"] = f'attachment; filename="license-receipt-{grant.id}.json"'
    return response


# --- The organization's side ---------------------------------------------------------------------


@login_required
@require_GET
def organization_access_requests(request: HttpRequest, slug: str) -> HttpResponse:
    organization = organization_for_page(request, slug, managers_only=True, staff=False)
    items = access_requests.requests_for_organization(organization_id=organization.id)
    return render(request, "licensing/access_requests.html", {"organization": organization, "requests": items})


@login_required
@require_POST
@second_factor_required
def access_decision(request: HttpRequest, slug: str, request_id: int, action: str) -> HttpResponse:
    organization = organization_for_page(request, slug, managers_only=True, staff=False)
    user = signed_in_user(request)
    item = get_object_or_404(AccessRequest, id=request_id, dataset__organization=organization)
    reason = request.POST.get("reason", "")
    if action in ("reject", "revoke") and request.POST.get("confirm") != "yes":
        # A refusal is said once and reaches the requester: it is confirmed on its own page first.
        context = {"organization": organization, "item": item, "action": action, "reason": reason}
        return render(request, "licensing/access_decision_confirm.html", context)
    try:
        if action == "approve":
            access_requests.approve(request_id=item.id, by=user)
        elif action == "reject":
            access_requests.reject(request_id=item.id, by=user, reason=reason)
        elif action == "revoke":
            access_requests.revoke(request_id=item.id, by=user, reason=reason)
        else:
            raise Http404(_("No such decision."))
    except ValidationError as exc:
        errors = {item.id: " ".join(exc.messages)}
        items = access_requests.requests_for_organization(organization_id=organization.id)
        context = {"organization": organization, "requests": items, "errors": errors}
        return render(request, "licensing/access_requests.html", context, status=400)
    done = {
        "approve": _("Access approved for %(user)s."),
        "reject": _("The request of %(user)s is rejected; they see your reason."),
        "revoke": _("Access revoked for %(user)s; they see your reason."),
    }[action]
    messages.success(request, done % {"user": item.user.get_username()})
    return redirect("organization-access-requests", slug=organization.slug)


CHART_WIDTH, CHART_HEIGHT = 600, 160


@login_required
@require_GET
def download_analytics(request: HttpRequest, slug: str) -> HttpResponse:
    organization = organization_for_page(request, slug, managers_only=False, staff=True)
    stats = downloads.analytics(organization_id=organization.id)
    step = CHART_WIDTH / len(stats.days)
    scale = (CHART_HEIGHT - 20) / stats.peak if stats.peak else 0
    bars = [
        {
            "x": round(i * step + 1, 1),
            "width": round(max(step - 2, 1), 1),
            "height": round(day.count * scale, 1),
            "y": round(CHART_HEIGHT - day.count * scale, 1),
            "day": day.day,
            "count": day.count,
        }
        for i, day in enumerate(stats.days)
    ]
    context = {
        "organization": organization,
        "stats": stats,
        "bars": bars,
        "chart_width": CHART_WIDTH,
        "chart_height": CHART_HEIGHT,
    }
    return render(request, "licensing/downloads.html", context)
