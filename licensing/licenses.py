"""Licenses: the exact text of the terms, its SHA-256, and what the license permits."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction

from licensing.models import License
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
        raise ValidationError({"text": "The license text is empty: paste the exact terms licensees accept."})
    if spdx_id is None and organization is None:
        raise ValidationError({"organization": "Custom terms belong to an organization."})
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
