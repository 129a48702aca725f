"""The sentences of each kind of notification, in every language of the site.

A notification stores its kind and parameters, not its text: the page renders it in the reader's
language of the moment, the email in the recipient's chosen language (``User.language``, set by
the language switcher while signed in). Parameters are plain values (names, amounts as text,
reasons typed by people), never markup."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from marketplace.models import Notification

Kind = Notification.Kind

# kind -> (title, body); %(name)s placeholders name the notification's params.
TEXTS: dict[str, tuple[Promise, Promise]] = {
    Kind.ACCESS_APPROVED: (
        _("Access to %(dataset)s approved"),
        _("Your request for access to %(dataset)s was approved. You can now accept its license and download it."),
    ),
    Kind.ACCESS_REJECTED: (
        _("Access to %(dataset)s refused"),
        _("Your request for access to %(dataset)s was refused. The reason given: %(reason)s"),
    ),
    Kind.INVOICE_PAID: (
        _("Invoice for %(dataset)s paid"),
        _("Your payment of %(amount)s for %(dataset)s was received. Your license is in force: you can download it."),
    ),
    Kind.REVIEW_APPROVED: (
        _("Submission %(submission)s approved"),
        _("The submission %(submission)s was approved and published as version %(version)s of %(dataset)s."),
    ),
    Kind.REVIEW_REJECTED: (
        _("Submission %(submission)s sent back"),
        _("A reviewer sent the submission %(submission)s back for changes. The reason given: %(reason)s"),
    ),
    Kind.CONSENT_WITHDRAWN: (
        _("Consent withdrawn from %(dataset)s"),
        _(
            "A contributor withdrew consent for records of %(dataset)s version %(version)s, which you licensed. "
            "Delete those records from your copies: the dataset page lists them."
        ),
    ),
    Kind.TAKEN_DOWN: (
        _("%(dataset)s was taken down"),
        _("%(dataset)s, which you licensed, was taken down. The reason given: %(reason)s"),
    ),
    Kind.RERELEASED: (
        _("%(dataset)s re-released"),
        _(
            "%(dataset)s, which you licensed, was re-released as version %(version)s without the records whose "
            "consent was withdrawn. Use the new version from now on."
        ),
    ),
}


@dataclass(frozen=True)
class Rendered:
    title: str
    body: str


def _fill(template: Promise, params: dict[str, Any]) -> str:
    values = {key: str(value) for key, value in params.items()}
    try:
        return str(template) % values
    except (KeyError, ValueError, TypeError):
        return str(template)  # a parameter missing from an old row: the sentence without it


def render(notification: Notification) -> Rendered:
    """The notification in the language active now."""
    title, body = TEXTS[notification.kind]
    return Rendered(title=_fill(title, notification.params), body=_fill(body, notification.params))


def language_of(user: Any) -> str:
    """The language a person reads their email in: the one they chose, if the site still speaks it."""
    chosen = getattr(user, "language", "")
    return chosen if chosen in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def render_for(notification: Notification) -> Rendered:
    """The notification in its recipient's language (for email)."""
    with translation.override(language_of(notification.user)):
        return render(notification)
