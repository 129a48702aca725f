from datetime import timedelta

from django import forms
from django.conf import settings

from licensing.models import ApiKey


class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What the key is for, e.g. 'training cluster'.")
    scopes = forms.MultipleChoiceField(
        choices=ApiKey.Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=[ApiKey.Scope.READ, ApiKey.Scope.DOWNLOAD],
    )
    expires_in_days = forms.IntegerField(
        label="Expires in (days)",
        min_value=1,
        max_value=int(settings.API_KEY_MAX_EXPIRY / timedelta(days=1)),
        initial=int(settings.API_KEY_DEFAULT_EXPIRY / timedelta(days=1)),
    )
