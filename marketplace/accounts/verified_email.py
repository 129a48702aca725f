"""A verified email address before anything that costs money or puts data under a name.

Buying, accepting license terms, requesting access, creating submissions and creating API keys
need the person's primary address verified (``REQUIRE_VERIFIED_EMAIL``, on by default), so that a
licensee, an uploader and a key's holder can be reached. allauth keeps the verdict: the mailed link
verifies an address, and an address a single sign-on provider says it verified arrives verified.

- a page (``verified_email_required``): answers 403 with a page saying so in plain words and a
  button that mails the link again (allauth's own "send again" on its email page);
- the API (``require_verified_email``): raises ``config.refusals.UnverifiedEmail``, which
  ``config.api_errors`` answers with 403 and a sentence saying where to verify.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from allauth.account.models import EmailAddress
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext

from config.refusals import UnverifiedEmail


def has_verified_email(user: Any) -> bool:
    if not settings.REQUIRE_VERIFIED_EMAIL:
        return True
    if user is None or not user.is_authenticated:
        return False
    return EmailAddress.objects.filter(user=user, primary=True, verified=True).exists()


def require_verified_email(user: Any, *, verify_url: str) -> None:
    """Raise ``UnverifiedEmail`` unless ``user`` may act; ``verify_url`` is where to verify."""
    if not has_verified_email(user):
        raise UnverifiedEmail(
            gettext(
                "Verify your email address first: buying, accepting license terms, requesting access, and "
                "creating submissions and API keys need it. Open the link we mailed you, or send it again "
                "at %(url)s."
            )
            % {"url": verify_url}
        )


def require_verified_email_for_api(request: Any) -> None:
    """``require_verified_email`` for an API request, naming the page where to verify."""
    require_verified_email(request.user, verify_url=request.build_absolute_uri(reverse("account_email")))


def verified_email_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Put on a page view (after ``login_required``): see the module's docstring."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if has_verified_email(request.user):
            return view(request, *args, **kwargs)
        address = EmailAddress.objects.filter(user=request.user).order_by("-primary", "email").first()
        return render(request, "registration/verify_email_first.html", {"address": address}, status=403)

    return wrapped
