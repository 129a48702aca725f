"""A dataset as the MDC routes answer it, as a plain dict in the shape of the platform's own OpenAPI
document (../shared/mdc-openapi.json): ``DatasetSummary`` (E1 items, E3) and its pricing.

Plain functions, not DRF serializers: a page of 100 items is built without per-field overhead.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.urls import reverse

from marketplace.models import Dataset


def pricing(dataset: Dataset) -> dict[str, Any]:
    if not dataset.is_paid or not dataset.base_price_cents:
        # The document's free branch: every price field null, the currency too.
        return {
            "isPaid": False,
            "basePriceCents": None,
            "currency": None,
            "platformFeeRate": None,
            "platformFeeCents": None,
            "totalPriceCents": None,
        }
    rate = Decimal(settings.PLATFORM_FEE_RATE)
    fee = int((Decimal(dataset.base_price_cents) * rate).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return {
        "isPaid": True,
        "basePriceCents": dataset.base_price_cents,
        "currency": dataset.currency,
        "platformFeeRate": settings.PLATFORM_FEE_RATE,  # a string, as the SDK's model requires
        "platformFeeCents": fee,
        "totalPriceCents": dataset.base_price_cents + fee,
    }


def dataset_details(dataset: Dataset, *, base_url: str) -> dict[str, Any]:
    """One dataset as ``DatasetSummary``. Needs organization, license and current_version loaded.

    ``submissionId`` is absent, not null: the document has it only for the caller's own datasets,
    and these routes read no key (the SDK sends none)."""
    version = dataset.current_version
    license = dataset.license
    price = pricing(dataset)
    return {
        "id": dataset.id,
        "slug": dataset.slug,
        "name": dataset.name,
        "shortDescription": dataset.short_description or None,
        # Required strings in the document: an unset one is "", not null.
        "longDescription": dataset.long_description,
        "locale": dataset.locale,
        # Null only for a dataset made outside the submission flow without a task (see the README).
        "task": dataset.task or None,
        "format": dataset.format or None,
        "licenseAbbreviation": license.abbreviation if license else None,
        "license": license.name if license else None,
        "licenseUrl": (dataset.license_url or (license.url if license else "")) or None,
        "visibility": dataset.visibility,
        "createdAt": dataset.created_at.isoformat(),
        "publishedAt": dataset.published_at.isoformat() if dataset.published_at else None,
        "datasetUrl": base_url + reverse("dataset-detail", args=[dataset.slug]),
        # The SDK caches by filename and resumes by checksum: both are version-specific.
        "filename": version.filename if version else None,
        "checksum": version.sha256 if version else None,
        "sizeBytes": version.size_bytes if version else None,
        "version": version.number if version else None,
        "hasSample": dataset.has_sample,
        "isPaid": price["isPaid"],
        "basePriceCents": price["basePriceCents"],
        "pricing": price,
        "organization": {"name": dataset.organization.name, "slug": dataset.organization.slug},
    }
