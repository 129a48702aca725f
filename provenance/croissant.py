"""Croissant 1.1 (MLCommons) JSON-LD of a published version, so ML tooling can load its metadata.

Built from what we already hold and have checked: the datasheet, the archive's SHA-256, the file
list of the validation that read every byte (with the header of each CSV/TSV, which gives the
record sets), the license, and the consent terms for the Responsible AI (``rai:``) fields. Nothing
here talks to storage: the archive's ``contentUrl`` is our download endpoint, which a plain GET
with an API key (Bearer, or HTTP Basic with the key as password) follows to a short-lived URL of
the bytes once the download is decided and recorded; the document itself is the same for everyone.

Once the archive's tables are converted to Parquet (``marketplace.viewer.exports``), each Parquet
file is a FileObject too, with a record set whose fields carry the Parquet schema's types: their
``contentUrl`` is the viewer's per-file route, which decides access as the viewer does
(``marketplace.viewer.access``) and redirects to a short-lived URL of the file.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext

from licensing.models import ConsentTerms
from marketplace.models import DatasetVersion, ParquetExport, Submission
from marketplace.submissions.reports import TABULAR_TYPES, version_files
from marketplace.viewer.exports import parquet_filename, version_uploads
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
# The media type mlcroissant reads with pandas.read_parquet (mlcroissant.EncodingFormat.PARQUET).
PARQUET_FORMAT = "application/x-parquet"
# Arrow types (as ``str(pyarrow type)``, which the export records per column) to Croissant's
# dataTypes; by prefix, so "timestamp[us, tz=UTC]" or "decimal128(10, 2)" find theirs. Unknown
# types (lists, structs, binaries) stay sc:Text rather than a guess.
ARROW_DATA_TYPES: list[tuple[str, str]] = [
    ("bool", "sc:Boolean"),
    ("int", "sc:Integer"),
    ("uint", "sc:Integer"),
    ("halffloat", "sc:Float"),
    ("float", "sc:Float"),
    ("double", "sc:Float"),
    ("decimal", "sc:Float"),
    ("date", "sc:Date"),
    ("timestamp", "sc:DateTime"),
    ("time", "sc:Time"),
    ("string", "sc:Text"),
    ("large_string", "sc:Text"),
]


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
                ("derivatives", terms.derivatives),
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


def croissant_data_type(arrow_type: str) -> str:
    """The Croissant dataType of a column whose Arrow type prints as ``arrow_type``."""
    found = [(prefix, data_type) for prefix, data_type in ARROW_DATA_TYPES if arrow_type.startswith(prefix)]
    # "timestamp" and "time" both match "timestamp[s]": the longest prefix is the type.
    return max(found, key=lambda pair: len(pair[0]))[1] if found else "sc:Text"


def _record_set(file_id: str, columns: list[tuple[str, str]]) -> dict[str, Any]:
    """A record set of ``file_id``'s rows: one field per (column, Croissant dataType)."""
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
                "dataType": data_type,
                "source": {"fileObject": {"@id": file_id}, "extract": {"column": column}},
            }
            for column, data_type in columns
        ],
    }


def _parquet_files(
    version: DatasetVersion, parquet_url: Callable[[int], str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """FileObjects and record sets of the archive's Parquet export, once it is ready (none before:
    the document stays valid while the worker converts)."""
    archive, _ = version_uploads(version)
    export = ParquetExport.objects.filter(upload=archive, status=ParquetExport.Status.READY).first()
    if archive is None or export is None:
        return [], []
    files: list[dict[str, Any]] = []
    record_sets: list[dict[str, Any]] = []
    for index, table in enumerate(export.tables):
        file_id = f"parquet/{parquet_filename(table, index)}"
        files.append(
            {
                "@type": "cr:FileObject",
                "@id": file_id,
                "name": file_id,
                "description": f"The table {table['path']} of the archive ({table['rows']} rows, split "
                f"'{table['split']}') as Parquet. GET contentUrl with an API key (scope 'read'; Bearer or HTTP "
                "Basic, as for the archive) by someone who may download the version: it redirects to a "
                "short-lived URL of the file.",
                "contentUrl": parquet_url(index),
                "contentSize": f"{table['size']} B",
                "encodingFormat": PARQUET_FORMAT,
                "sha256": table["sha256"],
            }
        )
        columns = [(column["name"], croissant_data_type(column["type"])) for column in table["columns"]]
        if columns:
            record_sets.append(_record_set(file_id, columns))
    return files, record_sets


def build(
    version: DatasetVersion, *, base_url: str, download_url: str, parquet_url: Callable[[int], str]
) -> dict[str, Any]:
    """The Croissant document of ``version``; URLs absolute, from the request's host:
    ``parquet_url(index)`` is the one of the export's ``index``-th Parquet file."""
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
            record_sets.append(_record_set(row["path"], [(column, "sc:Text") for column in row["columns"]]))
    parquet_files, parquet_record_sets = _parquet_files(version, parquet_url)
    distribution += parquet_files
    record_sets += parquet_record_sets
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


def build_catalog_record(
    version: DatasetVersion, *, base_url: str, download_url: str, parquet_url: Callable[[int], str]
) -> dict[str, Any]:
    """The document of ``build`` with what the MDC platform's ``CroissantMetadata`` also requires of
    a dataset's current version: its ``@id``, a citation, when it was created and published (full
    timestamps), its language, keywords, total size and the media types of its files.

    Raises CroissantIncomplete when the dataset names no language: ``inLanguage`` is required there
    and a guess would be wrong metadata for search engines."""
    dataset = version.dataset
    if not dataset.locale:
        raise CroissantIncomplete(
            gettext(
                "%(dataset)s names no language (locale), which Croissant metadata requires: its "
                "organization can add it in the datasheet of a new version."
            )
            % {"dataset": dataset.name}
        )
    document = build(version, base_url=base_url, download_url=download_url, parquet_url=parquet_url)
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
