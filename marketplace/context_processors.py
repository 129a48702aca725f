from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from marketplace.notifications.selectors import unread_count


def site(request: HttpRequest) -> dict[str, str]:
    return {"site_name": settings.SITE_NAME}


def notifications(request: HttpRequest) -> dict[str, Any]:
    """The signed-in person's unread notifications, counted only when a page shows the number."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": SimpleLazyObject(lambda: unread_count(user))}
