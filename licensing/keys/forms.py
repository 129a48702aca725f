"""The account page's form for a new API key: its name, scopes, expiry and what it is limited to."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any, cast

from django import forms
from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from licensing.models import ApiKey, LicenseGrant
from marketplace.catalog.visibility import visible_datasets
from marketplace.models import Dataset, Membership, Organization, User

SCOPE_CHOICES = [
    (ApiKey.Scope.READ, _("Read: the catalog, your grants and submissions")),
    (ApiKey.Scope.DOWNLOAD, _("Download: download URLs for datasets you may use")),
    (ApiKey.Scope.UPLOAD, _("Upload: create submissions and upload archives")),
]
LIMIT_CHOICES = [
    (ApiKey.Limit.ALL, _("All my access")),
    (ApiKey.Limit.ORGANIZATION, _("One organization")),
    (ApiKey.Limit.DATASETS, _("Only these datasets")),
]


def own_datasets(*, user: User) -> QuerySet[Dataset]:
    """The datasets offered as checkboxes: those of the user's organizations and those they hold
    a grant for. Any other dataset they can see is named in the form's text field."""
    member = Membership.objects.filter(user=user, organization_id=OuterRef("organization_id"))
    granted = LicenseGrant.objects.filter(user=user, dataset_id=OuterRef("id"))
    return (
        visible_datasets(user=user)
        .filter(Q(Exists(member)) | Q(Exists(granted)))
        .select_related("organization")
        .order_by("name", "id")
    )


class DatasetChoices(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} ({obj.slug}, {obj.organization.name})"


class OrganizationChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.name)


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        label=_("Name"), max_length=100, help_text=_("What the key is for, for example “training cluster”.")
    )
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"),
        choices=SCOPE_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        initial=[ApiKey.Scope.READ, ApiKey.Scope.DOWNLOAD],
    )
    expires_in_days = forms.IntegerField(
        label=_("Expires in (days)"),
        min_value=1,
        max_value=int(settings.API_KEY_MAX_EXPIRY / timedelta(days=1)),
        initial=int(settings.API_KEY_DEFAULT_EXPIRY / timedelta(days=1)),
    )
    limit = forms.ChoiceField(
        label=_("What the key may reach"),
        choices=LIMIT_CHOICES,
        widget=forms.RadioSelect,
        initial=ApiKey.Limit.ALL,
        required=False,  # not given: all the owner's access, as keys made before limits existed
    )
    organization = OrganizationChoice(
        label=_("Organization"), queryset=Organization.objects.none(), required=False, empty_label=_("Choose one")
    )
    datasets = DatasetChoices(
        label=_("Your datasets and those you licensed"),
        queryset=Dataset.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    other_datasets = forms.CharField(
        label=_("Other datasets"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("The short names from their addresses (/datasets/short-name/), separated by spaces or commas."),
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        organizations = Organization.objects.filter(memberships__user=user).order_by("name")
        cast(forms.ModelChoiceField, self.fields["organization"]).queryset = organizations
        cast(forms.ModelMultipleChoiceField, self.fields["datasets"]).queryset = own_datasets(user=user)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        limit = data.get("limit")
        if limit == ApiKey.Limit.ORGANIZATION:
            if not data.get("organization"):
                self.add_error("organization", _("Choose the organization the key may act for."))
            data["datasets"] = []
        elif limit == ApiKey.Limit.DATASETS:
            chosen = list(data.get("datasets") or [])
            named = self._named_datasets(data.get("other_datasets", ""))
            if named is not None:
                seen = {dataset.id for dataset in chosen}
                chosen += [dataset for dataset in named if dataset.id not in seen]
                if not chosen:
                    self.add_error("datasets", _("Choose at least one dataset, or name one below."))
            data["datasets"] = chosen
            data["organization"] = None
        else:
            data["organization"] = None
            data["datasets"] = []
        return data

    def _named_datasets(self, text: str) -> list[Dataset] | None:
        """The datasets named by short name (or id) in the text field; None after an error."""
        names = [name for name in re.split(r"[\s,]+", text.strip()) if name]
        if not names:
            return []
        found = list(visible_datasets(user=self.user).filter(Q(slug__in=names) | Q(id__in=names)))
        known = {dataset.slug for dataset in found} | {dataset.id for dataset in found}
        missing = [name for name in dict.fromkeys(names) if name not in known]
        if missing:
            self.add_error(
                "other_datasets",
                ngettext(
                    "No dataset you can see is called %(names)s.",
                    "No datasets you can see are called %(names)s.",
                    len(missing),
                )
                % {"names": ", ".join(missing)},
            )
            return None
        return found
