"""Accounts: signing up."""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from marketplace.models import User


@transaction.atomic
def register_user(*, username: str, email: str, password: str) -> User:
    username, email = username.strip(), email.strip()
    errors: dict[str, list[str]] = {}
    if User.objects.filter(username__iexact=username).exists():
        errors["username"] = ["That username is taken."]
    if email and User.objects.filter(email__iexact=email).exists():
        errors["email"] = ["An account with that email exists already: log in instead."]
    candidate = User(username=username, email=email)
    try:
        validate_password(password, user=candidate)
    except ValidationError as exc:
        errors["password"] = list(exc.messages)
    if errors:
        raise ValidationError(errors)
    return User.objects.create_user(username=username, email=email, password=password)
