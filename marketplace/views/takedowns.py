"""Staff's takedown page (``/staff/takedowns/``): take a published dataset down, with a reason
and a confirmation, and see every dataset taken down with its reason. The takedown itself is
``marketplace.publishing.takedown_dataset`` (a conditional update and a transparency-log entry in
one transaction); this page parses and renders."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from marketplace.accounts.second_factor import second_factor_required
from marketplace.catalog.references import dataset_key
from marketplace.models import Dataset
from marketplace.permissions import signed_in_user
from marketplace.publishing import takedown_dataset

LISTED = 200


@login_required
@require_http_methods(["GET", "POST"])
@second_factor_required(staff_only=True)
def takedowns(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    if not user.is_staff:
        raise PermissionDenied(_("Only staff take datasets down."))
    reference = request.POST.get("dataset", "").strip() if request.method == "POST" else request.GET.get("dataset", "")
    reason = request.POST.get("reason", "").strip() if request.method == "POST" else ""
    errors: dict[str, str] = {}
    dataset: Dataset | None = None
    step = "form"
    if request.method == "POST":
        key = dataset_key(reference)
        dataset = (
            Dataset.objects.select_related("organization").filter(Q(id=key) | Q(slug=key)).first() if key else None
        )
        if dataset is None:
            errors["dataset"] = (
                _("No dataset '%(key)s': give its page's address, its slug or its id.") % {"key": key}
                if key
                else _("Say which dataset: its page's address, its slug or its id.")
            )
        elif dataset.status != Dataset.Status.PUBLISHED:
            errors["dataset"] = _("%(name)s is not published (it is %(status)s): there is nothing to take down.") % {
                "name": dataset.name,
                "status": dataset.get_status_display().lower(),
            }
        if not reason:
            errors["reason"] = _("Say why the dataset is taken down: its page shows the reason to everyone.")
        if not errors and dataset is not None:
            if request.POST.get("confirm") != "yes":
                step = "confirm"
            else:
                try:
                    takedown_dataset(dataset=dataset, reason=reason, by=user)
                except ValidationError as exc:
                    errors["dataset"] = " ".join(exc.messages)
                else:
                    messages.success(
                        request,
                        _("%(name)s is taken down: its page and downloads answer that it was, with the reason.")
                        % {"name": dataset.name},
                    )
                    return redirect("takedowns")
    removed = (
        Dataset.objects.filter(status=Dataset.Status.REMOVED)
        .select_related("organization")
        .order_by("-removed_at", "-id")[:LISTED]
    )
    return render(
        request,
        "catalog/takedowns.html",
        {"reference": reference, "reason": reason, "errors": errors, "dataset": dataset, "step": step,
         "removed": removed},
        status=400 if errors else 200,
    )  # fmt: skip
