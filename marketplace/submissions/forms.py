"""Forms of the submission pages. They parse and render, and build the typed values the services
take with the checks the API runs too (``inputs``; the consent terms' are licensing.consent's), so
that the browser and the SDK refuse the same things with the same messages."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from licensing.consent.inputs import ConsentTermsInput
from licensing.models import License
from licensing.revenue import amounts
from marketplace.catalog.references import dataset_key
from marketplace.models import Submission, Task, Visibility
from marketplace.submissions.inputs import (
    CHANGELOG_LIMIT,
    CONTRACT_NAME,
    MAX_PRICE_CENTS,
    MDC_TEXT_LIMITS,
    MIN_PRICE_CENTS,
    MODEL_FIELD,
    RECORD_ID_COLUMN_LIMIT,
    DatasheetChanges,
    Share,
    shares_from_rows,
)
from provenance.lineage import ParentRef

CUSTOM = "__custom__"
TEXTAREA = forms.Textarea(attrs={"rows": 3})


def license_choices() -> list[tuple[str, str]]:
    spdx = License.objects.filter(spdx_id__isnull=False).order_by("spdx_id").values_list("spdx_id", "name")
    return [("", _("Choose a license")), *[(str(i), f"{i}: {n}") for i, n in spdx], (CUSTOM, _("Custom terms"))]


class DatasheetForm(forms.Form):
    """Every field of the MDC datasheet, grouped as the page shows them."""

    # The platform's limits, which DatasheetChanges holds the API to as well. The fields are named
    # as the model's, except the license: one choice here gives its abbreviation, name and text.
    name = forms.CharField(label=gettext_lazy("Name"), max_length=MDC_TEXT_LIMITS["name"])
    short_description = forms.CharField(
        label=gettext_lazy("Short description"), max_length=MDC_TEXT_LIMITS["shortDescription"], required=False
    )
    long_description = forms.CharField(
        label=gettext_lazy("Long description"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=gettext_lazy("Markdown."),
    )
    locale = forms.CharField(
        label=gettext_lazy("Language (locale)"),
        max_length=MDC_TEXT_LIMITS["locale"],
        required=False,
        help_text=gettext_lazy("BCP 47 language tag, e.g. en-GB."),
    )
    task = forms.ChoiceField(
        label=gettext_lazy("Task"), choices=[("", gettext_lazy("Choose a task")), *Task.choices], required=False
    )
    format = forms.CharField(
        label=gettext_lazy("Format"),
        max_length=50,
        required=False,
        help_text=gettext_lazy("e.g. TSV, JSONL, Parquet, WAV."),
    )
    license_choice = forms.ChoiceField(label=gettext_lazy("License"), choices=(), required=False)
    license_name = forms.CharField(label=gettext_lazy("Name of the custom terms"), max_length=200, required=False)
    license_text = forms.CharField(
        label=gettext_lazy("Text of the custom terms"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=gettext_lazy("The exact terms licensees accept; stored with its SHA-256."),
    )
    license_url = forms.URLField(label=gettext_lazy("License URL"), required=False, assume_scheme="https")
    is_paid = forms.BooleanField(label=gettext_lazy("Paid dataset"), required=False)
    price = forms.DecimalField(
        label=gettext_lazy("Price (US dollars)"),
        required=False,
        max_digits=9,
        decimal_places=2,
    )
    visibility = forms.ChoiceField(label=gettext_lazy("Visibility"), choices=Visibility.choices)
    auto_approve_access_requests = forms.BooleanField(
        label=gettext_lazy("Approve access requests automatically"), required=False
    )
    intended_usage = forms.CharField(label=gettext_lazy("Intended usage"), required=False, widget=TEXTAREA)
    restrictions = forms.CharField(label=gettext_lazy("Restrictions"), required=False, widget=TEXTAREA)
    forbidden_usage = forms.CharField(label=gettext_lazy("Forbidden usage"), required=False, widget=TEXTAREA)
    additional_conditions = forms.CharField(
        label=gettext_lazy("Additional conditions"), required=False, widget=TEXTAREA
    )
    ethical_review_process = forms.CharField(
        label=gettext_lazy("Ethical review process"), required=False, widget=TEXTAREA
    )
    other = forms.CharField(label=gettext_lazy("Other information"), required=False, widget=TEXTAREA)
    point_of_contact_full_name = forms.CharField(
        label=gettext_lazy("Point of contact full name"), max_length=200, required=False
    )
    point_of_contact_email = forms.EmailField(label=gettext_lazy("Point of contact email"), required=False)
    created_by_full_name = forms.CharField(label=gettext_lazy("Created by full name"), max_length=200, required=False)
    created_by_email = forms.EmailField(label=gettext_lazy("Created by email"), required=False)
    funded_by_full_name = forms.CharField(label=gettext_lazy("Funded by full name"), max_length=200, required=False)
    funded_by_email = forms.EmailField(label=gettext_lazy("Funded by email"), required=False)
    legal_contact_full_name = forms.CharField(
        label=gettext_lazy("Legal contact full name"), max_length=200, required=False
    )
    legal_contact_email = forms.EmailField(label=gettext_lazy("Legal contact email"), required=False)
    show_contact_info = forms.BooleanField(
        label=gettext_lazy("Show the contacts on the dataset's page"), required=False
    )
    show_compliance_attributes = forms.BooleanField(
        label=gettext_lazy("Show the compliance attributes"), required=False
    )
    exclusivity_opt_out = forms.BooleanField(label=gettext_lazy("Opt out of exclusivity"), required=False)
    changelog = forms.CharField(
        label=gettext_lazy("What changed in this version"),
        max_length=CHANGELOG_LIMIT,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("Required to submit a new version; licensees read it in the dataset's version list."),
    )

    record_id_column = forms.CharField(
        label=gettext_lazy("Record-id column"),
        max_length=RECORD_ID_COLUMN_LIMIT,
        required=False,
        help_text=gettext_lazy(
            "The column of your index files (CSV, TSV, JSON Lines) that names each record, e.g. path or "
            "client_id. When a contributor withdraws consent, the next version leaves out the rows it names."
        ),
    )

    contributor_id_column = forms.CharField(
        label=gettext_lazy("Contributor-id column"),
        max_length=RECORD_ID_COLUMN_LIMIT,
        required=False,
        help_text=gettext_lazy(
            "The column holding each record's contributor id, as in your consent records, e.g. client_id. "
            "Contributors who withdraw themselves are found through it."
        ),
    )

    changes: DatasheetChanges  # once valid

    GROUPS = {
        gettext_lazy("This version"): ["changelog"],  # only for a new version of a published dataset
        gettext_lazy("About the data"): ["name", "short_description", "long_description", "locale", "task", "format",
                           "record_id_column", "contributor_id_column"],
        gettext_lazy("License"): ["license_choice", "license_name", "license_text", "license_url"],
        gettext_lazy("Pricing and access"): ["is_paid", "price", "visibility", "auto_approve_access_requests"],
        gettext_lazy("Use"): ["intended_usage", "restrictions", "forbidden_usage", "additional_conditions",
                "ethical_review_process", "other"],
        gettext_lazy("Contacts"): ["point_of_contact_full_name", "point_of_contact_email", "created_by_full_name",
                     "created_by_email", "funded_by_full_name", "funded_by_email", "legal_contact_full_name",
                     "legal_contact_email", "show_contact_info", "show_compliance_attributes",
                     "exclusivity_opt_out"],
    }  # fmt: skip

    def __init__(self, *args: Any, new_version: bool = False, **kwargs: Any) -> None:
        """``new_version``: the draft adds a version to a published dataset, so it has a changelog."""
        super().__init__(*args, **kwargs)
        if not new_version:
            del self.fields["changelog"]
        choice = self.fields["license_choice"]
        assert isinstance(choice, forms.ChoiceField)  # noqa: S101 (narrowing for mypy)
        choice.choices = license_choices()
        self.fields["price"].help_text = _("From %(low)s to %(high)s; licensees pay it plus the platform fee.") % {
            "low": amounts.amount(MIN_PRICE_CENTS, "usd"),
            "high": amounts.amount(MAX_PRICE_CENTS, "usd"),
        }

    @classmethod
    def initial_of(cls, submission: Submission) -> dict[str, Any]:
        initial = {name: getattr(submission, name) for name in cls.base_fields if hasattr(submission, name)}
        spdx = {value for value, _ in license_choices()} - {"", CUSTOM}
        abbreviation = submission.license_abbreviation
        initial["license_choice"] = abbreviation if abbreviation in spdx else (CUSTOM if abbreviation else "")
        initial["price"] = amounts.units_of(submission.base_price_cents)
        if initial["license_choice"] == CUSTOM:
            initial["license_name"] = submission.license_name or abbreviation
        else:  # an SPDX license's name and URL come from the instance's license, not from the form
            initial["license_name"] = initial["license_text"] = ""
        return initial

    def grouped(self) -> list[tuple[str, list[forms.BoundField]]]:
        return [
            (str(title), [self[name] for name in names if name in self.fields])
            for title, names in self.GROUPS.items()
            if any(name in self.fields for name in names)
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("license_choice") == CUSTOM:
            if not data.get("license_name"):
                self.add_error("license_name", _("Name the custom terms."))
            if not data.get("license_text"):
                self.add_error("license_text", _("Paste the exact text of the custom terms."))
        price: Decimal | None = data.get("price")
        if data.get("is_paid") and price is None:
            self.add_error("price", _("A paid dataset needs a price."))
        elif (
            data.get("is_paid")
            and price is not None
            and not MIN_PRICE_CENTS <= amounts.cents_of(price) <= MAX_PRICE_CENTS
        ):
            self.add_error(
                "price",
                _("Set a price from %(low)s to %(high)s.")
                % {"low": amounts.amount(MIN_PRICE_CENTS, "usd"), "high": amounts.amount(MAX_PRICE_CENTS, "usd")},
            )
        if not self.errors:
            try:
                self.changes = DatasheetChanges.of(self._values(data))
            except ValidationError as exc:
                self.show_errors(exc)
        return data

    def _values(self, data: dict[str, Any]) -> dict[str, Any]:
        """The datasheet's fields as the form gives them. A blank task and a price left out leave
        the stored ones; a blank text clears it."""
        values = {field: data[field] for field in CONTRACT_NAME if field in self.fields and field in data}
        if "changelog" in self.fields:
            values["changelog"] = browser_text(data.get("changelog") or "")
        values["record_id_column"] = browser_text(data.get("record_id_column") or "")
        values["contributor_id_column"] = browser_text(data.get("contributor_id_column") or "")
        values.pop("license_name", None)
        values.pop("license_text", None)
        if values.get("task") == "":
            del values["task"]
        if data.get("price") is not None and data.get("is_paid"):
            values["base_price_cents"] = amounts.cents_of(data["price"])
        choice = data.get("license_choice") or ""
        if choice == CUSTOM:
            values["license_abbreviation"] = data["license_name"][:100]
            values["license_name"] = data["license_name"]
            values["license_text"] = browser_text(data["license_text"])
        else:  # an SPDX license's name and URL come from the instance's license
            values["license_abbreviation"] = choice
            values["license_name"] = values["license_text"] = ""
        return values

    def show_errors(self, exc: ValidationError) -> None:
        """Errors beside their fields: keyed by model field (DatasheetChanges) or by the contract's
        name (update_submission's), the license's abbreviation beside the license chosen; the rest
        above the form."""
        if not hasattr(exc, "error_dict"):
            for message in exc.messages:
                self.add_error(None, message)
            return
        for key, messages in exc.message_dict.items():
            field = MODEL_FIELD.get(key, key)
            field = {"license_abbreviation": "license_choice", "base_price_cents": "price"}.get(field, field)
            for message in messages:
                self.add_error(field if field in self.fields else None, message)


def browser_text(value: str) -> str:
    """A textarea's value as typed: HTML form encoding turns every line break into CRLF, which
    would change the SHA-256 of a text pasted with LF line breaks."""
    return value.replace("\r\n", "\n")


class ConsentForm(forms.Form):
    ai_training = forms.BooleanField(label=gettext_lazy("AI training"), required=False)
    commercial_use = forms.BooleanField(label=gettext_lazy("Commercial use"), required=False)
    research_only = forms.BooleanField(label=gettext_lazy("Research only"), required=False)
    redistribution = forms.BooleanField(label=gettext_lazy("Redistribution"), required=False)
    derivatives = forms.BooleanField(label=gettext_lazy("Derivatives (edited or adapted works)"), required=False)
    scope = forms.CharField(
        label=gettext_lazy("Scope, in words"),
        required=False,
        widget=TEXTAREA,
        help_text=gettext_lazy("Anything the flags do not say."),
    )
    consent_text = forms.CharField(
        label=gettext_lazy("The exact consent text contributors saw"),
        strip=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=gettext_lazy("Stored exactly as given, with its SHA-256; consent records cite that hash."),
    )
    collection_start = forms.DateField(
        label=gettext_lazy("Collection start"), widget=forms.DateInput(attrs={"type": "date"})
    )
    collection_end = forms.DateField(
        label=gettext_lazy("Collection end"), widget=forms.DateInput(attrs={"type": "date"})
    )
    withdrawal_process = forms.CharField(label=gettext_lazy("How a contributor withdraws"), widget=TEXTAREA)

    def terms(self) -> ConsentTermsInput:
        data = self.cleaned_data
        return ConsentTermsInput(
            ai_training=data["ai_training"],
            commercial_use=data["commercial_use"],
            research_only=data["research_only"],
            redistribution=data["redistribution"],
            derivatives=data["derivatives"],
            scope=browser_text(data["scope"]),
            consent_text=browser_text(data["consent_text"]),
            collection_start=data["collection_start"],
            collection_end=data["collection_end"],
            withdrawal_process=browser_text(data["withdrawal_process"]),
        )


class ConsentRecordsForm(forms.Form):
    records = forms.FileField(
        label=gettext_lazy("Consent records (CSV)"),
        help_text=gettext_lazy(
            "One line per contributor under a first line naming the columns contributor_id and given_at: the "
            "pseudonymous id your organization keeps (never a name or an email) and the day they consented "
            "(2024-05-31, or a time with its zone, 2024-05-31T14:30:00Z). Optional columns: scope, and "
            "terms_sha256 (if given, it must be the hash shown above)."
        ),
    )


class ShareForm(forms.Form):
    """One contributor's share of the revenue, in percent (the ledger keeps basis points)."""

    username = forms.CharField(required=False, label=gettext_lazy("User"))
    name = forms.CharField(required=False, max_length=200, label=gettext_lazy("Or payee name"))
    email = forms.EmailField(required=False, label=gettext_lazy("Payee email"))
    share = forms.DecimalField(
        required=False,
        min_value=Decimal("0.01"),
        max_value=Decimal(100),
        max_digits=5,
        decimal_places=2,
        label=gettext_lazy("Share (%)"),
    )

    def is_blank(self) -> bool:
        data = self.cleaned_data
        return not any(data.get(key) for key in ("username", "name", "email", "share"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors or self.is_blank():
            return data
        if data.get("share") is None:
            self.add_error("share", _("Give this contributor's share in percent, e.g. 25 or 12.5."))
        if not data.get("username") and not (data.get("name") and data.get("email")):
            self.add_error("username", _("Give a username of this site, or a payee's name and email."))
        return data


class BaseShareFormSet(forms.BaseFormSet):
    def clean(self) -> None:
        if any(self.errors):
            return
        filled = [form.cleaned_data for form in self.forms if form.cleaned_data and not form.is_blank()]
        if not filled:
            raise ValidationError(_("Name at least one contributor and their share."))
        total = sum(amounts.basis_points_of(row["share"]) for row in filled)
        if total != 100 * amounts.BASIS_POINTS_PER_PERCENT:
            raise ValidationError(
                _("The shares add up to %(total)s; they must add up to exactly 100 %%.")
                % {"total": amounts.percent(total)}
            )


ShareFormSet = forms.formset_factory(ShareForm, formset=BaseShareFormSet, extra=3, max_num=100)


def shares_in(formset: forms.BaseFormSet[ShareForm]) -> list[Share]:
    """The split a valid formset's filled-in rows give (a position counts those rows only)."""
    rows = [
        {**form.cleaned_data, "basis_points": amounts.basis_points_of(form.cleaned_data["share"])}
        for form in formset
        if not form.is_blank()
    ]
    return shares_from_rows(rows)


def initial_shares(submission: Submission) -> list[dict[str, Any]]:
    return [
        {
            "username": share.user.username if share.user else "",
            "name": share.payee_name,
            "email": share.payee_email,
            "share": amounts.percentage_of(share.basis_points),
        }
        for share in submission.revenue_shares.select_related("user")
    ]


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason for rejecting"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("The contributor reads this."),
    )


# "valley-speech 2", "valley-speech v2", "https://host/datasets/valley-speech/, version 2"
_PARENT_LINE = re.compile(r"^(?P<ref>\S+?)[\s,;]+(?:v(?:ersion)?\s*)?(?P<number>\d+)$", re.IGNORECASE)
MAX_PARENTS = 50


class ParentsForm(forms.Form):
    """The published versions a submission derives from, one per line: the dataset's page address,
    slug or id, then the version number. ``cleaned_data["parents"]`` is a list of ParentRef."""

    parents = forms.CharField(
        label=gettext_lazy("Derived from (one dataset version per line)"),
        help_text=gettext_lazy(
            "The dataset's page address, slug or id, then its version: “valley-speech 2” or "
            "“https://example.org/datasets/valley-speech/ v2”. Leave empty when it derives from no published dataset."
        ),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=10_000,
    )

    def clean_parents(self) -> list[ParentRef]:
        lines = [line.strip() for line in self.cleaned_data["parents"].splitlines()]
        lines = [line for line in lines if line]
        if len(lines) > MAX_PARENTS:
            raise ValidationError(_("Name at most %(n)s parents.") % {"n": MAX_PARENTS})
        refs, problems = [], []
        for position, line in enumerate(lines, start=1):
            found = _PARENT_LINE.match(line)
            if found is None:
                problems.append(
                    _("Line %(n)s (“%(line)s”): give the dataset, then the version number, e.g. “valley-speech 2”.")
                    % {"n": position, "line": line[:80]}
                )
                continue
            refs.append(ParentRef(dataset=dataset_key(found.group("ref")), version=int(found.group("number"))))
        if problems:
            raise ValidationError(problems)
        return refs

    @staticmethod
    def initial_of(submission: Submission) -> dict[str, str]:
        versions = submission.parents.select_related("dataset").order_by("dataset__slug", "number")
        return {"parents": "\n".join(f"{version.dataset.slug} {version.number}" for version in versions)}
