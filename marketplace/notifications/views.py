"""The notifications page, and the language switcher that remembers a signed-in person's choice."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django.views.i18n import set_language as django_set_language

from marketplace.notifications import selectors, services
from marketplace.notifications.messages import render as render_text
from marketplace.permissions import signed_in_user

PAGE_SIZE = 100


@login_required
@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    items = [(notification, render_text(notification)) for notification in selectors.notifications_of(user)[:PAGE_SIZE]]
    unread = sum(1 for notification, _text in items if notification.read_at is None)
    return render(request, "notifications/list.html", {"items": items, "unread": unread})


@login_required
@require_POST
def notifications_mark_all_read(request: HttpRequest) -> HttpResponse:
    count = services.mark_all_read(user=signed_in_user(request))
    if count:
        messages.success(request, _("All notifications are marked read."))
    return redirect("notifications")


@require_POST
@require_POST  # a GET would change nothing
def set_language(request: HttpRequest) -> HttpResponse:
    """Django's switcher, which also keeps a signed-in person's choice for the emails we send them."""
    response = django_set_language(request)
    if request.user.is_authenticated:
        services.remember_language(user=signed_in_user(request), language=request.POST.get("language", ""))
    return response
