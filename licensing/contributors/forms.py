"""The forms of the contributor's pages: an organization's claim link, and a withdrawal."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class ClaimLinkForm(forms.Form):
    contributor_id = forms.CharField(
        label=_("Contributor id"),
        max_length=128,
        required=False,
        help_text=_("The pseudonymous id in your consent records, e.g. c-004."),
    )
    payee_email = forms.EmailField(
        label=_("Payee's email address"),
        required=False,
        help_text=_("When this person is paid a revenue share by email address, they claim that balance too."),
    )
    send_to = forms.EmailField(
        label=_("Email the link to"),
        required=False,
        help_text=_("Leave empty to copy the link and hand it over yourself (a payee's balance needs the email)."),
    )


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("Why (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The organization and licensees see it beside the withdrawal. You owe nobody a reason."),
    )
    confirm = forms.BooleanField(
        label=_(
            "I understand: my records leave the dataset, and licensees are told to delete them. This cannot be undone."
        ),
        error_messages={"required": _("Tick the box to confirm that you want to withdraw.")},
    )


class BulkClaimLinksForm(forms.Form):
    lines = forms.CharField(
        label=_("Contributor ids, one per line"),
        widget=forms.Textarea(attrs={"rows": 6, "placeholder": "c-001, speaker1@example.org\nc-002"}),
        help_text=_(
            "Optionally a comma and an email address after each id: the link is emailed there. You get a "
            "CSV file of every link (shown once), to hand over the rest yourself."
        ),
    )
