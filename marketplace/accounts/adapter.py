"""How allauth speaks for us: its refusals in our words."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django.utils.translation import gettext_lazy as _


class AccountAdapter(DefaultAccountAdapter):
    error_messages = {
        **DefaultAccountAdapter.error_messages,
        "username_password_mismatch": _("That username and password do not match an account."),
        "email_password_mismatch": _("That email address and password do not match an account."),
        "email_taken": _("An account with that email address exists already: sign in instead."),
        "username_taken": _("That username is taken."),
    }
