"""A second factor before money moves or anything is approved.

Only staff and organizations' owners, admins and reviewers are asked (``needs_second_factor``).
Marking an invoice paid, refunds, voids, payout batches, access decisions, review decisions,
approving organizations, takedowns and organization imports and moves all ask for it:

- a page (``second_factor_required``, on POST): a person with no second factor is sent to turn one
  on, with a message saying why and to come back afterwards; a session signed
  in without passing the second factor (through a path that skipped it) is asked for it first (a
  code from the app, or the security key when that is all the person has), and the action it was
  about to take (its POST) carries on once it passes, by allauth's own suspend-and-resume of a
  request;
- the API (``SecondFactorEnabled``, on unsafe methods): a key whose owner has no second factor is
  refused with a 403 saying where to turn one on. A key cannot answer a code, so the factor being
  on is what the API can ask for.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from allauth.account.internal.flows.login import get_authentication_records
from allauth.account.internal.flows.reauthentication import suspend_request
from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext
from rest_framework import exceptions
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from marketplace.models import Membership, MembershipRole

# The roles that decide on money, access and reviews in an organization.
DECIDING_ROLES = (MembershipRole.OWNER, MembershipRole.ADMIN, MembershipRole.REVIEWER)


def needs_second_factor(user: Any) -> bool:
    """Staff, and owners, admins and reviewers of an organization: the people who move money and
    approve. Anyone else is refused by the action itself, as before (a licensee voiding their own
    invoice, or someone trying what they may not do, learns nothing about second factors)."""
    if user is None or not user.is_authenticated:
        return False
    return bool(user.is_staff) or Membership.objects.filter(user=user, role__in=DECIDING_ROLES).exists()


def has_second_factor(user: Any) -> bool:
    """An authenticator app or a security key (WebAuthn): allauth counts either, and both pass."""
    return bool(user is not None and user.is_authenticated and is_mfa_enabled(user))


def _confirm_url(user: Any) -> str:
    """Where this person confirms: the code page when they have an app (it links to the key for
    those with both), the security-key page when a key is all they have (no code would pass)."""
    if is_mfa_enabled(user, types=[Authenticator.Type.TOTP]):
        return reverse("mfa_reauthenticate")
    return reverse("mfa_reauthenticate_webauthn")


def passed_second_factor(request: HttpRequest) -> bool:
    """Whether this session signed in (or confirmed since) with a second factor."""
    return any(record.get("method") == "mfa" for record in get_authentication_records(request, request.user))


def second_factor_required(view: Callable[..., HttpResponse] | None = None, *, staff_only: bool = False) -> Any:
    """Put on a page view whose POST moves money or approves: see the module's docstring.

    ``@second_factor_required(staff_only=True)`` on a staff-only action: an organization's owner
    trying it is refused by the view as anyone else is, not asked for a second factor first."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method in SAFE_METHODS or (staff_only and not request.user.is_staff):
                return view(request, *args, **kwargs)
            return ask_for_second_factor(request) or view(request, *args, **kwargs)

        return wrapped

    return decorate(view) if view is not None else decorate


def ask_for_second_factor(request: HttpRequest) -> HttpResponse | None:
    """Where to send a person who may not act yet (set one up, or enter a code), or None to go on.

    For a view where only some POSTs need it (a licensee voids their own invoice without one)."""
    if not needs_second_factor(request.user):
        return None
    if not has_second_factor(request.user):
        messages.warning(
            request,
            gettext(
                "Moving money and approving need a second factor. Turn one on here (an authenticator "
                "app or a security key), then go back and try again."
            ),
        )
        return HttpResponseRedirect(reverse("mfa_index"))
    if not passed_second_factor(request):
        messages.info(request, gettext("Confirm it is you with your second factor to go on."))
        return suspend_request(request, _confirm_url(request.user))
    return None


def refuse_without_second_factor(request: Request) -> None:
    """Raise a 403 when the API caller has no second factor on (see the module's docstring)."""
    if needs_second_factor(request.user) and not has_second_factor(request.user):
        raise exceptions.PermissionDenied(
            gettext(
                "Turn on a second factor for your account at %(url)s before moving money or approving through the API."
            )
            % {"url": request.build_absolute_uri(reverse("mfa_index"))}
        )


class SecondFactorEnabled(BasePermission):
    """For API views that move money or approve: the caller has a second factor on."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        if request.method not in SAFE_METHODS:
            refuse_without_second_factor(request)
        return True
