"""Consent terms and per-contributor consent records of a submission (writes).

Terms and records are evidence: never edited, only appended. Records are pseudonymous: a
contributor id the organization can map back, never a name or an email address.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, date, datetime, time
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from licensing.consent.inputs import ConsentTermsInput
from licensing.licenses import sha256_text
from licensing.models import ConsentRecord, ConsentTerms, ConsentWithdrawal
from marketplace.models import Submission, User

MAX_RECORDS = 100_000
_LOOKS_PERSONAL = re.compile(r"@|\s")


def set_consent_terms(*, submission: Submission, user: User, terms: ConsentTermsInput) -> ConsentTerms:
    """Record new consent terms for a draft (a new row: earlier terms stay as they were)."""
    problems = terms.problems()
    if problems:
        raise ValidationError({field: [message] for field, message in problems.items()})
    return ConsentTerms.objects.create(
        submission=submission,
        created_by=user,
        ai_training=terms.ai_training,
        commercial_use=terms.commercial_use,
        research_only=terms.research_only,
        redistribution=terms.redistribution,
        derivatives=terms.derivatives,
        consent_text=terms.consent_text,
        consent_text_sha256=sha256_text(terms.consent_text),
        withdrawal_process=terms.withdrawal_process,
        scope_text=terms.scope,
        collection_start=terms.collection_start,
        collection_end=terms.collection_end,
    )


def current_terms(submission: Submission) -> ConsentTerms | None:
    return ConsentTerms.objects.current_for(submission)


@transaction.atomic
def carry_consent_over(*, source: Submission, to: Submission, user: User) -> ConsentTerms | None:
    """Give the draft ``to`` (a new version of the dataset ``source`` published) the consent of
    ``source``: a copy of its current terms and of their records, as new rows, so that the
    published version's evidence stays as it was whatever the draft does later. The contributor
    edits the copy like any terms (a change is a new row). A record of a contributor who withdrew
    from any version of the dataset is not carried over: their consent does not reach the new
    version. Nothing is copied when ``source`` has no terms (an import)."""
    terms = current_terms(source)
    if terms is None:
        return None
    copy = set_consent_terms(submission=to, user=user, terms=ConsentTermsInput.of(terms))
    withdrawn = ConsentWithdrawal.objects.filter(dataset_id=to.dataset_id).exclude(contributor_id="")
    records = terms.records.exclude(contributor_id__in=withdrawn.values("contributor_id"))
    ConsentRecord.objects.bulk_create(
        (
            ConsentRecord(
                terms=copy,
                contributor_id=record.contributor_id,
                scope=record.scope,
                terms_sha256=record.terms_sha256,
                given_at=record.given_at,
            )
            for record in records.iterator()
        ),
        batch_size=5_000,
    )
    return copy


# Said in every message about a date: the form the column takes.
DATE_EXAMPLE = "2024-05-31"
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_given_at(raw: object) -> tuple[datetime | None, str]:
    """When a contributor consented: a date (YYYY-MM-DD, taken as that day 00:00 UTC) or an ISO
    8601 time with a time zone. The time, or None and what is wrong, in words."""
    if raw is None or raw == "":
        return None, f"the date is missing; write it as {DATE_EXAMPLE}"
    text = raw.strip() if isinstance(raw, str) else ""
    shown = raw if isinstance(raw, str) else json.dumps(raw)
    shown = shown if len(shown) <= 40 else f"{shown[:40]}…"  # a cell pasted whole is not echoed whole
    if _DAY.fullmatch(text):
        try:
            day = date.fromisoformat(text)
        except ValueError:
            return None, f"the date '{shown}' is not a date; write it as {DATE_EXAMPLE}"
        return datetime.combine(day, time.min, tzinfo=UTC), ""
    try:
        moment = parse_datetime(text) if text else None
    except ValueError:
        moment = None
    if moment is None:
        return None, f"the date '{shown}' is not a date; write it as {DATE_EXAMPLE}"
    if moment.tzinfo is None:
        return None, (
            f"the time '{shown}' has no time zone; write the date alone ({DATE_EXAMPLE}) or the time with its zone "
            f"({DATE_EXAMPLE}T14:30:00Z)"
        )
    return moment, ""


def parse_records_csv(text: str) -> list[tuple[str, dict[str, str]]]:
    """The rows of a CSV whose header names contributor_id and given_at, and optionally scope and
    terms_sha256 (names are read without case or surrounding spaces); each with its line."""
    reader = csv.DictReader(io.StringIO(text))
    required = ("contributor_id", "given_at")
    rows: list[tuple[str, dict[str, str]]] = []
    try:
        if reader.fieldnames is not None:
            reader.fieldnames = [name.strip().lower() for name in reader.fieldnames]
        if reader.fieldnames is None or not set(required) <= set(reader.fieldnames):
            raise ValidationError(
                _(
                    "The CSV's first line must name the columns contributor_id and given_at (and, if "
                    "you like, scope and terms_sha256)."
                )
            )
        for row in reader:
            # The line the row ends on, as people count the file's lines (blank ones included).
            rows.append((f"line {reader.line_num}", {key: value for key, value in row.items() if key is not None}))
        return rows
    except csv.Error as exc:
        # The csv module counts the lines it finished; its hints are about opening files, not ours.
        reason = str(exc).partition(" - ")[0]
        raise ValidationError(
            _("The CSV does not parse at line %(value)s: %(reason)s.")
            % {"value": reader.line_num + 1, "reason": reason}
        ) from None


def add_consent_records_csv(*, terms: ConsentTerms, text: str) -> int:
    """Append the records of a CSV (``parse_records_csv``), every bad row named by its line."""
    rows = parse_records_csv(text)
    if not rows:
        raise ValidationError(_("The CSV has no records under its first line: add one line per contributor."))
    return _add(terms, rows)


def add_consent_records(*, terms: ConsentTerms, rows: Any) -> int:
    """Append records given as JSON objects (``contributorId`` or ``contributor_id``, ``givenAt``,
    optionally ``scope`` and ``termsSha256``), every bad one named by its position."""
    if not isinstance(rows, list) or not rows:
        raise ValidationError(_("Send at least one record."))
    return _add(terms, [(f"record {position}", row) for position, row in enumerate(rows, start=1)])


def _add(terms: ConsentTerms, rows: list[tuple[str, Any]]) -> int:
    """All or nothing: a contributor id, when they consented and, if given, the terms' hash, which
    must be these terms' (a record cites the text its contributor saw)."""
    if len(rows) > MAX_RECORDS:
        raise ValidationError(_("At most %(max_records)s records at once.") % {"max_records": MAX_RECORDS})
    problems: list[str] = []
    records: list[ConsentRecord] = []
    seen: set[str] = set()
    for where, row in rows:
        if not isinstance(row, dict):
            problems.append(f"{where}: not an object with contributorId and givenAt")
            continue
        contributor = str(row.get("contributor_id") or row.get("contributorId") or "").strip()
        digest = str(row.get("terms_sha256") or row.get("termsSha256") or "").strip().lower()
        given, wrong_date = parse_given_at(row.get("given_at", row.get("givenAt")))
        if not contributor:
            problems.append(f"{where}: the contributor id is missing")
        elif len(contributor) > 128:
            problems.append(f"{where}: the contributor id is longer than 128 characters")
        elif _LOOKS_PERSONAL.search(contributor):
            problems.append(
                f"{where}: the contributor id looks like an email address or a name (it has an @ or a space); "
                "give the pseudonymous id your organization keeps instead"
            )
        elif contributor in seen:
            problems.append(f"{where}: the contributor id {contributor} appears twice")
        if digest and digest != terms.consent_text_sha256:
            problems.append(
                f"{where}: the consent hash '{digest[:64]}' is not the SHA-256 of these consent terms "
                f"({terms.consent_text_sha256}); leave it out, or give the hash of the terms this contributor saw"
            )
        if given is None:
            problems.append(f"{where}: {wrong_date}")
        seen.add(contributor)
        if not problems and given is not None:
            records.append(
                ConsentRecord(
                    terms=terms,
                    contributor_id=contributor,
                    scope=str(row.get("scope") or "")[:200],
                    terms_sha256=terms.consent_text_sha256,
                    given_at=given,
                )
            )
        if len(problems) >= 20:
            break
    if problems:
        raise ValidationError(_("No record was added: %(items)s.") % {"items": "; ".join(problems)})
    try:
        with transaction.atomic():
            ConsentRecord.objects.bulk_create(records)
    except IntegrityError:
        raise ValidationError(
            _("No record was added: some contributor already has a record under these terms.")
        ) from None
    return len(records)
