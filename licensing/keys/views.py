"""API key pages: create (the key is shown once) and revoke."""

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from licensing.keys.forms import ApiKeyForm
from licensing.keys.selectors import api_keys_of
from licensing.keys.services import create_api_key, revoke_api_key
from licensing.models import ApiKey
from marketplace.accounts.verified_email import verified_email_required
from marketplace.catalog.visibility import memberships_of
from marketplace.confirming import Confirmation, confirmation_page, confirmed
from marketplace.permissions import signed_in_user

# The service's error keys that are not the form's field names.
FORM_FIELD = {"expires_at": "expires_in_days"}


@never_cache
@login_required
@require_POST
@verified_email_required
def api_key_create(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    form = ApiKeyForm(request.POST, user=user)
    if form.is_valid():
        try:
            api_key, raw_key = create_api_key(
                user=user,
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                expires_at=timezone.now() + timedelta(days=form.cleaned_data["expires_in_days"]),
                organization=form.cleaned_data["organization"],
                datasets=form.cleaned_data["datasets"],
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                for error in errors:
                    form.add_error(FORM_FIELD.get(field, field), error)
        else:
            # The raw key is rendered in this response only; it is stored hashed.
            return render(request, "licensing/api_key_created.html", {"api_key": api_key, "raw_key": raw_key})
    context = {"memberships": memberships_of(user=user), "api_keys": api_keys_of(user=user), "key_form": form}
    return render(request, "account.html", context, status=400)


@login_required
@require_POST
def api_key_revoke(request: HttpRequest, key_id: int) -> HttpResponse:
    user = signed_in_user(request)
    if not confirmed(request):
        own = api_keys_of(user=user).filter(id=key_id).first()
        if own is None:
            raise Http404("No such key")
        return confirmation_page(request, _revoking(own))
    try:
        api_key = revoke_api_key(user=user, api_key_id=key_id)
    except ApiKey.DoesNotExist:
        raise Http404("No such key") from None
    messages.success(
        request, _("The key “%(name)s” is revoked; requests with it are now refused.") % {"name": api_key.name}
    )
    return redirect("account")


def _revoking(api_key: ApiKey) -> Confirmation:
    return Confirmation(
        question=_("Revoke the key “%(name)s”?") % {"name": api_key.name},
        consequences=[
            _(
                "Every request made with the key %(prefix)s… is refused from now on: the pipelines, scripts and SDK "
                "sessions that use it stop working at once."
            )
            % {"prefix": api_key.prefix},
            _("This cannot be undone: a revoked key never works again. To carry on, create a new key."),
        ],
        confirm_label=_("Yes, revoke the key"),
        action_url=reverse("api-key-revoke", args=[api_key.id]),
        back_url=reverse("account") + "#keys",
        back_label=_("API keys"),
        cancel_label=_("No, keep it"),
    )
