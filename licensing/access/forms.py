"""The form of an access request, as the dataset page's panel shows it and its page parses it."""

from django import forms
from django.utils.translation import gettext_lazy as _


class AccessRequestForm(forms.Form):
    full_name = forms.CharField(label=_("Your name"), max_length=200)
    organization_name = forms.CharField(label=_("Your organization"), max_length=200)
    intended_use = forms.CharField(label=_("Intended use"), widget=forms.Textarea(attrs={"rows": 3}))
