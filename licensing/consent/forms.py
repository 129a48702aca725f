"""The form of the organization's withdrawals page."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from marketplace.models import Organization


class WithdrawalReleasesForm(forms.Form):
    withdrawal_releases = forms.ChoiceField(
        label=_("When contributors withdraw consent, the version made without their records is"),
        choices=Organization.WithdrawalReleases.choices,
        widget=forms.RadioSelect,
        help_text=_(
            "Published at once, the old version answers 410 naming it; held, a reviewer of the organization "
            "approves it first (meanwhile the old version answers 410 naming none)."
        ),
    )
