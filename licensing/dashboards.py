"""Pages that gather a person's or an organization's business in one place: a licensee's invoices
and access requests, and an organization's dashboard for its owners and admins (what waits for
them, and a link to every page they work on)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from licensing.models import AccessRequest, ConsentWithdrawal, ContributorClaim, DownloadRecord, Invoice
from licensing.views_common import organization_for_page
from marketplace.models import Dataset, Membership, Submission
from marketplace.permissions import signed_in_user

PAGE_SIZE = 200


@login_required
@require_GET
def my_invoices(request: HttpRequest) -> HttpResponse:
    """Every invoice of the signed-in licensee, newest first, with its state and amount."""
    user = signed_in_user(request)
    invoices = (
        Invoice.objects.filter(user=user)
        .select_related("dataset", "version", "organization")
        .order_by("-created_at", "-id")[:PAGE_SIZE]
    )
    return render(request, "licensing/my_invoices.html", {"invoices": invoices})


@login_required
@require_GET
def my_access_requests(request: HttpRequest) -> HttpResponse:
    """Every access request of the signed-in person: its state, the decision and its reason."""
    user = signed_in_user(request)
    requests = (
        AccessRequest.objects.filter(user=user).select_related("dataset").order_by("-created_at", "-id")[:PAGE_SIZE]
    )
    return render(request, "licensing/my_access_requests.html", {"access_requests": requests})


@login_required
@require_GET
def organization_dashboard(request: HttpRequest, slug: str) -> HttpResponse:
    """Everything an organization's owners and admins do, with what waits for them counted."""
    organization = organization_for_page(request, slug, managers_only=True, staff=True)
    datasets = Dataset.objects.filter(organization=organization).aggregate(
        total=Count("id"), published=Count("id", filter=Q(status=Dataset.Status.PUBLISHED))
    )
    counts = {
        "datasets": datasets["total"],
        "published": datasets["published"],
        "members": Membership.objects.filter(organization=organization).count(),
        "pending_requests": AccessRequest.objects.filter(
            dataset__organization=organization, status=AccessRequest.Status.PENDING
        ).count(),
        "in_review": Submission.objects.filter(organization=organization, status=Submission.Status.SUBMITTED).count(),
        "drafts": Submission.objects.filter(organization=organization, status=Submission.Status.DRAFT).count(),
        "open_invoices": Invoice.objects.filter(dataset__organization=organization, status=Invoice.Status.OPEN).count(),
        "withdrawals": ConsentWithdrawal.objects.filter(dataset__organization=organization).count(),
        "claims": ContributorClaim.objects.filter(organization=organization).count(),
        "downloads": DownloadRecord.objects.filter(dataset__organization=organization).count(),
    }
    recent = (
        Dataset.objects.filter(organization=organization)
        .select_related("current_version")
        .order_by("-updated_at", "-id")[:20]
    )
    membership = Membership.objects.filter(organization=organization, user=request.user.pk).only("role").first()
    context = {
        "organization": organization,
        "counts": counts,
        "datasets": recent,
        "is_owner": membership is not None and membership.role == Membership.Role.OWNER,
    }
    return render(request, "organizations/dashboard.html", context)
