"""The pages of moving an organization between instances: staff import a bundle here, an owner
says where their organization moved, a licensee attaches the licenses that moved with it.
Views parse and render; ``provenance.imports``, ``marketplace.organizations.moves`` and
``provenance.grant_transfers`` decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from marketplace.accounts.second_factor import second_factor_required
from marketplace.models import MembershipRole, Organization, User
from marketplace.organizations import moves
from marketplace.permissions import role_in, signed_in_user
from provenance import grant_transfers, imports
from provenance.models import OrganizationImport


class ImportForm(forms.Form):
    bundle = forms.FileField(
        label=gettext_lazy("The organization's bundle"),
        help_text=gettext_lazy("The .tar.gz file the other instance's export gave its owner, with archives included."),
    )
    owner = forms.CharField(
        label=gettext_lazy("Owner here"), max_length=150,
        help_text=gettext_lazy("The user name, on this instance, of the person who will own the organization."),
    )  # fmt: skip
    slug = forms.SlugField(
        label=gettext_lazy("Address here"), required=False, max_length=80,
        help_text=gettext_lazy("Leave empty to keep the address it had, if it is free here."),
    )  # fmt: skip
    trust_bundle_keys = forms.BooleanField(
        label=gettext_lazy("The instance it comes from is gone: trust the keys in the bundle"), required=False,
        help_text=gettext_lazy("Only when that instance cannot be reached any more; the log records that its keys "
                               "were not confirmed."),
    )  # fmt: skip

    def clean_owner(self) -> User:
        name = self.cleaned_data["owner"].strip()
        user = User.objects.filter(username=name, is_active=True).first()
        if user is None:
            raise forms.ValidationError(_("There is no account '%(name)s' here.") % {"name": name})
        return user

    def clean_slug(self) -> str:
        slug: str = self.cleaned_data.get("slug") or ""
        if slug and Organization.objects.filter(slug=slug).exists():
            raise forms.ValidationError(_("The address '%(slug)s' is taken by another organization.") % {"slug": slug})
        return slug


@login_required
@require_http_methods(["GET", "POST"])
@second_factor_required(staff_only=True)
def organization_imports(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    if not user.is_staff:
        raise PermissionDenied(_("Only staff import organizations from other instances."))
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = imports.start(
                bundle=form.cleaned_data["bundle"], user=form.cleaned_data["owner"], slug=form.cleaned_data["slug"],
                trust_bundle_keys=form.cleaned_data["trust_bundle_keys"], requested_by=user,
            )  # fmt: skip
        except imports.ImportRefused as exc:
            form.add_error("bundle", str(exc))
        else:
            messages.success(request, _("Import %(id)s is queued: this page shows when it is done.") % {"id": job.id})
            return redirect("organization-imports")
    jobs = OrganizationImport.objects.select_related("organization", "created_by")[:50]
    context: dict[str, Any] = {"form": form, "jobs": jobs}
    return render(request, "provenance/imports.html", context, status=400 if form.errors else 200)


class MoveForm(forms.Form):
    new_home = forms.URLField(
        label=gettext_lazy("Its new home"), max_length=300, assume_scheme="https",
        help_text=gettext_lazy("The address of the instance that imported it, e.g. https://data.example.org."),
    )  # fmt: skip
    confirm = forms.BooleanField(
        label=gettext_lazy("Point every address of this organization here to its new home"),
        error_messages={"required": gettext_lazy("Tick the box to confirm: visitors are sent away from then on.")},
    )


@login_required
@require_http_methods(["GET", "POST"])
@second_factor_required
def organization_move(request: HttpRequest, slug: str) -> HttpResponse:
    organization = get_object_or_404(Organization, slug=slug)
    if role_in(signed_in_user(request), organization) != MembershipRole.OWNER:
        raise PermissionDenied(_("Only owners of %(name)s move it.") % {"name": organization.name})
    form = MoveForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        origin = request.build_absolute_uri("/").rstrip("/")
        try:
            moved = moves.announce(organization=organization, new_home=form.cleaned_data["new_home"], origin=origin)
        except moves.MoveRefused as exc:
            form.add_error("new_home", str(exc))
        else:
            told = grant_transfers.issue(
                organization=moved, new_home=moves.base_url(form.cleaned_data["new_home"]), origin=origin
            )
            messages.success(
                request,
                _(
                    "%(name)s now points to %(home)s. %(count)s licensees were emailed a link to keep "
                    "their licenses there."
                )
                % {"name": moved.name, "home": moved.moved_to, "count": told},
            )
            return redirect(moved.moved_to)
    context = {"organization": organization, "form": form}
    return render(request, "provenance/move.html", context, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def moved_grants(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    here = request.build_absolute_uri("/")
    token = request.GET.get("t", "")
    try:
        transfer = grant_transfers.read(token, here=here)
    except grant_transfers.TransferInvalid as exc:
        return render(request, "provenance/moved_grants.html", {"problem": str(exc)}, status=400)
    if request.method == "POST":
        attached = grant_transfers.attach(transfer, user=user)
        messages.success(
            request,
            _("%(count)s licenses are now yours here: %(names)s.")
            % {"count": len(attached), "names": ", ".join(sorted({g.dataset.name for g in attached})) or "-"},
        )
        return redirect("grant-list")
    return render(request, "provenance/moved_grants.html", {"transfer": transfer})
