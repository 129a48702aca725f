"""Organizations in the browser: create one, invite members by email, accept, leave, and
staff approval to upload."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from marketplace.accounts.second_factor import second_factor_required
from marketplace.confirming import Confirmation, confirmation_page, confirmed
from marketplace.models import Invitation, Membership, Organization
from marketplace.organizations.forms import InvitationForm, OrganizationForm
from marketplace.organizations.services import (
    accept_invitation,
    approve_organization,
    can_leave,
    create_organization,
    invite_member,
    leave_organization,
    remove_member,
    revoke_invitation,
)
from marketplace.permissions import can_manage_members, signed_in_user


def _form_errors(form: OrganizationForm | InvitationForm, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            for error in errors:
                form.add_error(field if field in form.fields else None, error)
    else:
        for error in exc.messages:
            form.add_error(None, error)


@login_required
@require_http_methods(["GET", "POST"])
def organization_create(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    form = OrganizationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            organization = create_organization(owner=user, **form.cleaned_data)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(
                request,
                _(
                    "%(organization)s is created and you own it. Staff approve organizations to upload; "
                    "until then you can invite members and prepare."
                )
                % {"organization": organization.name},
            )
            return redirect("organization-members", slug=organization.slug)
    return render(request, "organizations/create.html", {"form": form}, status=400 if form.errors else 200)


def _manageable(request: HttpRequest, slug: str) -> Organization:
    organization = get_object_or_404(Organization, slug=slug)
    if not can_manage_members(request.user, organization):
        raise PermissionDenied(_("Only owners and admins of the organization manage its members."))
    return organization


@login_required
@require_http_methods(["GET", "POST"])
def organization_members(request: HttpRequest, slug: str) -> HttpResponse:
    user = signed_in_user(request)
    organization = _manageable(request, slug)
    form = InvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitation = invite_member(
                organization=organization,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                invited_by=user,
                accept_url=lambda token: request.build_absolute_uri(reverse("invitation-accept", args=[token])),
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Invitation sent to %(email)s.") % {"email": invitation.email})
            return redirect("organization-members", slug=organization.slug)
    context = {
        "organization": organization,
        "memberships": organization.memberships.select_related("user").order_by("role", "user__username"),
        "invitations": organization.invitations.filter(accepted_at__isnull=True, revoked_at__isnull=True),
        "form": form,
        "my_role": Membership.objects.get(organization=organization, user=user).role,
    }
    return render(request, "organizations/members.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def invitation_revoke(request: HttpRequest, slug: str, invitation_id: int) -> HttpResponse:
    organization = _manageable(request, slug)
    invitation = get_object_or_404(Invitation, id=invitation_id, organization=organization)
    if not confirmed(request):
        return confirmation_page(
            request,
            Confirmation(
                question=_("Revoke the invitation to %(email)s?") % {"email": invitation.email},
                consequences=[
                    _("The link we emailed to %(email)s stops working: nobody can join %(organization)s with it.")
                    % {"email": invitation.email, "organization": organization.name},
                    _("This cannot be undone, but you can send a new invitation at any time."),
                ],
                confirm_label=_("Yes, revoke the invitation"),
                action_url=reverse("invitation-revoke", args=[organization.slug, invitation.id]),
                back_url=reverse("organization-members", args=[organization.slug]) + "#pending",
                back_label=_("Members of %(name)s") % {"name": organization.name},
            ),
        )
    revoke_invitation(invitation=invitation)
    messages.success(request, _("The invitation to %(email)s is revoked.") % {"email": invitation.email})
    return redirect("organization-members", slug=organization.slug)


@login_required
@require_POST
def member_remove(request: HttpRequest, slug: str, membership_id: int) -> HttpResponse:
    organization = _manageable(request, slug)
    target = organization.memberships.select_related("user").filter(id=membership_id).first()
    if target is not None and not confirmed(request):
        name = target.user.get_username()
        return confirmation_page(
            request,
            Confirmation(
                question=_("Remove %(user)s from %(organization)s?")
                % {"user": name, "organization": organization.name},
                consequences=[
                    _(
                        "%(user)s stops being a member of %(organization)s at once: its drafts, private datasets and "
                        "member pages close to them, and what they did stays recorded."
                    )
                    % {"user": name, "organization": organization.name},
                    _("This cannot be undone: to bring them back, invite them again."),
                ],
                confirm_label=_("Yes, remove %(user)s") % {"user": name},
                action_url=reverse("organization-member-remove", args=[organization.slug, membership_id]),
                back_url=reverse("organization-members", args=[organization.slug]),
                back_label=_("Members of %(name)s") % {"name": organization.name},
            ),
        )
    try:
        remove_member(organization=organization, membership_id=membership_id, by=signed_in_user(request))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The member is removed."))
    return redirect("organization-members", slug=organization.slug)


@login_required
@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    user = signed_in_user(request)
    if request.method == "POST":
        try:
            membership = accept_invitation(token=token, user=user)
        except ValidationError as exc:
            return render(request, "organizations/invitation.html", {"error": " ".join(exc.messages)}, status=400)
        messages.success(
            request,
            _("You joined %(organization)s as %(role)s.")
            % {"organization": membership.organization.name, "role": membership.get_role_display().lower()},
        )
        return redirect("organization-detail", slug=membership.organization.slug)
    return render(request, "organizations/invitation.html", {"token": token})


@login_required
@require_POST
def organization_leave(request: HttpRequest, slug: str) -> HttpResponse:
    organization = get_object_or_404(Organization, slug=slug)
    user = signed_in_user(request)
    if not confirmed(request) and can_leave(organization=organization, user=user):
        return confirmation_page(
            request,
            Confirmation(
                question=_("Leave %(organization)s?") % {"organization": organization.name},
                consequences=[
                    _(
                        "You stop being a member of %(organization)s at once: its drafts, private datasets and member "
                        "pages close to you, and what you did there stays recorded."
                    )
                    % {"organization": organization.name},
                    _(
                        "This cannot be undone: to come back, an owner or admin of %(organization)s must invite you "
                        "again."
                    )
                    % {"organization": organization.name},
                ],
                confirm_label=_("Yes, leave %(organization)s") % {"organization": organization.name},
                action_url=reverse("organization-leave", args=[organization.slug]),
                back_url=reverse("organization-detail", args=[organization.slug]),
                back_label=organization.name,
                cancel_label=_("No, stay"),
            ),
        )
    try:
        leave_organization(organization=organization, user=user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("organization-detail", slug=organization.slug)
    messages.success(request, _("You left %(organization)s.") % {"organization": organization.name})
    return redirect("account")


@login_required
@require_POST
@second_factor_required(staff_only=True)
def organization_approve(request: HttpRequest, slug: str) -> HttpResponse:
    if not signed_in_user(request).is_staff:
        raise PermissionDenied(_("Only staff approve organizations to upload."))
    organization = approve_organization(organization=get_object_or_404(Organization, slug=slug))
    messages.success(request, _("%(organization)s is approved to upload.") % {"organization": organization.name})
    return redirect("organization-detail", slug=organization.slug)
