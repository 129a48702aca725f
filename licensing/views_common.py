"""What licensing's pages share: the organization a page of the organization's side is about."""

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from marketplace.models import Membership, Organization
from marketplace.permissions import MANAGER_ROLES, signed_in_user


def organization_for_page(request: HttpRequest, slug: str, *, managers_only: bool, staff: bool) -> Organization:
    """The organization, if the user is a member (a manager when ``managers_only``), or staff
    where ``staff`` lets them in (staff mark invoices paid and read analytics)."""
    organization = get_object_or_404(Organization, slug=slug)
    user = signed_in_user(request)
    membership = Membership.objects.filter(organization=organization, user=user).only("role").first()
    allowed = membership is not None and (not managers_only or membership.role in MANAGER_ROLES)
    if not allowed and not (staff and user.is_staff):
        if managers_only:
            raise PermissionDenied(
                _("Only owners and admins of %(organization)s.") % {"organization": organization.name}
            )
        raise PermissionDenied(_("Only members of %(organization)s.") % {"organization": organization.name})
    return organization
