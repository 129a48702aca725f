from django import forms
from django.contrib.auth.forms import UsernameField

from marketplace.models import MembershipRole, User


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


class OrganizationForm(forms.Form):
    name = forms.CharField(max_length=200)
    slug = forms.SlugField(
        max_length=80, label="Address", help_text="Letters, digits and hyphens: /organizations/&lt;address&gt;/"
    )
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False)
    website = forms.URLField(required=False, assume_scheme="https")


class InvitationForm(forms.Form):
    email = forms.EmailField()
    role = forms.ChoiceField(choices=MembershipRole.choices, initial=MembershipRole.MEMBER)
