"""The terms a licensee accepts, and the grants that record each acceptance.

The terms of a version are one text: the license's exact text followed by each additional
restriction the organization set on the dataset. Its SHA-256 is what a grant names, what the
page shows and what a pipeline sends back (``POST /api/v1/datasets/{id}/grants``), so "the terms
changed" is a hash comparison, and a receipt can be checked offline.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from licensing.licenses import sha256_text
from licensing.models import LicenseGrant
from marketplace.models import Dataset, DatasetVersion, Membership, Organization, User
from provenance import events as provenance_events

# The datasheet fields that add conditions to the license, in the order the terms list them.
# The labels stay English in the accepted (hashed) text; the pages translate them.
RESTRICTION_FIELDS = [
    ("restrictions", gettext_noop("Restrictions")),
    ("forbidden_usage", gettext_noop("Forbidden usage")),
    ("additional_conditions", gettext_noop("Additional conditions")),
]
USER_AGENT_MAX = 500


@dataclass(frozen=True)
class Terms:
    """What a licensee reads and accepts for one version."""

    version: DatasetVersion
    license_heading: str
    license_text: str
    restrictions: list[tuple[str, str]]
    text: str
    sha256: str


def terms_for(*, dataset: Dataset, version: DatasetVersion) -> Terms:
    """The exact terms text of ``version`` (its own license: versions may differ) with the
    dataset's current restrictions. Needs ``version.license`` loaded or loadable."""
    license = version.license
    heading = f"License: {license.name}" + (f" (SPDX {license.spdx_id})" if license.spdx_id else "")
    restrictions = [
        (label, str(getattr(dataset, field)).strip())
        for field, label in RESTRICTION_FIELDS
        if str(getattr(dataset, field)).strip()
    ]
    # No version number in the text: a new version under the same terms needs no new acceptance.
    parts = [f"Terms of {dataset.name}", "", heading, "", license.text.strip()]
    for label, text in restrictions:
        parts += ["", f"{label} (set by {dataset.organization.name}):", text]
    text = "\n".join(parts) + "\n"
    return Terms(version, heading, license.text.strip(), restrictions, text, sha256_text(text))


class TermsChanged(Exception):
    """The hash the licensee accepted is not the hash of the current terms."""

    def __init__(self, current: Terms) -> None:
        super().__init__(
            f"The terms changed since that hash: the current terms SHA-256 is {current.sha256}. "
            "Read them again and accept that hash."
        )
        self.current = current


def current_version(dataset: Dataset) -> DatasetVersion:
    version = dataset.current_version
    if version is None:
        raise ValidationError(
            _("%(dataset)s has no published version yet: there are no terms to accept.") % {"dataset": dataset.name}
        )
    return version


def licensee_organization(*, user: User, slug: str | None) -> Organization | None:
    """The organization the licensee accepts for: one they belong to, or none (a person)."""
    if not slug:
        return None
    membership = Membership.objects.filter(user=user, organization__slug=slug).select_related("organization").first()
    if membership is None:
        raise ValidationError(
            {"organization": _("You are not a member of an organization '%(slug)s'.") % {"slug": slug}}
        )
    return membership.organization


@transaction.atomic
def accept_terms(
    *,
    user: User,
    dataset: Dataset,
    terms_sha256: str,
    source: str,
    user_agent: str = "",
    organization: Organization | None = None,
) -> LicenseGrant:
    """Record that ``user`` accepted the current terms, which must hash to ``terms_sha256``."""
    version = current_version(dataset)
    terms = terms_for(dataset=dataset, version=version)
    if terms_sha256.strip().lower() != terms.sha256:
        raise TermsChanged(terms)
    return record_grant(
        user=user, dataset=dataset, version=version, terms_text=terms.text, terms_sha256=terms.sha256,
        source=source, user_agent=user_agent, organization=organization,
    )  # fmt: skip


@transaction.atomic
def record_grant(
    *,
    user: User,
    dataset: Dataset,
    version: DatasetVersion,
    terms_text: str,
    terms_sha256: str,
    source: str,
    user_agent: str,
    organization: Organization | None,
) -> LicenseGrant:
    """The one writer of grants, whatever made them (an acceptance, an approved request, a
    payment): the grant and its transparency-log entry commit together."""
    grant = LicenseGrant.objects.create(
        user=user,
        organization=organization,
        dataset=dataset,
        version=version,
        license=version.license,
        terms_text=terms_text,
        terms_sha256=terms_sha256,
        source=source,
        user_agent=user_agent[:USER_AGENT_MAX],
    )
    provenance_events.grant_recorded(grant)
    return grant


def grants_covering(*, user: User, dataset: Dataset, terms_sha256: str) -> QuerySet[LicenseGrant]:
    """The grants of ``user`` for these exact terms, newest first, leaving out grants whose
    purchase was refunded (they license nothing since)."""
    return LicenseGrant.objects.filter(
        user=user, dataset=dataset, terms_sha256=terms_sha256, refund__isnull=True
    ).order_by("-created_at", "-id")


def grants_of(*, user: User) -> QuerySet[LicenseGrant]:
    return LicenseGrant.objects.filter(user=user).select_related(
        "dataset", "version", "license", "organization", "refund"
    )


def receipt(grant: LicenseGrant) -> dict[str, Any]:
    """The license receipt: everything needed to show, offline, what was accepted and when.
    ``sha256(termsText)`` must equal ``termsSha256``."""
    return {
        "type": "https://datacollective.example/license-receipt/v1",
        "grantId": grant.id,
        "acceptedAt": grant.created_at.isoformat(),
        "source": grant.source,
        "licensee": {
            "username": grant.user.get_username(),
            "organization": grant.organization.slug if grant.organization else None,
        },
        "dataset": {"id": grant.dataset_id, "slug": grant.dataset.slug, "name": grant.dataset.name},
        "version": {"number": grant.version.number, "filename": grant.version.filename, "sha256": grant.version.sha256},
        "license": {
            "spdxId": grant.license.spdx_id,
            "name": grant.license.name,
            "textSha256": grant.license.text_sha256,
        },
        "termsSha256": grant.terms_sha256,
        "termsText": grant.terms_text,
        "userAgent": grant.user_agent,
    }
