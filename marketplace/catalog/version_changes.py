"""The page of what changed in a dataset from one version to another: the files added, removed and
changed, read from the two versions' signed manifests (``provenance.diffs``). Who sees it is who
sees the dataset page (``dataset_page.page_dataset``)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from marketplace.catalog.dataset_page import page_dataset, removed
from marketplace.models import Dataset
from provenance import diffs


@require_GET
def version_changes(request: HttpRequest, slug: str, number: int, since: int) -> HttpResponse:
    """Version ``number`` against version ``since`` (older or newer): what a holder of ``since``
    would find added, removed and changed in ``number``."""
    dataset = page_dataset(request, slug)
    if dataset.status == Dataset.Status.REMOVED:
        return removed(request, dataset)
    versions = {version.number: version for version in dataset.versions.filter(published_at__isnull=False)}
    context: dict[str, Any] = {
        "dataset": dataset,
        "number": number,
        "since": since,
        "others": sorted(n for n in versions if n != number),
        "problem": "",
    }
    missing = [n for n in (since, number) if n not in versions]
    if missing:
        context["problem"] = _("%(name)s has no published version %(number)s.") % {
            "name": dataset.name,
            "number": missing[0],
        }
        return render(request, "catalog/version_changes.html", context, status=404)
    try:
        context["diff"] = diffs.diff(versions[since], versions[number])
    except ValidationError as exc:
        context["problem"] = " ".join(exc.messages)
        return render(request, "catalog/version_changes.html", context, status=400)
    except diffs.ManifestMissing as exc:
        context["problem"] = str(exc)
        return render(request, "catalog/version_changes.html", context, status=404)
    except diffs.ManifestInvalid as exc:
        context["problem"] = str(exc)
        return render(request, "catalog/version_changes.html", context, status=500)
    return render(request, "catalog/version_changes.html", context)
