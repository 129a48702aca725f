"""Writes of the marketplace domain: accounts, organizations, datasets and published versions."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from licensing.models import License
from marketplace.catalog import forget_facets
from marketplace.models import Dataset, DatasetVersion, Invitation, Membership, Organization, User
from provenance.manifests import record_publication


@transaction.atomic
def register_user(*, username: str, email: str, password: str) -> User:
    username, email = username.strip(), email.strip()
    errors: dict[str, list[str]] = {}
    if User.objects.filter(username__iexact=username).exists():
        errors["username"] = ["That username is taken."]
    if email and User.objects.filter(email__iexact=email).exists():
        errors["email"] = ["An account with that email exists already: log in instead."]
    candidate = User(username=username, email=email)
    try:
        validate_password(password, user=candidate)
    except ValidationError as exc:
        errors["password"] = list(exc.messages)
    if errors:
        raise ValidationError(errors)
    return User.objects.create_user(username=username, email=email, password=password)


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


@transaction.atomic
def create_dataset(*, organization: Organization, slug: str, name: str, **fields: Any) -> Dataset:
    if Dataset.objects.filter(slug=slug).exists():
        raise ValidationError({"slug": f"The address '{slug}' is taken by another dataset."})
    dataset = Dataset(organization=organization, slug=slug, name=name, **fields)
    dataset.full_clean()
    dataset.save()
    return dataset


def version_filename(*, dataset: Dataset, number: int) -> str:
    """A name unique to the version: the SDK skips a download when the file already exists."""
    return f"{dataset.slug}-v{number}.tar.gz"


@transaction.atomic
def publish_version(
    *,
    dataset: Dataset,
    archive_key: str,
    size_bytes: int,
    sha256: str,
    license: License,
    sample_key: str = "",
    sample_size_bytes: int | None = None,
) -> DatasetVersion:
    """Append a published, immutable version and make it the dataset's current one."""
    locked = Dataset.objects.select_for_update().get(id=dataset.id)
    if locked.status == Dataset.Status.REMOVED:
        raise ValidationError("A removed dataset cannot get new versions.")
    number = (locked.versions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    now = timezone.now()
    version = DatasetVersion.objects.create(
        dataset=locked,
        number=number,
        archive_key=archive_key,
        filename=version_filename(dataset=locked, number=number),
        size_bytes=size_bytes,
        sha256=sha256,
        license=license,
        license_text_sha256=license.text_sha256,
        sample_key=sample_key,
        sample_filename=f"{locked.slug}-v{number}-sample.tar.gz" if sample_key else "",
        sample_size_bytes=sample_size_bytes if sample_key else None,
        published_at=now,
    )
    Dataset.objects.filter(id=locked.id).update(
        status=Dataset.Status.PUBLISHED,
        published_at=locked.published_at or now,
        updated_at=now,
        license=license,
        current_version=version,
        size_bytes=size_bytes,
        has_sample=bool(sample_key),
    )
    transaction.on_commit(forget_facets)
    record_publication(version=version)  # its signed manifest and log entry commit with it
    dataset.refresh_from_db()
    return version


@transaction.atomic
def takedown_dataset(*, dataset: Dataset, reason: str, by: User) -> Dataset:
    """Staff remove a published dataset (a legal claim, a consent problem): it leaves the catalog,
    its page and every download answer 410 with the reason, and the public transparency log gets a
    takedown entry in the same transaction (its payload holds the id and status only, never the
    reason, which may name people). Versions and manifests stay: they are evidence."""
    from provenance.events import dataset_taken_down

    if not by.is_staff:
        raise PermissionDenied("Only staff can take a dataset down.")
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Say why the dataset is taken down: its page shows the reason."})
    now = timezone.now()
    # Conditional update: of two staff taking the same dataset down, one acts and logs.
    changed = Dataset.objects.filter(id=dataset.id, status=Dataset.Status.PUBLISHED).update(
        status=Dataset.Status.REMOVED, removed_at=now, removal_reason=reason, updated_at=now
    )
    if changed != 1:
        raise ValidationError(f"{dataset.name} is not published (it is {dataset.status}): nothing to take down.")
    dataset.refresh_from_db()
    dataset_taken_down(dataset)
    transaction.on_commit(forget_facets)
    return dataset
