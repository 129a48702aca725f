"""Lineage: the published versions a submission derives from, and whether its license may.

A child inherits its parents' obligations: a non-commercial parent forbids a commercial child, a
share-alike parent requires the child to carry the very same license (same text hash), and a
no-derivatives parent forbids any child. Checked at submit (``submission_problems``), so the
contributor reads the conflict before a reviewer does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from licensing.licenses import custom_terms_permissions, spdx_license
from licensing.models import ConsentTerms
from marketplace.catalog.visibility import visible_datasets
from marketplace.models import Dataset, DatasetVersion, Submission
from marketplace.submissions.rules import ensure_editable


@dataclass(frozen=True)
class ParentRef:
    """A published version a submission derives from, as a client names it: its dataset's id or
    slug, and the version's number."""

    dataset: str
    version: int


def parent_refs(parents: object) -> list[ParentRef]:
    """The parents a client lists: ``[{"dataset": id or slug, "version": n}]``."""
    if not isinstance(parents, list):
        raise ValidationError(_('parents must be a list of {"dataset": id or slug, "version": n}.'))
    refs: list[ParentRef] = []
    for position, item in enumerate(parents, start=1):
        if not (isinstance(item, dict) and isinstance(item.get("dataset"), str)
                and isinstance(item.get("version"), int) and not isinstance(item.get("version"), bool)):  # fmt: skip
            raise ValidationError(
                _('parent %(position)s: give {"dataset": id or slug, "version": n}, not %(item)s.')
                % {"position": position, "item": repr(item)}
            )
        refs.append(ParentRef(dataset=item["dataset"], version=item["version"]))
    return refs


@transaction.atomic
def set_parents(*, submission: Submission, parents: Sequence[ParentRef], user: object) -> list[DatasetVersion]:
    """Replace the declared parents with published versions that ``user`` may see. A private
    dataset the user cannot see is refused with the same words as an unknown one, so the answer
    does not tell that it exists; a dataset cannot derive from itself (its lineage would be a
    cycle)."""
    ensure_editable(submission)
    visible = visible_datasets(user=user)
    found: list[DatasetVersion] = []
    for position, parent in enumerate(parents, start=1):
        key, number = parent.dataset, parent.version
        dataset = visible.filter(id=key).first() or visible.filter(slug=key).first()
        version = (
            DatasetVersion.objects.filter(dataset=dataset, number=number, published_at__isnull=False).first()
            if dataset is not None
            else None
        )
        if version is None:
            raise ValidationError(
                _("parent %(position)s: no published version %(number)s of a dataset '%(key)s' you can see.")
                % {"position": position, "number": number, "key": key}
            )
        if submission.dataset_id is not None and version.dataset_id == submission.dataset_id:
            raise ValidationError(
                _(
                    "parent %(position)s: %(dataset)s is the dataset this submission adds a version "
                    "to; a dataset cannot be its own parent."
                )
                % {"position": position, "dataset": version.dataset.name}
            )
        if version in found:
            raise ValidationError(
                _("parent %(position)s: %(dataset)s v%(number)s is listed twice.")
                % {"position": position, "dataset": version.dataset.name, "number": number}
            )
        found.append(version)
    submission.parents.set(found)
    return found


@dataclass(frozen=True)
class Lineage:
    """What a dataset derives from (parents) and what derives from it (children), as published
    versions the viewer may see."""

    parents: list[DatasetVersion]
    children: list[DatasetVersion]


def lineage_of(*, dataset: Dataset, user: object) -> Lineage:
    """Both directions in two queries. Parents are declared on the submissions that published
    this dataset's versions; children are the versions published by submissions naming one of
    this dataset's versions as a parent. Private relatives the viewer cannot see are left out."""

    visible = visible_datasets(user=user).values("id")
    parents = (
        DatasetVersion.objects.filter(
            child_submissions__version__dataset=dataset, published_at__isnull=False, dataset_id__in=visible
        )
        .select_related("dataset")
        .distinct()
        .order_by("dataset__name", "number")
    )
    children = (
        DatasetVersion.objects.filter(
            id__in=Submission.objects.filter(parents__dataset=dataset, version__isnull=False).values("version_id"),
            published_at__isnull=False,
            dataset_id__in=visible,
        )
        .select_related("dataset")
        .order_by("dataset__name", "number")
    )
    return Lineage(list(parents), list(children))


def _child_flags(submission: Submission) -> tuple[bool, str | None]:
    """(commercial use allowed, license text hash) of the license the submission would publish
    under: an SPDX license's, or custom terms', which permit what the consent does."""
    known = spdx_license(submission.license_abbreviation)
    if known is not None:
        return known.commercial_use, known.text_sha256
    return custom_terms_permissions(ConsentTerms.objects.current_for(submission)).commercial_use, None


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
