"""Sign up, sign in and the account page (memberships, API keys and security).

Signing up and in are allauth's views (email verification, second factors, single sign-on) under
our URLs, with our limits on password guessing and mass sign-ups in front
(marketplace/accounts/sign_in_limits.py): 429 with Retry-After and the form saying when to retry.
"""

from typing import Any

from allauth.account import views as allauth_views
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.socialaccount.models import SocialAccount
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_GET

from licensing.keys.forms import ApiKeyForm
from licensing.keys.selectors import api_keys_of
from marketplace.accounts.sign_in_limits import (
    forget_failed_sign_ins,
    record_failed_sign_in,
    record_sign_up,
    sign_in_wait,
    sign_up_wait,
)
from marketplace.catalog.visibility import memberships_of
from marketplace.permissions import signed_in_user


def _minutes(seconds: int) -> str:
    minutes = -(-seconds // 60)
    return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}


class SignInView(allauth_views.LoginView):
    template_name = "registration/login.html"

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        username = str(request.POST.get("username", ""))
        wait = sign_in_wait(username, request)
        if wait is not None:
            refusal = gettext("Too many failed sign-ins. Try again in %(wait)s.") % {"wait": _minutes(wait)}
            response = self.render_to_response(self.get_context_data(refusal=refusal), status=429)
            response["Retry-After"] = str(wait)
            return response
        return super().post(request, *args, **kwargs)

    def form_valid(self, form: Any) -> HttpResponse:
        forget_failed_sign_ins(str(self.request.POST.get("username", "")))
        return super().form_valid(form)

    def form_invalid(self, form: Any) -> HttpResponse:
        record_failed_sign_in(str(self.request.POST.get("username", "")), self.request)
        return super().form_invalid(form)


class SignUpView(allauth_views.SignupView):
    template_name = "registration/signup.html"

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        wait = sign_up_wait(request)
        if wait is not None:
            refusal = gettext("Too many new accounts from your address. Try again in %(wait)s.") % {
                "wait": _minutes(wait)
            }
            response = self.render_to_response(self.get_context_data(refusal=refusal), status=429)
            response["Retry-After"] = str(wait)
            return response
        return super().post(request, *args, **kwargs)

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        record_sign_up(self.request)
        if self.user:
            messages.success(
                self.request,
                gettext("Welcome, %(username)s. Your account is ready.") % {"username": self.user.username},
            )
        return response


@login_required
@require_GET
def account(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    return render(
        request,
        "account.html",
        {
            "memberships": memberships_of(user=user),
            "api_keys": api_keys_of(user=user),
            "key_form": ApiKeyForm(user=user),
            "email_addresses": EmailAddress.objects.filter(user=user).order_by("-primary", "email"),
            "second_factors": sorted(
                {
                    Authenticator.Type(kind).label
                    for kind in Authenticator.objects.filter(user=user).values_list("type", flat=True)
                }
            ),
            "connected_providers": SocialAccount.objects.filter(user=user),
        },
    )
