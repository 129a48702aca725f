"""Access requests to restricted datasets: ask, approve, reject with a reason, revoke.

Each move locks the request and updates it from the state it leaves, so two managers deciding at
the same moment cannot both win, and writes its transparency-log entry in the same transaction; a
refused requester may ask again, as a new row.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from licensing.models import AccessRequest
from marketplace.models import Dataset, Membership, Notification, User
from marketplace.notifications.services import notify
from marketplace.permissions import MANAGER_ROLES
from provenance import events as provenance_events

Status = AccessRequest.Status


def can_manage_dataset(user: object, dataset: Dataset) -> bool:
    """Owners and admins of the dataset's organization decide on access, invoices and withdrawals."""
    if not isinstance(user, User) or not user.is_authenticated:
        return False
    return Membership.objects.filter(
        organization_id=dataset.organization_id, user=user, role__in=MANAGER_ROLES
    ).exists()


def is_member(user: object, dataset: Dataset) -> bool:
    if not isinstance(user, User) or not user.is_authenticated:
        return False
    return Membership.objects.filter(organization_id=dataset.organization_id, user=user).exists()


def open_request(*, user: User, dataset: Dataset) -> AccessRequest | None:
    """The user's pending or approved request, if any (at most one, by a constraint)."""
    open_states = [Status.PENDING, Status.APPROVED]
    return AccessRequest.objects.filter(dataset=dataset, user=user, status__in=open_states).first()


def latest_request(*, user: User, dataset: Dataset) -> AccessRequest | None:
    return AccessRequest.objects.filter(dataset=dataset, user=user).order_by("-created_at", "-id").first()


def has_access(*, user: User, dataset: Dataset) -> bool:
    return AccessRequest.objects.filter(dataset=dataset, user=user, status=Status.APPROVED).exists()


def request_access(
    *, user: User, dataset: Dataset, full_name: str, organization_name: str, intended_use: str
) -> AccessRequest:
    """Ask for access; approved at once when the dataset says so. Asking again while a request
    is pending or approved returns that request."""
    if dataset.visibility != Dataset.Visibility.RESTRICTED:
        raise ValidationError(
            _("%(dataset)s is not restricted: it needs no access request.") % {"dataset": dataset.name}
        )
    values = {
        "full_name": full_name.strip(),
        "organization_name": organization_name.strip(),
        "intended_use": intended_use.strip(),
    }
    labels = {"full_name": "your name", "organization_name": "your organization", "intended_use": "the intended use"}
    errors = {field: f"Give {labels[field]}." for field, value in values.items() if not value}
    errors |= {
        field: "At most 200 characters." for field in ("full_name", "organization_name") if len(values[field]) > 200
    }
    if errors:
        raise ValidationError(errors)
    existing = open_request(user=user, dataset=dataset)
    if existing is not None:
        return existing
    auto = dataset.auto_approve_access_requests
    now = timezone.now()
    try:
        with transaction.atomic():
            created = AccessRequest.objects.create(
                dataset=dataset,
                user=user,
                status=Status.APPROVED if auto else Status.PENDING,
                auto_approved=auto,
                decided_at=now if auto else None,
                **values,
            )
            provenance_events.access_decided(created)  # an auto-approval is a decision too
            return created
    except IntegrityError:  # a concurrent request of the same user won the race
        found = open_request(user=user, dataset=dataset)
        if found is None:
            raise
        return found


def _move(*, request_id: int, dataset: Dataset | None, by: User, old: str, new: str, reason: str) -> AccessRequest:
    """Move a request from ``old`` to ``new``; the new state and its transparency-log entry commit
    together. The row is locked, so two managers deciding at once are serialized: the second
    finds the state the first left. Moving again to the state it is in returns it unchanged."""
    with transaction.atomic():
        locked = AccessRequest.objects.select_for_update(of=("self",)).select_related("dataset")
        access = locked.filter(id=request_id).first()
        if access is None or (dataset is not None and access.dataset_id != dataset.id):
            raise AccessRequest.DoesNotExist(_("No access request %(request_id)s.") % {"request_id": request_id})
        if not can_manage_dataset(by, access.dataset):
            raise PermissionDenied(
                _("Only owners and admins of the organization of %(dataset)s decide on access.")
                % {"dataset": access.dataset.name}
            )
        reason = reason.strip()
        if new in (Status.REJECTED, Status.REVOKED) and not reason:
            raise ValidationError({"reason": _("Give a reason: the requester reads it.")})
        changed = AccessRequest.objects.filter(id=request_id, status=old).update(
            status=new, decided_by=by, decided_at=timezone.now(), reason=reason
        )
        access.refresh_from_db()
        if changed:
            provenance_events.access_decided(access)
            _tell_requester(access)
        if not changed and access.status != new:
            raise ValidationError(
                _("This request is %(status)s, not %(old)s: it cannot become %(new)s.")
                % {
                    "status": access.get_status_display().lower(),
                    "old": Status(old).label.lower(),
                    "new": Status(new).label.lower(),
                }
            )
        return access


def _tell_requester(access: AccessRequest) -> None:
    kinds: dict[str, str] = {
        Status.APPROVED: Notification.Kind.ACCESS_APPROVED,
        Status.REJECTED: Notification.Kind.ACCESS_REJECTED,
    }
    if access.status in kinds:
        dataset = access.dataset
        link = reverse("dataset-detail", args=[dataset.slug])
        notify(
            users=[access.user_id],
            kind=kinds[access.status],
            params={"dataset": dataset.name, "reason": access.reason},
            link=link,
        )


def approve(*, request_id: int, by: User, dataset: Dataset | None = None) -> AccessRequest:
    return _move(request_id=request_id, dataset=dataset, by=by, old=Status.PENDING, new=Status.APPROVED, reason="")


def reject(*, request_id: int, by: User, reason: str, dataset: Dataset | None = None) -> AccessRequest:
    return _move(request_id=request_id, dataset=dataset, by=by, old=Status.PENDING, new=Status.REJECTED, reason=reason)


def revoke(*, request_id: int, by: User, reason: str, dataset: Dataset | None = None) -> AccessRequest:
    return _move(request_id=request_id, dataset=dataset, by=by, old=Status.APPROVED, new=Status.REVOKED, reason=reason)


def requests_for_organization(*, organization_id: str) -> QuerySet[AccessRequest]:
    return (
        AccessRequest.objects.filter(dataset__organization_id=organization_id)
        .select_related("dataset", "user", "decided_by")
        .order_by("status", "-created_at")
    )
