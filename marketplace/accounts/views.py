"""Sign up and the account page (memberships and API keys)."""

from typing import Any

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods

from licensing.keys.forms import ApiKeyForm
from licensing.keys.selectors import api_keys_of
from marketplace.accounts.forms import SignupForm
from marketplace.accounts.services import register_user
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
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


class SignInView(auth_views.LoginView):
    """Django's sign-in page, refusing to check passwords once too many guesses failed
    (marketplace/sign_in_limits.py): 429 with Retry-After and the form saying when to retry."""

    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        username = str(request.POST.get("username", ""))
        wait = sign_in_wait(username, request)
        if wait is not None:
            refusal = f"Too many failed sign-ins. Try again in {_minutes(wait)}."
            response = self.render_to_response(self.get_context_data(refusal=refusal), status=429)
            response["Retry-After"] = str(wait)
            return response
        response = super().post(request, *args, **kwargs)
        if request.user.is_authenticated:
            forget_failed_sign_ins(username)
        else:
            record_failed_sign_in(username, request)
        return response


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect(_next(request) or "account")
    form = SignupForm(request.POST or None)
    wait = sign_up_wait(request) if request.method == "POST" else None
    if wait is not None:
        refusal = f"Too many new accounts from your address. Try again in {_minutes(wait)}."
        response = render(request, "registration/signup.html", {"form": form, "refusal": refusal}, status=429)
        response["Retry-After"] = str(wait)
        return response
    if request.method == "POST" and form.is_valid():
        try:
            user = register_user(
                username=form.cleaned_data["username"],
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password1"],
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        else:
            record_sign_up(request)
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, f"Welcome, {user.username}. Your account is ready.")
            return redirect(_next(request) or "account")
    return render(request, "registration/signup.html", {"form": form, "next": _next(request)})


def _next(request: HttpRequest) -> str:
    """Where to go after signing up (a claim link, say): a path on this site, or ""."""
    target = str(request.POST.get("next") or request.GET.get("next") or "")
    safe = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if target and safe else ""


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
        },
    )
