"""The forms of creating an organization and inviting a member."""

from django import forms
from django.utils.translation import gettext_lazy as _

from marketplace.models import MembershipRole


class OrganizationForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    slug = forms.SlugField(
        max_length=80, label=_("Address"), help_text=_("Letters, digits and hyphens: /organizations/&lt;address&gt;/")
    )
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 4}), required=False)
    website = forms.URLField(label=_("Website"), required=False, assume_scheme="https")


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("Email"))
    role = forms.ChoiceField(label=_("Role"), choices=MembershipRole.choices, initial=MembershipRole.MEMBER)
