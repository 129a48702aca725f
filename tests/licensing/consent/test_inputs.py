"""Consent terms read once: the API's camelCase JSON and the page's form make the same typed value,
and the checks across fields answer each in its own names."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from licensing.consent.inputs import CONTRACT_NAME, ConsentTermsInput
from marketplace.submissions.forms import ConsentForm

JSON = {
    "aiTraining": True, "commercialUse": False, "researchOnly": True, "redistribution": False,
    "derivatives": False,
    "scope": "speech only", "consentText": "I agree.\n", "withdrawalProcess": "Write to us.",
    "collectionStart": "2025-01-01", "collectionEnd": "2025-03-01",
}  # fmt: skip


def test_json_and_form_make_the_same_terms() -> None:
    form = ConsentForm(
        {
            "ai_training": "on",
            "research_only": "on",
            "scope": "speech only",
            "consent_text": "I agree.\r\n",
            "withdrawal_process": "Write to us.",
            "collection_start": "2025-01-01",
            "collection_end": "2025-03-01",
        }  # fmt: skip
    )
    assert form.is_valid(), form.errors
    assert form.terms() == ConsentTermsInput.from_json(JSON)
    assert form.terms().consent_text == "I agree.\n"  # the browser's CRLF is not what contributors saw


def test_every_problem_of_the_json_is_named_at_once_in_the_contract_names() -> None:
    bad = {**JSON, "aiTraining": "yes", "consentText": " ", "collectionStart": "2024-13-01", "extra": 1}
    with pytest.raises(ValidationError) as refused:
        ConsentTermsInput.from_json(bad)
    assert refused.value.message_dict == {
        "aiTraining": ["must be true or false"],
        "consentText": ["must be a non-empty string"],
        "collectionStart": ["must be a date as YYYY-MM-DD"],
        "fields": ["Unknown field(s): extra."],
    }


def test_checks_across_fields_speak_the_contract_to_the_api_and_model_fields_to_the_page() -> None:
    crossed = {**JSON, "commercialUse": True, "collectionEnd": "2024-12-31"}
    with pytest.raises(ValidationError) as refused:
        ConsentTermsInput.from_json(crossed)
    assert refused.value.message_dict == {
        "collectionEnd": ["is before collectionStart"],
        "researchOnly": ["research-only consent cannot allow commercial use"],
    }
    terms = ConsentTermsInput(
        ai_training=False, commercial_use=True, research_only=True, redistribution=False, derivatives=True,
        consent_text="x",
        withdrawal_process="y", collection_start=date(2025, 2, 1), collection_end=date(2025, 1, 1),
    )  # fmt: skip
    assert terms.problems() == {
        "collection_end": "is before collectionStart",
        "research_only": "research-only consent cannot allow commercial use",
    }
    assert set(terms.problems()) <= set(CONTRACT_NAME) <= set(ConsentForm.base_fields)


def test_derivatives_is_required_like_the_other_flags() -> None:
    without = {key: value for key, value in JSON.items() if key != "derivatives"}
    with pytest.raises(ValidationError) as refused:
        ConsentTermsInput.from_json(without)
    assert refused.value.message_dict == {"derivatives": ["must be true or false"]}
    assert ConsentTermsInput.from_json({**JSON, "derivatives": True}).derivatives is True
