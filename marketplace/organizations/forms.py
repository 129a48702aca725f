"""The forms of creating an organization and inviting a member."""

from django import forms

from marketplace.models import MembershipRole


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
