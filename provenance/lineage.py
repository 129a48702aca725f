"""Lineage: the published versions a submission derives from, and whether its license may.

A child inherits its parents' obligations: a non-commercial parent forbids a commercial child, a
share-alike parent requires the child to carry the very same license (same text hash), and a
no-derivatives parent forbids any child. Checked at submit (``submission_problems``), so the
contributor reads the conflict before a reviewer does.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from licensing.models import ConsentTerms
from marketplace.models import DatasetVersion, Submission


@transaction.atomic
def set_parents(*, submission: Submission, parents: Any) -> list[DatasetVersion]:
    """Replace the declared parents: ``[{"dataset": id, "version": n}]`` of published versions."""
    if not isinstance(parents, list):
        raise ValidationError("parents must be a list of {dataset, version}.")
    found: list[DatasetVersion] = []
    for position, item in enumerate(parents, start=1):
        version = None
        if isinstance(item, dict) and isinstance(item.get("version"), int):
            version = DatasetVersion.objects.filter(
                dataset_id=item.get("dataset"), number=item["version"], published_at__isnull=False
            ).first()
        if version is None:
            raise ValidationError(f"parent {position}: no published version {item!r}.")
        found.append(version)
    submission.parents.set(found)
    return found


def _child_flags(submission: Submission) -> tuple[bool, str | None]:
    """(commercial use allowed, license text hash) of the license the submission would publish
    under; custom terms allow commercial use only when the consent does (as approval makes them)."""
    from marketplace.submissions import spdx_license

    known = spdx_license(submission)
    if known is not None:
        return known.commercial_use, known.text_sha256
    terms = ConsentTerms.objects.filter(submission=submission).order_by("-created_at", "-id").first()
    return bool(terms and terms.commercial_use), None


def license_problems(submission: Submission) -> list[str]:
    parents = list(submission.parents.select_related("dataset", "license"))
    if not parents:
        return []
    commercial, text_sha256 = _child_flags(submission)
    problems = []
    for parent in parents:
        name = f"parent {parent.dataset.name} v{parent.number} ({parent.license.abbreviation})"
        if not parent.license.derivatives:
            problems.append(f"{name} forbids derivatives: it cannot be a parent")
        if not parent.license.commercial_use and commercial:
            problems.append(
                f"{name} is non-commercial, so this dataset cannot be under a license that allows commercial use"
            )
        if parent.license.share_alike and text_sha256 != parent.license.text_sha256:
            problems.append(f"{name} is share-alike: this dataset must be under the same license")
    return problems
