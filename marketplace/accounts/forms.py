"""The sign-up form."""

from django import forms
from django.contrib.auth.forms import UsernameField

from marketplace.models import User


class SignupForm(forms.Form):
    username = UsernameField(max_length=150, help_text="Letters, digits and @ . + - _ only.")
    email = forms.EmailField()
    password1 = forms.CharField(
        label="Password", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    password2 = forms.CharField(
        label="Password again", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean_username(self) -> str:
        username = str(self.cleaned_data["username"])
        User.username_validator(username)
        return username

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if data.get("password1") and data.get("password1") != data.get("password2"):
            self.add_error("password2", "The two passwords differ.")
        return data
