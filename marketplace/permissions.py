"""Who may do what. Views call these; services assume the caller checked."""

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.translation import gettext as _

from marketplace.models import Membership, Organization, User


def signed_in_user(request: HttpRequest) -> User:
    """The request's user, typed; behind ``login_required`` it is always a User."""
    user = request.user
    if not isinstance(user, User) or not user.is_authenticated:
        raise PermissionDenied(_("Log in first."))
    return user


def role_in(user: object, organization: Organization) -> str | None:
    """The user's role in the organization, or None."""
    if not isinstance(user, User) or not user.is_authenticated:
        return None
    membership = Membership.objects.filter(organization=organization, user=user).only("role").first()
    return membership.role if membership else None


MANAGER_ROLES = (Membership.Role.OWNER, Membership.Role.ADMIN)

# Who submits datasets and their new versions for an organization (reviewers review them).
UPLOADER_ROLES = (Membership.Role.OWNER, Membership.Role.ADMIN, Membership.Role.MEMBER)


def can_upload_for(user: object, organization: Organization) -> bool:
    return role_in(user, organization) in UPLOADER_ROLES


def can_manage_members(user: object, organization: Organization) -> bool:
    return role_in(user, organization) in MANAGER_ROLES
