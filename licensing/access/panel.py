"""The dataset page's "Access and download" panel: what it offers the visitor (sign in, accept the
terms, request access, buy, download), read from licensing.access.downloads.decide. A read: the
page renderer (marketplace.views.catalog) calls it, and it imports no views."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from licensing.access import access_requests, downloads, grants
from licensing.access.downloads import Refusal
from licensing.access.forms import AccessRequestForm
from licensing.models import AccessRequest, Invoice
from licensing.revenue import payments
from marketplace.models import Dataset, DatasetVersion
from marketplace.permissions import signed_in_user


@dataclass
class AccessPanel:
    """What the dataset page offers the visitor, in the order licensing.access.downloads.decide checks."""

    state: str
    message: str = ""
    terms: grants.Terms | None = None
    invoice: Invoice | None = None
    instructions: payments.PaymentInstructions | None = None
    price: payments.Price | None = None  # what buying costs, fee and total, shown before buying
    request: AccessRequest | None = None
    request_form: AccessRequestForm | None = None
    accept_errors: list[str] = field(default_factory=list)
    can_manage: bool = False
    # The free sample: "" (none published), "sign-in", "ready" (the page's form may fetch it), or
    # "refused" (taken down, withdrawn: the panel's message says why).
    sample: str = ""


def access_panel(request: HttpRequest, dataset: Dataset, **extra: Any) -> AccessPanel:
    version = dataset.current_version
    if version is None:
        return AccessPanel("no-version")
    page_url = reverse("dataset-detail", args=[dataset.slug])
    panel = _archive_panel(request, dataset, version, page_url, **extra)
    panel.sample = _sample_state(request, dataset, version, page_url)
    return panel


def _sample_state(request: HttpRequest, dataset: Dataset, version: DatasetVersion, page_url: str) -> str:
    """Samples need no grant (downloads.decide): whoever is signed in and sees the dataset may
    fetch one, through the page's download form with ``kind=sample``."""
    if not version.sample_key:
        return ""
    verdict = downloads.decide(user=request.user, dataset=dataset, version=version, kind="sample", page_url=page_url)
    if verdict.allowed:
        return "ready"
    return "sign-in" if verdict.refusal is Refusal.SIGN_IN else "refused"


def _archive_panel(
    request: HttpRequest, dataset: Dataset, version: DatasetVersion, page_url: str, **extra: Any
) -> AccessPanel:
    verdict = downloads.decide(user=request.user, dataset=dataset, version=version, kind="archive", page_url=page_url)
    can_manage = access_requests.can_manage_dataset(request.user, dataset)
    if verdict.refusal is Refusal.SIGN_IN:
        return AccessPanel("anonymous", terms=grants.terms_for(dataset=dataset, version=version))
    user = signed_in_user(request)
    if verdict.refusal in (Refusal.TAKEN_DOWN, Refusal.WITHDRAWN):
        return AccessPanel("withdrawn", verdict.message, can_manage=can_manage)
    if verdict.allowed:
        return AccessPanel("ready", basis_text(verdict.basis), can_manage=can_manage)
    if verdict.refusal in (Refusal.PAYMENT_DUE, Refusal.REFUNDED):
        invoice = (
            payments.open_invoices().filter(user=user, dataset=dataset).select_related("dataset__organization").first()
        )
        return AccessPanel(
            "invoice-open" if invoice else "buy",
            verdict.why if verdict.refusal is Refusal.REFUNDED else "",
            invoice=invoice,
            instructions=payments.payment_instructions(invoice) if invoice else None,
            price=None if invoice else payments.price_for(dataset),
            terms=grants.terms_for(dataset=dataset, version=version),
            can_manage=can_manage,
        )
    if verdict.refusal is Refusal.ACCESS_NOT_APPROVED:
        latest = access_requests.latest_request(user=user, dataset=dataset)
        state = latest.status if latest and latest.status != AccessRequest.Status.APPROVED else "request"
        form = extra.get("request_form") or AccessRequestForm(initial={"full_name": user.get_full_name()})
        return AccessPanel(state, request=latest, request_form=form, can_manage=can_manage)
    return AccessPanel(
        "accept",
        verdict.why,
        terms=grants.terms_for(dataset=dataset, version=version),
        accept_errors=extra.get("accept_errors", []),
        can_manage=can_manage,
    )


def basis_text(basis: str) -> str:
    return {
        "member": _("You are a member of the organization that publishes this dataset."),
        "grant": _("You accepted the current terms."),
    }.get(basis, "")
