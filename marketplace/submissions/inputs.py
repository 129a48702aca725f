"""What the writes of a submission take, as typed values, and the one map of its datasheet.

The API reads the MDC contract's camelCase JSON into these values (``../shared/mdc-sdk-contract.md``,
E7-E9 and the split); the pages' forms build them from their cleaned data. Either way the checks run
here, with the same messages, before a service is called: services take these values, never a
payload.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.utils.translation import gettext as _

from marketplace.models import RevenueShare, Submission, Task, Visibility
from marketplace.submissions.rules import text_limit

# The datasheet as the MDC contract names it (camelCase) -> the Submission field that holds it: the
# one map of the resource. The API reads and answers through it, the OpenAPI shapes describe it, and
# the pages find the field of an error with it.
MODEL_FIELD = {
    "name": "name",
    "shortDescription": "short_description",
    "longDescription": "long_description",
    "locale": "locale",
    "format": "format",
    "license": "license_name",
    "licenseUrl": "license_url",
    "other": "other",
    "restrictions": "restrictions",
    "forbiddenUsage": "forbidden_usage",
    "additionalConditions": "additional_conditions",
    "pointOfContactFullName": "point_of_contact_full_name",
    "pointOfContactEmail": "point_of_contact_email",
    "fundedByFullName": "funded_by_full_name",
    "fundedByEmail": "funded_by_email",
    "legalContactFullName": "legal_contact_full_name",
    "legalContactEmail": "legal_contact_email",
    "createdByFullName": "created_by_full_name",
    "createdByEmail": "created_by_email",
    "intendedUsage": "intended_usage",
    "ethicalReviewProcess": "ethical_review_process",
    # Not in the MDC contract: the exact text of custom terms (an SPDX id needs none).
    "licenseText": "license_text",
    "showContactInfo": "show_contact_info",
    "showComplianceAttributes": "show_compliance_attributes",
    "exclusivityOptOut": "exclusivity_opt_out",
    "autoApproveAccessRequests": "auto_approve_access_requests",
    "isPaid": "is_paid",
    "task": "task",
    "licenseAbbreviation": "license_abbreviation",
    "visibility": "visibility",
    "basePriceCents": "base_price_cents",
    "currency": "currency",
}

# The same map read the other way: model field -> the contract's name.
CONTRACT_NAME = {field: camel for camel, field in MODEL_FIELD.items()}

FLAGS = ("showContactInfo", "showComplianceAttributes", "exclusivityOptOut", "autoApproveAccessRequests", "isPaid")

# Fields with a check of their own, run after the texts' and the flags' and in this order.
SPECIAL = ("task", "visibility", "licenseAbbreviation", "basePriceCents", "currency")

TEXTS = tuple(camel for camel in MODEL_FIELD if camel not in FLAGS and camel not in SPECIAL)

EMAILS = {"pointOfContactEmail", "fundedByEmail", "legalContactEmail", "createdByEmail"}

# The MDC platform's length limits (UpdateSubmissionRequest, CreateSubmissionRequest in
# ../shared/mdc-openapi.json). A text the platform bounds more tightly than our column is held to
# the platform's limit, so a datasheet written here is one the platform accepts; where the platform
# sets none, or a looser one, the column's limit applies (effective_text_limit takes the smaller).
MDC_TEXT_LIMITS = {
    "name": 255, "shortDescription": 160, "longDescription": 7500, "locale": 20, "format": 50,
    "licenseAbbreviation": 25, "license": 1000, "restrictions": 7500, "forbiddenUsage": 7500,
    "other": 25_000, "additionalConditions": 7500, "intendedUsage": 7500, "ethicalReviewProcess": 7500,
}  # fmt: skip

# Fields the platform lets a client set to null, which clears them (its `type: [..., "null"]`).
# Every other text but the name may be cleared with "" instead; null there is refused.
NULLABLE = {
    "shortDescription", "licenseUrl", "other", "additionalConditions", "fundedByFullName", "fundedByEmail",
    "legalContactFullName", "legalContactEmail", "createdByFullName", "createdByEmail", "intendedUsage",
    "ethicalReviewProcess", "exclusivityOptOut", "basePriceCents", "currency", "licenseText",
}  # fmt: skip

# The price range the platform accepts (MDC platform OpenAPI): $100 to $50,000.
MIN_PRICE_CENTS, MAX_PRICE_CENTS = 10_000, 5_000_000


def effective_text_limit(camel: str) -> int | None:
    """The length limit of a datasheet text: the platform's or the column's, whichever is smaller."""
    limits = [limit for limit in (MDC_TEXT_LIMITS.get(camel), text_limit(Submission, MODEL_FIELD[camel])) if limit]
    return min(limits) if limits else None


def _in_contract_names(exc: ValidationError) -> dict[str, list[str]]:
    """The errors of a check keyed by model field, keyed by the contract's names instead."""
    return {CONTRACT_NAME.get(field, field): messages for field, messages in exc.message_dict.items()}


class _Refused(Exception):
    """One field's problem, in words that follow its name."""


def _text(camel: str, value: object) -> str:
    """A datasheet text as stored ("" when cleared)."""
    if value is None:
        if camel in NULLABLE:
            return ""
        raise _Refused('cannot be null: send a string, or "" to clear it' if camel != "name" else "cannot be null")
    if not isinstance(value, str):
        raise _Refused(_("must be a string"))
    value = value.strip()
    if not value:
        if camel == "name":
            raise _Refused(_("must be a non-empty string"))
        return ""
    limit = effective_text_limit(camel)
    if limit is not None and len(value) > limit:
        raise _Refused(_("is longer than %(limit)s characters") % {"limit": limit})
    if camel in EMAILS:
        try:
            EmailValidator()(value)
        except ValidationError:
            raise _Refused(_("%(value)s is not an email address") % {"value": repr(value)}) from None
    if camel == "licenseUrl":
        try:
            URLValidator(schemes=["http", "https"])(value)
        except ValidationError:
            raise _Refused(_("%(value)s is not an http(s) URL") % {"value": repr(value)}) from None
    return value


def _flag(camel: str, value: object) -> bool:
    if value is None and camel in NULLABLE:
        return False  # null clears the opt-out
    if not isinstance(value, bool):
        raise _Refused(_("must be true or false"))
    return value


def _task(value: object) -> str:
    if value == "":
        return ""
    if value not in Task.values:
        raise _Refused(_('must be one of %(items)s, or "" to clear it') % {"items": ", ".join(Task.values)})
    return str(value)


def _visibility(value: object) -> str:
    if value not in Visibility.values:
        raise _Refused(_("must be one of %(items)s") % {"items": ", ".join(Visibility.values)})
    return str(value)


def _license_abbreviation(value: object) -> str:
    limit = MDC_TEXT_LIMITS["licenseAbbreviation"]
    if not isinstance(value, str):
        raise _Refused(_('must be an SPDX id, the name of custom terms, or "" to clear it'))
    if len(value.strip()) > limit:
        raise _Refused(_("is longer than %(limit)s characters") % {"limit": limit})
    return value.strip()


def _price(value: object) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise _Refused(_("must be a whole number of cents, or null"))
    if not MIN_PRICE_CENTS <= value <= MAX_PRICE_CENTS:
        raise _Refused(
            _("must be between %(min_price_cents)s and %(max_price_cents)s cents")
            % {"min_price_cents": MIN_PRICE_CENTS, "max_price_cents": MAX_PRICE_CENTS}
        )
    return value


def _currency(value: object) -> str:
    # null is what the platform sends for a free dataset; 'usd' is the one currency either way.
    if value not in ("usd", None):
        raise _Refused(_("only 'usd' is supported (or null)"))
    return "usd"


_SPECIAL_CHECKS = {
    "task": _task,
    "visibility": _visibility,
    "licenseAbbreviation": _license_abbreviation,
    "basePriceCents": _price,
    "currency": _currency,
}


# The changelog of a version: as long as the platform's other long texts.
CHANGELOG_LIMIT = 7500


def changelog_text(value: object) -> str:
    """What changed in a version, as stored ("" clears it)."""
    if not isinstance(value, str):
        raise ValidationError({"changelog": ["must be a string: say what changed in this version"]})
    if len(value.strip()) > CHANGELOG_LIMIT:
        raise ValidationError({"changelog": [f"is longer than {CHANGELOG_LIMIT} characters"]})
    return value.strip().replace("\r\n", "\n")


def changelog_from_json(payload: object) -> str:
    """The body of ``PUT /api/v1/submissions/{id}/changelog``: exactly ``{"changelog": str}``."""
    if not isinstance(payload, dict) or set(payload) != {"changelog"}:
        raise ValidationError(_('Setting the changelog takes exactly {"changelog": "what changed in this version"}.'))
    return changelog_text(payload["changelog"])


# The column of index files that names a record: a header cell, so one line and no control characters.
RECORD_ID_COLUMN_LIMIT = 100


def record_id_column_text(value: object, key: str = "recordIdColumn") -> str:
    """A column's name as stored ("" clears it); problems are keyed by ``key``, the body's name."""
    if not isinstance(value, str):
        raise ValidationError({key: ["must be a string: the name of a column of the index files"]})
    name = value.strip()
    if len(name) > RECORD_ID_COLUMN_LIMIT:
        raise ValidationError({key: [f"is longer than {RECORD_ID_COLUMN_LIMIT} characters"]})
    if any(ord(character) < 32 or ord(character) == 127 for character in name):
        raise ValidationError({key: ["must be one line: a column name as the header of the files spells it"]})
    return name


COLUMN_KEYS = {"recordIdColumn": "record_id_column", "contributorIdColumn": "contributor_id_column"}


def record_columns_from_json(payload: object) -> dict[str, str]:
    """The body of ``PUT /api/v1/submissions/{id}/record-id-column``: ``{"recordIdColumn": str}``,
    ``{"contributorIdColumn": str}`` or both; by model field."""
    if not isinstance(payload, dict) or not payload or not set(payload) <= set(COLUMN_KEYS):
        raise ValidationError(
            _(
                'Setting the index files\' columns takes {"recordIdColumn": "the column naming '
                'each record"} and/or {"contributorIdColumn": "the column holding each record\'s '
                'contributor id"}, and nothing else.'
            )
        )
    errors: dict[str, list[str]] = {}
    columns: dict[str, str] = {}
    for key, value in payload.items():
        try:
            columns[COLUMN_KEYS[key]] = record_id_column_text(value, key)
        except ValidationError as exc:
            errors |= exc.message_dict
    if errors:
        raise ValidationError(errors)
    return columns


@dataclass(frozen=True)
class DatasheetChanges:
    """Datasheet fields to change, by model field, each holding a value of its type: a text ("" clears
    it), a flag, the task, the visibility, the license's abbreviation, the price in cents (None
    clears it) or the currency. Made by ``of`` or ``from_json``, which hold every value to the
    platform's rules; ``update_submission`` writes them.

    ``changelog`` (None: unchanged) is not in the MDC contract's datasheet, so E8 (``from_json``)
    never sets it: the page's form and ``/api/v1`` do."""

    values: Mapping[str, str | bool | int | None]
    changelog: str | None = None
    record_id_column: str | None = None  # not in the contract either: the page and /api/v1 set it
    contributor_id_column: str | None = None  # nor this

    @classmethod
    def of(cls, values: Mapping[str, object]) -> DatasheetChanges:
        """Check values given by model field (and ``changelog``). Every problem is reported at once,
        keyed by model field."""
        errors: dict[str, list[str]] = {}
        checked: dict[str, str | bool | int | None] = {}
        changelog: str | None = None
        if "changelog" in values:
            try:
                changelog = changelog_text(values["changelog"])
            except ValidationError as exc:
                errors |= exc.message_dict
        columns: dict[str, str | None] = {"record_id_column": None, "contributor_id_column": None}
        for field in columns:
            if field in values:
                try:
                    columns[field] = record_id_column_text(values[field], field)
                except ValidationError as exc:
                    errors |= exc.message_dict
        for field, value in values.items():
            if field in ("changelog", "record_id_column", "contributor_id_column"):
                continue
            camel = CONTRACT_NAME[field]
            if camel in SPECIAL:
                continue
            try:
                checked[field] = _flag(camel, value) if camel in FLAGS else _text(camel, value)
            except _Refused as problem:
                errors[field] = [str(problem)]
        for camel in SPECIAL:
            field = MODEL_FIELD[camel]
            if field not in values:
                continue
            try:
                checked[field] = _SPECIAL_CHECKS[camel](values[field])
            except _Refused as problem:
                errors[field] = [str(problem)]
        if errors:
            raise ValidationError(errors)
        return cls(checked, changelog, columns["record_id_column"], columns["contributor_id_column"])

    @classmethod
    def from_json(cls, payload: object) -> DatasheetChanges:
        """E8's body (the platform's UpdateSubmissionRequest), in the contract's names.

        What the platform accepts is accepted: null clears the fields it marks nullable, "" clears
        every other text but the name (and the task and license), and its length limits hold. Every
        problem is reported at once, keyed by the contract's names."""
        if not isinstance(payload, dict):
            raise ValidationError(_("The body must be a JSON object of the fields to change."))
        if not payload:
            raise ValidationError(_("Nothing to update: send at least one field."))
        errors: dict[str, list[str]] = {}
        unknown = sorted(set(payload) - set(MODEL_FIELD))
        if unknown:
            errors["fields"] = [f"Unknown field(s): {', '.join(unknown)}."]
        try:
            changes = cls.of({MODEL_FIELD[camel]: value for camel, value in payload.items() if camel in MODEL_FIELD})
        except ValidationError as exc:
            errors |= _in_contract_names(exc)
        if errors:
            raise ValidationError(errors)
        return changes


@dataclass(frozen=True)
class NewSubmission:
    """E7's body (the platform's CreateSubmissionRequest): a draft's name and, optionally, its long
    description."""

    name: str
    long_description: str = ""

    @classmethod
    def from_json(cls, payload: object) -> NewSubmission:
        data = payload if isinstance(payload, dict) else {}
        extra = sorted(set(data) - {"name", "longDescription"})
        if extra:
            raise ValidationError(
                _("A new submission takes only a name and a longDescription; unexpected: %(items)s.")
                % {"items": ", ".join(extra)}
            )
        errors: dict[str, list[str]] = {}
        texts: dict[str, str] = {}
        for camel in ("name", "longDescription"):
            try:
                texts[camel] = _text(camel, data.get(camel, ""))
            except _Refused as problem:
                errors[camel] = [str(problem)]
        if errors:
            raise ValidationError(errors)
        return cls(name=texts["name"], long_description=texts["longDescription"])


def check_agreement(agree: object) -> None:
    """Submitting is agreeing to the submission terms: the contributor says so (E9's agreeToSubmit,
    the page's checkbox)."""
    if agree is not True:
        raise ValidationError({"agreeToSubmit": ["must be true: agree to the submission terms to submit"]})


def agreement_from_json(payload: object) -> None:
    """E9's body, which is exactly ``{"agreeToSubmit": true}``."""
    data = payload if isinstance(payload, dict) else {}
    if set(data) != {"agreeToSubmit"}:
        raise ValidationError(_('Submitting takes exactly {"agreeToSubmit": true}.'))
    check_agreement(data["agreeToSubmit"])


@dataclass(frozen=True)
class Share:
    """One line of a revenue split: a user of this instance by username, or a payee by name and
    email address, with their share in basis points (1 to 10,000). Whether the user exists, no one
    is listed twice and the lines sum to 10,000 is ``set_revenue_split``'s to check."""

    basis_points: int
    username: str | None = None
    name: str = ""
    email: str = ""


def split_refusal(problems: Sequence[str]) -> ValidationError:
    """The one sentence that refuses a split, naming every problem found."""
    return ValidationError(_("The split was not changed: %(items)s.") % {"items": "; ".join(problems)})


# (username, name, email, basis points) of one line of a split, as given; None for a line of a JSON
# list that is not an object.
_Line = tuple[object, object, object, object] | None


def _shares(lines: Sequence[_Line]) -> list[Share]:
    if not lines:
        raise ValidationError(_("List at least one contributor with basisPoints."))
    problems: list[str] = []
    shares: list[Share] = []
    name_limit = text_limit(RevenueShare, "payee_name")
    for position, line in enumerate(lines, start=1):
        if line is None:
            problems.append(f"contributor {position}: not an object")
            continue
        username, name, email, points = line
        if not isinstance(points, int) or isinstance(points, bool) or not 1 <= points <= 10_000:
            problems.append(f"contributor {position}: basisPoints must be a whole number from 1 to 10000")
            points = 0
        if username is not None:
            if not isinstance(username, str):
                problems.append(f"contributor {position}: no user named {username!r}")
                continue
            shares.append(Share(basis_points=points, username=username))
        elif not isinstance(name, str) or not name.strip() or not isinstance(email, str):
            problems.append(f"contributor {position}: give a username, or a name and an email")
        elif name_limit is not None and len(name.strip()) > name_limit:
            problems.append(f"contributor {position}: the name is longer than {name_limit} characters")
        elif not _is_email(email.strip()):
            problems.append(f"contributor {position}: {email!r} is not an email address")
        else:
            shares.append(Share(basis_points=points, name=name.strip(), email=email.strip()))
    if problems:
        raise split_refusal(problems)
    return shares


def _is_email(text: str) -> bool:
    try:
        EmailValidator()(text)
    except ValidationError:
        return False
    return True


def shares_from_json(payload: object) -> list[Share]:
    """The split's body: ``{"contributors": [{"username", "basisPoints"} or {"name", "email",
    "basisPoints"}, ...]}``."""
    contributors = payload.get("contributors") if isinstance(payload, dict) else None
    if not isinstance(contributors, list):
        contributors = []
    return _shares(
        [
            (item.get("username"), item.get("name"), item.get("email"), item.get("basisPoints"))
            if isinstance(item, dict)
            else None
            for item in contributors
        ]
    )


def shares_from_rows(rows: Sequence[Mapping[str, object]]) -> list[Share]:
    """The split from a form's rows (username, name, email, basis_points; a blank username names a payee)."""
    return _shares(
        [
            (row.get("username") or None, row.get("name") or "", row.get("email") or "", row.get("basis_points"))
            for row in rows
        ]
    )
