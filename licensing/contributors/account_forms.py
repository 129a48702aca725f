"""The forms of a person's own account pages: where to pay them, and deleting the account."""

from __future__ import annotations

from django import forms

from licensing.contributors.payouts import PayoutDetailsInput
from licensing.models import PayoutDetails


class PayoutDetailsForm(forms.Form):
    method = forms.ChoiceField(label="How to pay you", choices=PayoutDetails.Method.choices)
    account_holder = forms.CharField(
        label="Account holder", max_length=200, help_text="The name the account is held in."
    )
    account = forms.CharField(
        label="Account",
        max_length=200,
        help_text="For a bank transfer, your IBAN (or account number); for PayPal, its email address.",
    )
    bank_name = forms.CharField(label="Bank (for a bank transfer)", max_length=200, required=False)
    notes = forms.CharField(
        label="Notes",
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Anything we need to know: a BIC/SWIFT code, a reference to quote, or how to pay you "
        "when you chose Other.",
    )

    def details(self) -> PayoutDetailsInput:
        data = self.cleaned_data
        return PayoutDetailsInput(
            method=data["method"],
            account_holder=data["account_holder"],
            account=data["account"],
            bank_name=data.get("bank_name", ""),
            notes=data.get("notes", ""),
        )

    @classmethod
    def initial_of(cls, details: PayoutDetails | None) -> dict[str, str]:
        if details is None:
            return {}
        return {
            "method": details.method,
            "account_holder": details.account_holder,
            "account": details.account,
            "bank_name": details.bank_name,
            "notes": details.notes,
        }


class DeleteAccountForm(forms.Form):
    password = forms.CharField(
        label="Your password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    confirm = forms.BooleanField(
        label="I understand that my account is deleted for good and cannot be restored.",
        error_messages={"required": "Tick the box to confirm that you want your account deleted."},
    )
