"""Croissant 1.1 (MLCommons) JSON-LD of a published version, so ML tooling can load its metadata.

Built from what we already hold and have checked: the datasheet, the archive's SHA-256, the file
list of the validation that read every byte (with the header of each CSV/TSV, which gives the
record sets), the license, and the consent terms for the Responsible AI (``rai:``) fields. Nothing
here talks to storage: the archive's ``contentUrl`` is our download endpoint, which a plain GET
with an API key (Bearer, or HTTP Basic with the key as password) follows to a short-lived URL of
the bytes once the download is decided and recorded; the document itself is the same for everyone.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from licensing.models import ConsentTerms
from marketplace.models import DatasetVersion, Submission
from marketplace.submissions.reports import TABULAR_TYPES, version_files
from provenance.manifests import license_id

CONFORMS_TO = "http://mlcommons.org/croissant/1.1"
# The context of the Croissant 1.1 specification's examples (section "Dataset-level information").
CONTEXT: dict[str, Any] = {
    "@language": "en",
    "@vocab": "https://schema.org/",
    "citeAs": "cr:citeAs",
    "column": "cr:column",
    "conformsTo": "dct:conformsTo",
    "containedIn": "cr:containedIn",
    "cr": "http://mlcommons.org/croissant/",
    "rai": "http://mlcommons.org/croissant/RAI/",
    "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
    "dct": "http://purl.org/dc/terms/",
    "equivalentProperty": "cr:equivalentProperty",
    "examples": {"@id": "cr:examples", "@type": "@json"},
    "extract": "cr:extract",
    "field": "cr:field",
    "fileProperty": "cr:fileProperty",
    "fileObject": "cr:fileObject",
    "fileSet": "cr:fileSet",
    "format": "cr:format",
    "includes": "cr:includes",
    "isLiveDataset": "cr:isLiveDataset",
    "jsonPath": "cr:jsonPath",
    "key": "cr:key",
    "md5": "cr:md5",
    "parentField": "cr:parentField",
    "path": "cr:path",
    "recordSet": "cr:recordSet",
    "references": "cr:references",
    "regex": "cr:regex",
    "repeated": "cr:repeated",
    "replace": "cr:replace",
    "samplingRate": "cr:samplingRate",
    "sc": "https://schema.org/",
    "separator": "cr:separator",
    "source": "cr:source",
    "subField": "cr:subField",
    "transform": "cr:transform",
}
ARCHIVE_ID = "archive"
# A gzip-compressed tar: a tar (mlcroissant extracts a FileObject only when it names
# application/x-tar or application/zip, and its tarfile reads the compression from the magic
# bytes) compressed with gzip (application/gzip, RFC 6713). Croissant allows several formats.
ARCHIVE_FORMATS = ["application/x-tar", "application/gzip"]


def _consent_terms(version: DatasetVersion) -> ConsentTerms | None:
    """The consent terms in force when the version was approved (the submission's newest)."""
    submission = Submission.objects.filter(version=version).first()
    if submission is None:
        return None
    return ConsentTerms.objects.current_for(submission)


def _rai(version: DatasetVersion, terms: ConsentTerms | None) -> dict[str, Any]:
    """Croissant RAI 1.0 fields; absent where we know nothing, rather than a guess."""
    dataset = version.dataset
    rai: dict[str, Any] = {}
    if dataset.intended_usage:
        rai["rai:dataUseCases"] = dataset.intended_usage
    limitations = [
        text for text in (dataset.restrictions, dataset.forbidden_usage, dataset.additional_conditions) if text
    ]
    if limitations:
        rai["rai:dataLimitations"] = "\n\n".join(limitations)
    if dataset.ethical_review_process:
        rai["rai:dataSocialImpact"] = dataset.ethical_review_process
    if terms is not None:
        scope = [
            f"{label}: {'yes' if allowed else 'no'}"
            for label, allowed in (
                ("AI training", terms.ai_training),
                ("commercial use", terms.commercial_use),
                ("research only", terms.research_only),
                ("redistribution", terms.redistribution),
            )
        ]
        rai["rai:dataCollection"] = (
            f"Given by contributors under consent terms (SHA-256 {terms.consent_text_sha256}): "
            f"{terms.consent_text} Scope: {', '.join(scope)}. {terms.scope_text}".strip()
        )
        rai["rai:dataCollectionTimeframe"] = [terms.collection_start.isoformat(), terms.collection_end.isoformat()]
        rai["rai:personalSensitiveInformation"] = (
            f"Contributors are named by pseudonymous ids only; each can withdraw consent: {terms.withdrawal_process}"
        )
    return rai


def _record_set(file_id: str, columns: list[str]) -> dict[str, Any]:
    record_id = f"{file_id}/records"
    return {
        "@type": "cr:RecordSet",
        "@id": record_id,
        "name": record_id,
        "field": [
            {
                "@type": "cr:Field",
                "@id": f"{record_id}/{column}",
                "name": column,
                "dataType": "sc:Text",
                "source": {"fileObject": {"@id": file_id}, "extract": {"column": column}},
            }
            for column in columns
        ],
    }


def build(version: DatasetVersion, *, base_url: str, download_url: str) -> dict[str, Any]:
    """The Croissant document of ``version``; URLs absolute, from the request's host."""
    dataset = version.dataset
    organization = dataset.organization
    archive = {
        "@type": "cr:FileObject",
        "@id": ARCHIVE_ID,
        "name": version.filename,
        "description": "The version's archive, a gzip-compressed tar. GET contentUrl with an API key "
        "(scope 'download'; 'Authorization: Bearer <key>', or HTTP Basic with the key as password, as "
        "mlcroissant sends from CROISSANT_BASIC_AUTH_USERNAME and CROISSANT_BASIC_AUTH_PASSWORD) after "
        "accepting the terms: it redirects to a short-lived URL of the bytes.",
        "contentUrl": download_url,
        "contentSize": f"{version.size_bytes} B",
        "encodingFormat": ARCHIVE_FORMATS,
        "sha256": version.sha256,
    }
    distribution: list[dict[str, Any]] = [archive]
    record_sets: list[dict[str, Any]] = []
    for row in version_files(version):
        distribution.append(
            {
                "@type": "cr:FileObject",
                "@id": row["path"],
                "name": row["path"],
                "contentUrl": row["path"],
                "containedIn": {"@id": ARCHIVE_ID},
                "contentSize": f"{row['size']} B",
                "encodingFormat": row.get("type") or "application/octet-stream",
                "sha256": row["sha256"],
            }
        )
        if row.get("type") in TABULAR_TYPES and row.get("columns"):
            record_sets.append(_record_set(row["path"], list(row["columns"])))
    license = version.license
    document: dict[str, Any] = {
        "@context": CONTEXT,
        "@type": "sc:Dataset",
        "conformsTo": CONFORMS_TO,
        "name": dataset.name,
        "description": dataset.short_description or dataset.long_description or dataset.name,
        "url": base_url + reverse("dataset-detail", args=[dataset.slug]),
        "version": f"{version.number}.0.0",
        "license": license.url or license_id(license),
        "datePublished": version.published_at.date().isoformat() if version.published_at else None,
        "creator": {"@type": "sc:Organization", "name": organization.name,
                    "url": organization.website or base_url + reverse("organization-detail", args=[organization.slug])},
        "inLanguage": dataset.locale or None,
        "keywords": list(dataset.tags) or None,
        "isAccessibleForFree": not dataset.is_paid,
        "sameAs": base_url + reverse("api-version-manifest", args=[dataset.id, version.number]),
        "distribution": distribution,
        **_rai(version, _consent_terms(version)),
    }  # fmt: skip
    if record_sets:
        document["recordSet"] = record_sets
    return {key: value for key, value in document.items() if value is not None}


def _formats(item: dict[str, Any]) -> list[str]:
    formats = item["encodingFormat"]
    return list(formats) if isinstance(formats, list) else [formats]


class CroissantIncomplete(Exception):
    """The dataset lacks what a valid document needs (the MDC route answers 422)."""


def build_catalog_record(version: DatasetVersion, *, base_url: str, download_url: str) -> dict[str, Any]:
    """The document of ``build`` with what the MDC platform's ``CroissantMetadata`` also requires of
    a dataset's current version: its ``@id``, a citation, when it was created and published (full
    timestamps), its language, keywords, total size and the media types of its files.

    Raises CroissantIncomplete when the dataset names no language: ``inLanguage`` is required there
    and a guess would be wrong metadata for search engines."""
    dataset = version.dataset
    if not dataset.locale:
        raise CroissantIncomplete(
            f"{dataset.name} names no language (locale), which Croissant metadata requires: its organization "
            "can add it in the datasheet of a new version."
        )
    document = build(version, base_url=base_url, download_url=download_url)
    keywords = list(dataset.tags)
    if dataset.task and dataset.task not in keywords:
        keywords.append(dataset.task)
    published = version.published_at or dataset.published_at or dataset.created_at
    document.update(
        {
            "@id": document["url"],
            "citeAs": f"{dataset.organization.name}. {dataset.name}, version {version.number}. {document['url']}",
            "dateCreated": dataset.created_at.isoformat(),
            "datePublished": published.isoformat(),
            "inLanguage": dataset.locale,
            "keywords": keywords,
            "contentSize": str(version.size_bytes),
            "encodingFormat": sorted({form for item in document["distribution"] for form in _formats(item)}),
        }
    )
    if dataset.task:
        document["rai:mlTask"] = dataset.task
    return document
