"""Licenses: the exact text of the terms, its SHA-256, what the license permits (custom terms no
more than the contributors consented to), and the instance's SPDX licenses."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from licensing.models import ConsentTerms, License
from marketplace.models import Organization


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Permissions:
    commercial_use: bool
    ai_training: bool
    derivatives: bool
    redistribution: bool
    attribution: bool
    share_alike: bool


@transaction.atomic
def create_license(
    *,
    name: str,
    text: str,
    permissions: Permissions,
    spdx_id: str | None = None,
    url: str = "",
    organization: Organization | None = None,
) -> License:
    if not text.strip():
        raise ValidationError({"text": _("The license text is empty: paste the exact terms licensees accept.")})
    if spdx_id is None and organization is None:
        raise ValidationError({"organization": _("Custom terms belong to an organization.")})
    return License.objects.create(
        spdx_id=spdx_id,
        name=name,
        url=url,
        text=text,
        text_sha256=sha256_text(text),
        organization=organization,
        commercial_use=permissions.commercial_use,
        ai_training=permissions.ai_training,
        derivatives=permissions.derivatives,
        redistribution=permissions.redistribution,
        attribution=permissions.attribution,
        share_alike=permissions.share_alike,
    )


def custom_terms_permissions(terms: ConsentTerms | None) -> Permissions:
    """What custom terms permit: no more than the contributors consented to (``terms``, the
    submission's current consent terms; none means nothing was consented to), no derivatives,
    attribution required."""
    return Permissions(
        commercial_use=bool(terms and terms.commercial_use),
        ai_training=bool(terms and terms.ai_training),
        derivatives=False,
        redistribution=bool(terms and terms.redistribution),
        attribution=True,
        share_alike=False,
    )


def spdx_license(abbreviation: str) -> License | None:
    """The instance's SPDX license of that identifier, if there is one."""
    if not abbreviation:
        return None
    return License.objects.filter(spdx_id=abbreviation).first()
