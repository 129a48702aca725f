"""The typed inputs of a submission's writes (marketplace.submissions.inputs, uploads.parse_start,
lineage.parent_refs): the API's JSON and the pages' forms are held to the same checks, with the
same messages, each keyed by its own names."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from marketplace.models import Submission
from marketplace.submissions import inputs, uploads
from marketplace.submissions.forms import DatasheetForm, ShareFormSet, shares_in
from marketplace.submissions.inputs import DatasheetChanges, Share
from provenance.lineage import ParentRef, parent_refs
from tests import factories


def refusal(check: object, *args: object, **kwargs: object) -> ValidationError:
    assert callable(check)
    with pytest.raises(ValidationError) as raised:
        check(*args, **kwargs)
    return raised.value


def test_the_one_map_names_every_datasheet_field_of_the_form_and_the_model() -> None:
    assert set(inputs.MODEL_FIELD) == {*inputs.TEXTS, *inputs.FLAGS, *inputs.SPECIAL}
    assert len(inputs.CONTRACT_NAME) == len(inputs.MODEL_FIELD)  # no two names for one field
    submission_fields = {field.name for field in Submission._meta.get_fields()}
    assert set(inputs.CONTRACT_NAME) <= submission_fields
    # The license's one choice, the price in US dollars, the changelog of a new version, the
    # record-id and contributor-id columns (none in the MDC datasheet).
    assert set(DatasheetForm.base_fields) - set(inputs.CONTRACT_NAME) == {
        "license_choice",
        "price",  # in US dollars; the model keeps base_price_cents
        "changelog",
        "record_id_column",
        "contributor_id_column",
    }


def test_changes_are_checked_by_model_field_and_answered_by_the_contracts_names() -> None:
    by_field = refusal(
        DatasheetChanges.of,
        {"point_of_contact_email": "ann", "base_price_cents": 50, "license_abbreviation": 7, "is_paid": "yes"},
    )
    assert by_field.message_dict == {
        "point_of_contact_email": ["'ann' is not an email address"],
        "is_paid": ["must be true or false"],
        "license_abbreviation": ['must be an SPDX id, the name of custom terms, or "" to clear it'],
        "base_price_cents": ["must be between 10000 and 5000000 cents"],
    }
    by_name = refusal(
        DatasheetChanges.from_json,
        {"pointOfContactEmail": "ann", "basePriceCents": 50, "licenseAbbreviation": 7, "isPaid": "yes", "color": 1},
    )
    assert by_name.message_dict == {
        "fields": ["Unknown field(s): color."],
        "pointOfContactEmail": ["'ann' is not an email address"],
        "isPaid": ["must be true or false"],
        "licenseAbbreviation": ['must be an SPDX id, the name of custom terms, or "" to clear it'],
        "basePriceCents": ["must be between 10000 and 5000000 cents"],
    }


def test_null_clears_what_the_platform_lets_clear_and_a_blank_text_clears_the_rest() -> None:
    changes = DatasheetChanges.from_json(
        {"shortDescription": None, "exclusivityOptOut": None, "basePriceCents": None, "locale": "  ", "task": ""}
    )
    assert changes.values == {
        "short_description": "",
        "exclusivity_opt_out": False,
        "locale": "",
        "task": "",
        "base_price_cents": None,
    }
    refused = refusal(DatasheetChanges.from_json, {"name": None, "locale": None, "currency": "eur"})
    assert refused.message_dict == {
        "name": ["cannot be null"],
        "locale": ['cannot be null: send a string, or "" to clear it'],
        "currency": ["only 'usd' is supported (or null)"],
    }


@pytest.mark.django_db
def test_the_datasheet_form_builds_the_changes_and_shows_their_errors_on_its_own_fields() -> None:
    factories.license_for("CC-BY-4.0")
    form = {"name": " Valley speech ", "visibility": "public", "license_choice": "CC-BY-4.0", "task": ""}
    valid = DatasheetForm(form)
    assert valid.is_valid(), valid.errors
    assert valid.changes.values["name"] == "Valley speech"
    assert valid.changes.values["license_abbreviation"] == "CC-BY-4.0"
    assert (valid.changes.values["license_name"], valid.changes.values["license_text"]) == ("", "")
    assert "task" not in valid.changes.values and "base_price_cents" not in valid.changes.values

    custom = {"license_choice": "__custom__", "license_name": "The Valley Speech Terms of 2025", "license_text": "t"}
    refused = DatasheetForm(
        {**form, **custom, "license_url": "ftp://example.org/terms", "long_description": "x" * 7501}
    )
    assert not refused.is_valid()
    assert refused.errors == {
        "license_url": ["'ftp://example.org/terms' is not an http(s) URL"],  # the form alone allows ftp
        "long_description": ["is longer than 7500 characters"],
        "license_choice": ["is longer than 25 characters"],  # the custom terms' name is their abbreviation
    }


@pytest.mark.django_db
def test_a_split_reads_the_same_from_json_and_from_the_pages_rows() -> None:
    lines = [
        {"username": "ann", "basisPoints": 6000},
        {"name": " Valley Choir ", "email": "choir@example.org", "basisPoints": 4000},
    ]
    assert inputs.shares_from_json({"contributors": lines}) == [
        Share(basis_points=6000, username="ann"),
        Share(basis_points=4000, name="Valley Choir", email="choir@example.org"),
    ]
    bad = {"contributors": [{"name": "Choir", "email": "", "basisPoints": 0}, {"basisPoints": 1}, "x"]}
    expected = (
        "The split was not changed: contributor 1: basisPoints must be a whole number from 1 to 10000; "
        "contributor 1: '' is not an email address; contributor 2: give a username, or a name and an email; "
        "contributor 3: not an object."
    )
    assert refusal(inputs.shares_from_json, bad).messages == [expected]
    assert refusal(inputs.shares_from_json, {"contributors": []}).messages == [
        "List at least one contributor with basisPoints."
    ]

    # The page's rows are in percent and say what is wrong in the person's words, beside the row.
    rows = {"shares-TOTAL_FORMS": "4", "shares-INITIAL_FORMS": "0"}
    rows |= {"shares-0-name": "Choir", "shares-1-share": "0.01"}  # row 3 is blank: not counted
    rows |= {"shares-3-username": "ann", "shares-3-share": "100"}
    formset = ShareFormSet(rows, prefix="shares")
    translation.activate("en")  # the page's messages, in English
    assert not formset.is_valid()
    assert formset.errors[0] == {
        "share": ["Give this contributor's share in percent, e.g. 25 or 12.5."],
        "username": ["Give a username of this site, or a payee's name and email."],
    }
    assert formset.errors[1] == {"username": ["Give a username of this site, or a payee's name and email."]}
    assert "basisPoints" not in str(formset.errors)

    split = {"shares-TOTAL_FORMS": "3", "shares-INITIAL_FORMS": "0"}
    split |= {"shares-0-username": "ann", "shares-0-share": "60", "shares-2-username": "bo", "shares-2-share": "39.99"}
    uneven = ShareFormSet(split, prefix="shares")
    assert not uneven.is_valid()
    assert uneven.non_form_errors() == ["The shares add up to 99.99 %; they must add up to exactly 100 %."]
    even = ShareFormSet(split | {"shares-2-share": "40"}, prefix="shares")
    assert even.is_valid(), even.errors
    assert shares_in(even) == [Share(basis_points=6000, username="ann"), Share(basis_points=4000, username="bo")]


def test_an_upload_start_and_parents_are_read_with_the_platforms_messages() -> None:
    start = {"filename": " speech.tar.gz ", "fileSize": 10, "mimeType": "application/gzip"}
    assert uploads.parse_start(start, kind="archive") == uploads.UploadStart("speech.tar.gz", 10, "application/gzip")
    refused = refusal(uploads.parse_start, {"filename": "a.zip", "fileSize": True, "mimeType": None}, kind="sample")
    assert refused.message_dict == {
        "filename": ["must be a bare file name ending in .tar.gz or .tgz"],
        "fileSize": ["must be a whole number of bytes above 0"],
        "mimeType": ["must be application/gzip, application/x-gzip, application/tar or application/x-tar, not None"],
    }

    assert parent_refs([{"dataset": "valley-speech", "version": 2}]) == [ParentRef("valley-speech", 2)]
    assert refusal(parent_refs, [{"dataset": "a", "version": 1}, {"dataset": "b", "version": "2"}]).messages == [
        "parent 2: give {\"dataset\": id or slug, \"version\": n}, not {'dataset': 'b', 'version': '2'}."
    ]
    assert refusal(parent_refs, "valley").messages == [
        'parents must be a list of {"dataset": id or slug, "version": n}.'
    ]
