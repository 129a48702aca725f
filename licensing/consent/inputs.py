"""Consent terms as a write takes them: one typed value, read from the API's JSON (the contract's
camelCase) or built from the page's form, and the one map between the two kinds of names.

The checks a single field needs are made where the input is read (each reader in the words of its
people: the API names camelCase fields, the form puts its errors beside its own fields); the checks
across fields (`problems`) are the same for both.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from licensing.models import ConsentTerms

# The model's field -> the contract's camelCase name, for every field of the terms.
CONTRACT_NAME = {
    "ai_training": "aiTraining",
    "commercial_use": "commercialUse",
    "research_only": "researchOnly",
    "redistribution": "redistribution",
    "derivatives": "derivatives",
    "consent_text": "consentText",
    "withdrawal_process": "withdrawalProcess",
    "scope": "scope",
    "collection_start": "collectionStart",
    "collection_end": "collectionEnd",
}
FLAGS = ("ai_training", "commercial_use", "research_only", "redistribution", "derivatives")
TEXTS = ("consent_text", "withdrawal_process")  # the exact text, as contributors saw it: not trimmed
DATES = ("collection_start", "collection_end")


@dataclass(frozen=True)
class ConsentTermsInput:
    ai_training: bool
    commercial_use: bool
    research_only: bool
    redistribution: bool
    derivatives: bool
    consent_text: str
    withdrawal_process: str
    collection_start: date
    collection_end: date
    scope: str = ""

    def problems(self) -> dict[str, str]:
        """What is wrong across fields, keyed by model field."""
        return _across_fields(vars(self))

    @classmethod
    def of(cls, terms: ConsentTerms) -> ConsentTermsInput:
        """The input that recorded ``terms``, to record the same terms again (a new version's draft)."""
        return cls(**{field: getattr(terms, "scope_text" if field == "scope" else field) for field in CONTRACT_NAME})

    @classmethod
    def from_json(cls, payload: object) -> ConsentTermsInput:
        """The body of ``PUT /api/v1/submissions/{id}/consent``; every problem at once, under the
        contract's names."""
        if not isinstance(payload, dict):
            raise ValidationError(_("The body must be a JSON object."))
        errors: dict[str, list[str]] = {}
        values: dict[str, object] = {}
        for field in FLAGS:
            value = payload.get(CONTRACT_NAME[field])
            if isinstance(value, bool):
                values[field] = value
            else:
                errors[CONTRACT_NAME[field]] = ["must be true or false"]
        for field in TEXTS:
            value = payload.get(CONTRACT_NAME[field])
            if isinstance(value, str) and value.strip():
                values[field] = value
            else:
                errors[CONTRACT_NAME[field]] = ["must be a non-empty string"]
        scope = payload.get("scope", "")
        if isinstance(scope, str):
            values["scope"] = scope
        else:
            errors["scope"] = ["must be a string"]
        for field in DATES:
            parsed = _date(payload.get(CONTRACT_NAME[field]))
            if parsed is None:
                errors[CONTRACT_NAME[field]] = ["must be a date as YYYY-MM-DD"]
            else:
                values[field] = parsed
        errors.update({CONTRACT_NAME[field]: [message] for field, message in _across_fields(values).items()})
        unknown = sorted(set(payload) - set(CONTRACT_NAME.values()))
        if unknown:
            errors["fields"] = [f"Unknown field(s): {', '.join(unknown)}."]
        if errors:
            raise ValidationError(errors)
        return cls(**values)  # type: ignore[arg-type]  # each value's type was checked above


def _across_fields(values: Mapping[str, object]) -> dict[str, str]:
    """The checks across fields, on what was read so far (a field that failed its own check is absent)."""
    found: dict[str, str] = {}
    start, end = values.get("collection_start"), values.get("collection_end")
    if isinstance(start, date) and isinstance(end, date) and end < start:
        found["collection_end"] = "is before collectionStart"
    if values.get("research_only") is True and values.get("commercial_use") is True:
        found["research_only"] = "research-only consent cannot allow commercial use"
    return found


def _date(raw: object) -> date | None:
    """A YYYY-MM-DD date, or None; Django's parser raises on well-formed impossible ones (2024-13-01)."""
    try:
        return parse_date(raw) if isinstance(raw, str) else None
    except ValueError:
        return None
