"""The organization's page of consent withdrawals: what each re-release did, who of the licensees
told of a withdrawal acknowledged deleting the records and who did not, and whether re-releases
are published at once or held for a reviewer."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from licensing.consent.forms import WithdrawalReleasesForm
from licensing.models import ConsentWithdrawal
from licensing.views_common import organization_for_page
from marketplace.models import Organization


@login_required
@require_http_methods(["GET", "POST"])
def organization_withdrawals(request: HttpRequest, slug: str) -> HttpResponse:
    organization = organization_for_page(request, slug, managers_only=True, staff=False)
    form = WithdrawalReleasesForm(
        request.POST or None, initial={"withdrawal_releases": organization.withdrawal_releases}
    )
    if request.method == "POST" and form.is_valid():
        choice = form.cleaned_data["withdrawal_releases"]
        Organization.objects.filter(id=organization.id).update(withdrawal_releases=choice)
        messages.success(
            request, _("Saved: %(label)s.") % {"label": Organization.WithdrawalReleases(choice).label.lower()}
        )
        return redirect("organization-withdrawals", slug=organization.slug)
    withdrawals = (
        ConsentWithdrawal.objects.filter(dataset__organization=organization)
        .select_related("dataset", "version", "rerelease__version", "rerelease__source_version")
        .prefetch_related("notices__user")
        .order_by("-created_at", "-id")[:200]
    )
    rows = []
    for withdrawal in withdrawals:
        job = getattr(withdrawal, "rerelease", None)
        notices = sorted(withdrawal.notices.all(), key=lambda n: (n.acknowledged_at is not None, n.user.username))
        rows.append(
            {
                "withdrawal": withdrawal,
                "job": job,
                "notices": notices,
                "acknowledged": sum(1 for notice in notices if notice.acknowledged_at),
            }
        )
    context = {"organization": organization, "form": form, "rows": rows}
    return render(request, "licensing/withdrawals.html", context, status=400 if form.errors else 200)
