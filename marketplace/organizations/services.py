"""Organizations: creating one, its members and invitations, and staff approval to upload."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from marketplace.models import Invitation, Membership, Organization, User


@transaction.atomic
def create_organization(*, name: str, slug: str, owner: User, description: str = "", website: str = "") -> Organization:
    """A new organization, not approved to upload until staff approve it; its creator owns it."""
    if Organization.objects.filter(slug=slug).exists():
        raise ValidationError({"slug": f"The address '{slug}' is taken by another organization."})
    organization = Organization(name=name.strip(), slug=slug, description=description, website=website)
    organization.full_clean()
    organization.save()
    Membership.objects.create(organization=organization, user=owner, role=Membership.Role.OWNER)
    return organization


INVITATION_LIFETIME = timedelta(days=14)


def invitation_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@transaction.atomic
def invite_member(
    *, organization: Organization, email: str, role: str, invited_by: User, accept_url: Callable[[str], str]
) -> Invitation:
    """Invite someone by email. ``accept_url(token)`` builds the link the email carries."""
    email = email.strip()
    if role not in Membership.Role.values:
        raise ValidationError({"role": f"Unknown role {role!r}; use {', '.join(Membership.Role.values)}."})
    if (
        role == Membership.Role.OWNER
        and not organization.memberships.filter(user=invited_by, role=Membership.Role.OWNER).exists()
    ):
        raise ValidationError({"role": "Only an owner can invite another owner."})
    if organization.memberships.filter(user__email__iexact=email).exists():
        raise ValidationError({"email": f"{email} is already a member of {organization.name}."})
    now = timezone.now()
    open_ones = Invitation.objects.filter(
        organization=organization, email__iexact=email, accepted_at__isnull=True, revoked_at__isnull=True
    )
    open_ones.filter(expires_at__lte=now).update(revoked_at=now)  # an expired one makes way for a new one
    if open_ones.filter(expires_at__gt=now).exists():
        raise ValidationError({"email": f"{email} has an open invitation already; revoke it to send another."})
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        organization=organization,
        email=email,
        role=role,
        token_hash=invitation_token_hash(token),
        invited_by=invited_by,
        expires_at=now + INVITATION_LIFETIME,
    )
    link = accept_url(token)
    subject = f"{invited_by.get_username()} invites you to {organization.name} on {settings.SITE_NAME}"
    body = (
        f"{invited_by.get_username()} invited you to join {organization.name} as {invitation.get_role_display()}.\n\n"
        f"Accept within 14 days: {link}\n\nLog in (or sign up) with this email address, {email}, to accept."
    )
    transaction.on_commit(lambda: send_mail(subject, body, None, [email]))
    return invitation


def revoke_invitation(*, invitation: Invitation) -> None:
    Invitation.objects.filter(id=invitation.id, accepted_at__isnull=True, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


@transaction.atomic
def accept_invitation(*, token: str, user: User) -> Membership:
    """Join the organization. The invitation must be open and addressed to the user's email."""
    try:
        invitation = (
            Invitation.objects.select_for_update()
            .select_related("organization")
            .get(token_hash=invitation_token_hash(token))
        )
    except Invitation.DoesNotExist:
        raise ValidationError("This invitation link is not valid. Ask for a new invitation.") from None
    state = invitation.state
    if state != "open":
        raise ValidationError(f"This invitation was {state}. Ask {invitation.organization.name} for a new one.")
    if invitation.email.lower() != (user.email or "").lower():
        you = user.email or "a user without email"
        raise ValidationError(f"This invitation is for {invitation.email}, but you are logged in as {you}.")
    membership = Membership.objects.filter(organization=invitation.organization, user=user).first()
    if membership is None:
        membership = Membership.objects.create(organization=invitation.organization, user=user, role=invitation.role)
    Invitation.objects.filter(id=invitation.id).update(accepted_at=timezone.now(), accepted_by=user)
    return membership


@transaction.atomic
def leave_organization(*, organization: Organization, user: User) -> None:
    memberships = Membership.objects.select_for_update().filter(organization=organization)
    mine = memberships.filter(user=user).first()
    if mine is None:
        raise ValidationError(f"You are not a member of {organization.name}.")
    if mine.role == Membership.Role.OWNER and memberships.filter(role=Membership.Role.OWNER).count() == 1:
        raise ValidationError(
            f"You are the last owner of {organization.name}: make another member an owner before you leave."
        )
    mine.delete()


def can_leave(*, organization: Organization, user: User) -> bool:
    """What ``leave_organization`` allows, read without locking: the page asks for a confirmation only
    when leaving can happen, and lets the service refuse (and say why) otherwise."""
    memberships = Membership.objects.filter(organization=organization)
    mine = memberships.filter(user=user).first()
    if mine is None:
        return False
    return mine.role != Membership.Role.OWNER or memberships.filter(role=Membership.Role.OWNER).count() > 1


@transaction.atomic
def remove_member(*, organization: Organization, membership_id: int, by: User) -> None:
    memberships = Membership.objects.select_for_update().filter(organization=organization)
    target = memberships.filter(id=membership_id).select_related("user").first()
    if target is None:
        raise ValidationError("No such member.")
    if target.role == Membership.Role.OWNER and not memberships.filter(user=by, role=Membership.Role.OWNER).exists():
        raise ValidationError("Only an owner can remove an owner.")
    if target.role == Membership.Role.OWNER and memberships.filter(role=Membership.Role.OWNER).count() == 1:
        raise ValidationError("The last owner cannot be removed.")
    target.delete()


def add_member(*, organization: Organization, user: User, role: str) -> Membership:
    membership, _ = Membership.objects.update_or_create(organization=organization, user=user, defaults={"role": role})
    return membership


def approve_organization(*, organization: Organization) -> Organization:
    Organization.objects.filter(id=organization.id, approved_to_upload=False).update(
        approved_to_upload=True, approved_at=timezone.now()
    )
    organization.refresh_from_db()
    return organization
