"""Consent terms and per-contributor consent records of a submission (writes).

Terms and records are evidence: never edited, only appended. Records are pseudonymous: a
contributor id the organization can map back, never a name or an email address.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.dateparse import parse_datetime

from licensing.consent.inputs import ConsentTermsInput
from licensing.licenses import sha256_text
from licensing.models import ConsentRecord, ConsentTerms, ConsentWithdrawal
from marketplace.models import Submission, User

MAX_RECORDS = 100_000
_LOOKS_PERSONAL = re.compile(r"@|\s")


def _datetime(raw: Any) -> datetime | None:
    try:
        return parse_datetime(raw) if isinstance(raw, str) else None
    except ValueError:
        return None


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


def parse_records_csv(text: str) -> list[dict[str, str]]:
    """CSV with a header: contributor_id, scope (optional), terms_sha256, given_at (ISO 8601)."""
    reader = csv.DictReader(io.StringIO(text))
    required = {"contributor_id", "terms_sha256", "given_at"}
    try:
        if reader.fieldnames is None or not required <= set(reader.fieldnames):
            raise ValidationError(f"The CSV header must name {', '.join(sorted(required))} (and optionally scope).")
        return [dict(row) for row in reader]
    except csv.Error as exc:
        # The csv module counts the lines it finished; its hints are about opening files, not ours.
        reason = str(exc).partition(" - ")[0]
        raise ValidationError(f"The CSV does not parse at line {reader.line_num + 1}: {reason}.") from None


def add_consent_records(*, terms: ConsentTerms, rows: Any) -> int:
    """Append records; all or nothing, with every bad row named by its line."""
    if not isinstance(rows, list) or not rows:
        raise ValidationError("Send at least one record.")
    if len(rows) > MAX_RECORDS:
        raise ValidationError(f"At most {MAX_RECORDS} records per request.")
    problems: list[str] = []
    records: list[ConsentRecord] = []
    seen: set[str] = set()
    for line, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            problems.append(f"record {line}: not an object")
            continue
        contributor = str(row.get("contributor_id") or row.get("contributorId") or "").strip()
        digest = str(row.get("terms_sha256") or row.get("termsSha256") or "").strip()
        given_raw = row.get("given_at") or row.get("givenAt")
        given = _datetime(given_raw)
        if not contributor or len(contributor) > 128:
            problems.append(f"record {line}: contributor_id is missing or longer than 128 characters")
        elif _LOOKS_PERSONAL.search(contributor):
            problems.append(f"record {line}: contributor_id must be a pseudonymous id, not an email or a name")
        elif contributor in seen:
            problems.append(f"record {line}: contributor_id {contributor} appears twice")
        if digest != terms.consent_text_sha256:
            problems.append(f"record {line}: terms_sha256 does not match these consent terms")
        if given is None or given.tzinfo is None:
            problems.append(f"record {line}: given_at must be an ISO 8601 time with a time zone")
        seen.add(contributor)
        if not problems and given is not None:
            records.append(
                ConsentRecord(
                    terms=terms,
                    contributor_id=contributor,
                    scope=str(row.get("scope") or "")[:200],
                    terms_sha256=digest,
                    given_at=given,
                )
            )
        if len(problems) >= 20:
            break
    if problems:
        raise ValidationError("No record was added: " + "; ".join(problems) + ".")
    try:
        with transaction.atomic():
            ConsentRecord.objects.bulk_create(records)
    except IntegrityError:
        raise ValidationError(
            "No record was added: some contributor_id already has a record under these terms."
        ) from None
    return len(records)
