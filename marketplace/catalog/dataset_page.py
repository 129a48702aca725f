"""A dataset's page, as a product: the facts and the main action (the access panel of
``licensing.access``, which says what the visitor may do) at the top; beside the tabs, the size,
rows, downloads, what the license permits and how to load it; the tabs hold the card (the
datasheet), the viewer, the files, the versions and the provenance. One renderer serves the page
and every form posted from its panel that comes back with errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from licensing import tdmrep
from licensing.access.downloads import archive_download_count
from licensing.access.panel import access_panel
from licensing.consent.scope import compare
from licensing.models import ConsentTerms, License
from marketplace.catalog.views import TASK_LABELS, price_label
from marketplace.markdown import render_markdown
from marketplace.models import Dataset, DatasetVersion, Membership, Submission, Validation
from marketplace.permissions import can_upload_for
from provenance.lineage import lineage_of


def _is_member(request: HttpRequest, organization_id: str) -> bool:
    user = request.user
    if not user.is_authenticated:
        return False
    return Membership.objects.filter(organization_id=organization_id, user_id=user.pk).exists()


# The MDC datasheet's long texts, in the order the page shows them.
DATASHEET_TEXTS = [
    ("intended_usage", _("Intended usage")),
    ("forbidden_usage", _("Forbidden usage")),
    ("restrictions", _("Restrictions")),
    ("additional_conditions", _("Additional conditions")),
    ("ethical_review_process", _("Ethical review process")),
    ("other", _("Other information")),
]


ALLOWED, NOT_ALLOWED = _("allowed"), _("not allowed")
REQUIRED, NOT_REQUIRED = _("required"), _("not required")
PERMISSIONS = [
    ("commercial_use", _("Commercial use"), (ALLOWED, NOT_ALLOWED)),
    ("ai_training", _("AI training"), (ALLOWED, NOT_ALLOWED)),
    ("derivatives", _("Derivative works"), (ALLOWED, NOT_ALLOWED)),
    ("redistribution", _("Redistribution"), (ALLOWED, NOT_ALLOWED)),
    ("attribution", _("Attribution"), (REQUIRED, NOT_REQUIRED)),
    ("share_alike", _("Share-alike"), (REQUIRED, NOT_REQUIRED)),
]


# What the side panel shows at a glance: (label, the license's flag, whether True is good news).
PERMISSION_BADGES = [
    (_("Commercial use"), "commercial_use"),
    (_("AI training"), "ai_training"),
    (_("Derivatives"), "derivatives"),
    (_("Redistribution"), "redistribution"),
    (_("Attribution required"), "attribution"),
    (_("Share-alike"), "share_alike"),
]

# The files tab lists this many; a bigger archive says how many more its manifest holds.
FILES_SHOWN = 500


@dataclass(frozen=True)
class FileRow:
    path: str
    size: int
    type: str
    rows: int | None
    sha256: str


@dataclass(frozen=True)
class Snippet:
    key: str
    label: str  # a tool's name, the same in every language
    code: str


def _file_rows(files: list[dict[str, Any]]) -> list[FileRow]:
    return [
        FileRow(
            path=row["path"],
            size=int(row.get("size") or 0),
            type=row.get("type") or "",
            rows=row["rows"] if isinstance(row.get("rows"), int) else None,
            sha256=row.get("sha256") or "",
        )
        for row in files[:FILES_SHOWN]
    ]


def version_files(version: DatasetVersion) -> list[dict[str, Any]]:
    """The file list of the passed validation of the archive ``version`` was approved from, as
    marketplace.submissions.reports.version_files reads it for Croissant (catalog may not import
    submissions, which imports catalog). Empty for a version published outside the submission flow."""
    uploads = Submission.objects.filter(version=version).values("archive_upload")
    files = (
        Validation.objects.filter(upload__in=uploads, status=Validation.Status.PASSED)
        .values_list("files", flat=True)
        .first()
    )
    return list(files or [])


def _first_table(files: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The first CSV/TSV of the archive with its header (the validator keeps ``columns`` for those
    only), for the preview and the snippets."""
    return next((row for row in files if row.get("columns")), None)


def _snippets(dataset_id: str, api_url: str, table: dict[str, Any] | None) -> list[Snippet]:
    """How to load the dataset with the SDK, pandas, Hugging Face ``datasets`` and DuckDB: each
    fetches the archive with the official SDK (which checks the grant) and reads its first table."""
    path = table["path"] if table else "<a table of the archive>.csv"
    tab = table is not None and table.get("type") == "text/tab-separated-values"
    fetch = f'folder = download_dataset("{dataset_id}", extract=True)'
    setup = f"# export MDC_API_URL={api_url} MDC_API_KEY=<your API key, scope download>\n"
    return [
        Snippet(
            "sdk",
            "datacollective",
            f"{setup}from datacollective import download_dataset\n\n{fetch}\nprint(sorted(folder.rglob('*')))",
        ),
        Snippet(
            "pandas",
            "pandas",
            f"{setup}import pandas as pd\nfrom datacollective import download_dataset\n\n{fetch}\n"
            f'df = pd.read_csv(folder / "{path}"{", sep=chr(9)" if tab else ""})',
        ),
        Snippet(
            "datasets",
            "Hugging Face datasets",
            f"{setup}from datasets import load_dataset\nfrom datacollective import download_dataset\n\n{fetch}\n"
            f'ds = load_dataset("csv", data_files=str(folder / "{path}"){", delimiter=chr(9)" if tab else ""})',
        ),
        Snippet(
            "duckdb",
            "DuckDB",
            f"{setup}import duckdb\nfrom datacollective import download_dataset\n\n{fetch}\n"
            f'duckdb.read_csv(str(folder / "{path}")).limit(10).show()',
        ),
    ]


def _verify_command(filename: str) -> str:
    """The offline check of a version's archive, as the provenance tab shows it."""
    return (
        f"python -m provenance.verify {filename} --manifest {filename}.manifest.json \\\n"
        f"    --public-key key.pem --inclusion-proof {filename}.inclusion-proof.json"
    )


@dataclass(frozen=True)
class PermissionRow:
    """One permission as the license gives it and as the contributors consented to it; ``narrower``
    when the license allows what the consent does not, which the page never shows as allowed alone."""

    name: str
    label: Any  # lazily translated words
    license_says: Any
    consent_says: Any
    narrower: bool


def _consent_of(version: DatasetVersion | None) -> ConsentTerms | None:
    """The consent terms the current version was published under (none for an import)."""
    if version is None:
        return None
    return ConsentTerms.objects.filter(submission__version=version).order_by("-created_at", "-id").first()


def _permission_rows(license: License, terms: ConsentTerms) -> list[PermissionRow]:
    labels = {field: label for field, label, _ in PERMISSIONS}
    rows = []
    for permission in compare(consent=terms, license=license):
        if permission.consent_allows:
            consent_says = _("consented")
        elif permission.name == "commercial_use" and terms.research_only:
            consent_says = _("not consented: research only")
        else:
            consent_says = _("not consented")
        license_says = ALLOWED if permission.license_allows else NOT_ALLOWED
        if permission.beyond_consent:
            license_says = _("allows it, but the contributors did not consent: not allowed")
        rows.append(
            PermissionRow(
                permission.name, labels[permission.name], license_says, consent_says, permission.beyond_consent
            )
        )
    return rows


@dataclass(frozen=True)
class Person:
    role: Any  # lazily translated
    name: str
    email: str


def _people(dataset: Dataset) -> list[Person]:
    """Who made, funded and answers for the dataset. Email addresses, and the contacts
    themselves, appear only when the organization chose to show contact information."""
    shown = dataset.show_contact_info
    people = [
        Person(_("Created by"), dataset.created_by_full_name, dataset.created_by_email if shown else ""),
        Person(_("Funded by"), dataset.funded_by_full_name, dataset.funded_by_email if shown else ""),
    ]
    if shown:
        people += [
            Person(_("Point of contact"), dataset.point_of_contact_full_name, dataset.point_of_contact_email),
            Person(_("Legal contact"), dataset.legal_contact_full_name, dataset.legal_contact_email),
        ]
    return people


def page_dataset(request: HttpRequest, slug: str) -> Dataset:
    """The dataset a page of ``slug`` shows. Drafts do not exist for visitors; private datasets
    exist only for the organization's members (404, not 403, so their names do not leak). A
    removed dataset is returned: its pages answer 410 with the reason (``removed``)."""
    dataset = get_object_or_404(
        Dataset.objects.select_related("organization", "license", "current_version__license"),
        slug=slug,
    )
    if dataset.status == Dataset.Status.DRAFT:
        raise Http404("draft")
    if dataset.visibility == Dataset.Visibility.PRIVATE and not _is_member(request, dataset.organization_id):
        raise Http404("private")
    return dataset


def removed(request: HttpRequest, dataset: Dataset) -> HttpResponse:
    """410 with the reason, so links to a removed dataset explain themselves."""
    return render(request, "catalog/removed.html", {"dataset": dataset}, status=410)


@require_GET
def dataset_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """The datasheet."""
    dataset = page_dataset(request, slug)
    if dataset.status == Dataset.Status.REMOVED:
        return removed(request, dataset)
    return render_dataset(request, dataset)


def _versions_with_previous(dataset: Dataset) -> list[tuple[DatasetVersion, int | None]]:
    """Each version, newest first, with the number of the published version before it (whose
    changes the row links to), or None for the first."""
    versions = list(dataset.versions.order_by("-number"))
    published = [version.number for version in versions if version.published_at]
    return [
        (version, next((n for n in published if n < version.number), None) if version.published_at else None)
        for version in versions
    ]


def render_dataset(request: HttpRequest, dataset: Dataset, *, access: Any = None, status: int = 200) -> HttpResponse:
    """The datasheet page. ``access`` is the "Access and download" panel (licensing decides what
    it offers); a form posted from it that fails comes back here with its errors."""

    license = dataset.license
    version = dataset.current_version
    tdm = tdmrep.headers(dataset, absolute=request.build_absolute_uri)
    files = version_files(version) if version else []
    counted = [row["rows"] for row in files if isinstance(row.get("rows"), int)]
    table = _first_table(files)
    terms = _consent_of(version)
    permission_rows = _permission_rows(license, terms) if license and terms else []
    not_consented = {row.name for row in permission_rows if row.narrower}
    context = {
        "dataset": dataset,
        "version": version,
        "price": price_label(dataset),
        "task_label": TASK_LABELS.get(dataset.task, ""),
        "long_description": render_markdown(dataset.long_description),
        # Empty fields are left out, not shown as "Not stated".
        "texts": [
            (label, html)
            for field, label in DATASHEET_TEXTS
            if (html := render_markdown(getattr(dataset, field), heading_level=4))
        ],
        "people": [person for person in _people(dataset) if person.name],
        "updated_at": (version.published_at if version else None) or dataset.published_at,
        "files": _file_rows(files),
        "files_more": max(len(files) - FILES_SHOWN, 0),
        "file_count": len(files),
        "row_count": sum(counted) if counted else None,
        "preview_table": table,
        "downloads": archive_download_count(dataset=dataset),
        # (label, yes, what to say): a permission the contributors did not consent to is no.
        "permission_badges": [
            (label, False, _("no: not consented"))
            if field in not_consented
            else (label, bool(getattr(license, field)), _("yes") if getattr(license, field) else _("no"))
            for label, field in PERMISSION_BADGES
        ]
        if license
        else [],
        "consent": terms,
        "permission_rows": permission_rows,
        "snippets": _snippets(dataset.id, request.build_absolute_uri("/api"), table) if version else [],
        "versions": _versions_with_previous(dataset),
        "verify_command": _verify_command(version.filename) if version else "",
        "permissions": [
            (field, label, words[0] if getattr(license, field) else words[1]) for field, label, words in PERMISSIONS
        ]
        if license
        else [],
        "access": access or access_panel(request, dataset),
        "tdm_headers": tdm,
        "lineage": lineage_of(dataset=dataset, user=request.user),
        # The roles drafts.open_version_draft allows; the button opens (or reuses) the draft.
        "can_add_version": dataset.status == Dataset.Status.PUBLISHED
        and dataset.organization.approved_to_upload
        and can_upload_for(request.user, dataset.organization),
    }
    response = render(request, "catalog/dataset.html", context, status=status)
    for name, value in tdm.items():
        response[name] = value
    return response
