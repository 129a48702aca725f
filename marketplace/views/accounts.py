"""Sign up and the account page (memberships and API keys)."""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from licensing.forms import ApiKeyForm
from licensing.selectors import api_keys_of
from marketplace.forms import SignupForm
from marketplace.permissions import signed_in_user
from marketplace.selectors import memberships_of
from marketplace.services import register_user


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("account")
    form = SignupForm(request.POST or None)
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
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, f"Welcome, {user.username}. Your account is ready.")
            return redirect("account")
    return render(request, "registration/signup.html", {"form": form})


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
            "key_form": ApiKeyForm(),
        },
    )
