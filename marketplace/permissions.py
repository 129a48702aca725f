"""Who may do what. Views call these; services assume the caller checked."""

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from marketplace.models import User


def signed_in_user(request: HttpRequest) -> User:
    """The request's user, typed; behind ``login_required`` it is always a User."""
    user = request.user
    if not isinstance(user, User) or not user.is_authenticated:
        raise PermissionDenied("Log in first.")
    return user
