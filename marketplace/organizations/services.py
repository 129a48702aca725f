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
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from marketplace.models import Invitation, Membership, Organization, User
from marketplace.notifications.messages import language_of


@transaction.atomic
def create_organization(*, name: str, slug: str, owner: User, description: str = "", website: str = "") -> Organization:
    """A new organization, not approved to upload until staff approve it; its creator owns it."""
    if Organization.objects.filter(slug=slug).exists():
        raise ValidationError({"slug": _("The address '%(slug)s' is taken by another organization.") % {"slug": slug}})
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
        raise ValidationError(
            {
                "role": _("Unknown role '%(role)s'; use %(roles)s.")
                % {"role": role, "roles": ", ".join(Membership.Role.values)}
            }
        )
    if (
        role == Membership.Role.OWNER
        and not organization.memberships.filter(user=invited_by, role=Membership.Role.OWNER).exists()
    ):
        raise ValidationError({"role": _("Only an owner can invite another owner.")})
    if organization.memberships.filter(user__email__iexact=email).exists():
        raise ValidationError(
            {
                "email": _("%(email)s is already a member of %(organization)s.")
                % {"email": email, "organization": organization.name}
            }
        )
    now = timezone.now()
    open_ones = Invitation.objects.filter(
        organization=organization, email__iexact=email, accepted_at__isnull=True, revoked_at__isnull=True
    )
    open_ones.filter(expires_at__lte=now).update(revoked_at=now)  # an expired one makes way for a new one
    if open_ones.filter(expires_at__gt=now).exists():
        raise ValidationError(
            {"email": _("%(email)s has an open invitation already; revoke it to send another.") % {"email": email}}
        )
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
    # In the invitee's language when they have an account here, else in the inviter's.
    invitee = User.objects.filter(email__iexact=email).first()
    with translation.override(language_of(invitee) if invitee else translation.get_language()):
        words = {"inviter": invited_by.get_username(), "organization": organization.name, "site": settings.SITE_NAME}
        subject = _("%(inviter)s invites you to %(organization)s on %(site)s") % words
        body = _(
            "%(inviter)s invited you to join %(organization)s as %(role)s.\n\n"
            "Accept within %(days)s days: %(link)s\n\n"
            "Log in (or sign up) with this email address, %(email)s, to accept."
        ) % {
            **words,
            "role": invitation.get_role_display(),
            "days": INVITATION_LIFETIME.days,
            "link": link,
            "email": email,
        }
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
        raise ValidationError(_("This invitation link is not valid. Ask for a new invitation.")) from None
    state = invitation.state
    if state != "open":
        raise ValidationError(
            _("This invitation was %(state)s. Ask %(organization)s for a new one.")
            % {
                "state": {"accepted": _("accepted"), "revoked": _("revoked")}.get(state, _("expired")),
                "organization": invitation.organization.name,
            }  # fmt: skip
        )
    if invitation.email.lower() != (user.email or "").lower():
        you = user.email or _("a user without email")
        raise ValidationError(
            _("This invitation is for %(email)s, but you are logged in as %(you)s.")
            % {"email": invitation.email, "you": you}
        )
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
        raise ValidationError(_("You are not a member of %(organization)s.") % {"organization": organization.name})
    if mine.role == Membership.Role.OWNER and memberships.filter(role=Membership.Role.OWNER).count() == 1:
        raise ValidationError(
            _("You are the last owner of %(organization)s: make another member an owner before you leave.")
            % {"organization": organization.name}
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
        raise ValidationError(_("No such member."))
    if target.role == Membership.Role.OWNER and not memberships.filter(user=by, role=Membership.Role.OWNER).exists():
        raise ValidationError(_("Only an owner can remove an owner."))
    if target.role == Membership.Role.OWNER and memberships.filter(role=Membership.Role.OWNER).count() == 1:
        raise ValidationError(_("The last owner cannot be removed."))
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
