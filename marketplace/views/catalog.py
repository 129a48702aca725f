"""Catalog pages: search with facets, a dataset's datasheet, an organization and its datasets.

Views only parse and render; reads come from marketplace.catalog or plain ORM selects. The
search form is a GET form, so the URL holds the whole state (shareable, the back button
works) and it works without JavaScript; htmx only swaps the results in place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.defaultfilters import filesizeformat
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers
from django_htmx.middleware import HtmxDetails

from licensing.access.panel import access_panel
from marketplace import catalog as catalog_reads
from marketplace.markdown import render_markdown
from marketplace.models import Dataset, Membership, Organization, Task
from marketplace.permissions import MANAGER_ROLES, role_in

KIB = 1024
# Size choices offered in the filters; the API accepts any byte count, and a URL with
# another value keeps it as an extra option rather than losing it.
SIZE_STEPS = [KIB**2, 100 * KIB**2, KIB**3, 10 * KIB**3, 100 * KIB**3]
TASK_LABELS = {task.value: task.label for task in Task}
PRICING_CHOICES = [("", "Any price"), ("free", "Free"), ("compensated", "Paid")]
UPLOAD_CHOICES = [
    ("", "Any time"),
    ("today", "Today"),
    ("thisWeek", "This week"),
    ("thisMonth", "This month"),
    ("thisYear", "This year"),
]
# The defaults have the empty value, which the form leaves out of the URL. Without search
# words, "best match" is the newest first (catalog.search).
SORT_CHOICES = [("", "Best match"), ("newest", "Date published"), ("size", "Size")]
DIRECTION_CHOICES = [("", "Descending"), ("asc", "Ascending")]
DEFAULT_SORT, DEFAULT_DIRECTION = "relevance", "desc"


class HtmxHttpRequest(HttpRequest):
    """A request after django-htmx's middleware, which adds ``htmx`` (falsy unless from htmx)."""

    htmx: HtmxDetails


def price_label(dataset: Dataset) -> str:
    if not dataset.is_paid or not dataset.base_price_cents:
        return "Free"
    return f"${dataset.base_price_cents / 100:,.2f}"


@dataclass(frozen=True)
class Card:
    """A dataset as a listing shows it, with the one value the model does not format (price)."""

    dataset: Dataset

    @property
    def price(self) -> str:
        return price_label(self.dataset)


def cards(datasets: list[Dataset]) -> list[Card]:
    return [Card(dataset) for dataset in datasets]


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    selected: bool
    id: str = ""


@dataclass(frozen=True)
class Control:
    """One filter control of the form: a checkbox group (fieldset) or a select."""

    name: str
    label: str
    options: list[Option]


def _checkbox_group(name: str, label: str, values: list[str], chosen: list[str], labels: dict[str, str]) -> Control:
    # A value in the URL that the catalog no longer offers stays ticked, so it can be unticked.
    present = values + [value for value in chosen if value not in values]
    options = [
        Option(value, labels.get(value, value), value in chosen, id=f"filter-{name}-{index}")
        for index, value in enumerate(present)
    ]
    return Control(name, label, options)


def _select(name: str, label: str, choices: list[tuple[str, str]], current: str) -> Control:
    if current and current not in {value for value, _ in choices}:
        choices = [*choices, (current, current)]
    return Control(name, label, [Option(value, text, value == current) for value, text in choices])


def _size_select(name: str, label: str, current: str) -> Control:
    choices = [("", "Any size")] + [(str(step), filesizeformat(step)) for step in SIZE_STEPS]
    if current.isdigit() and current not in {value for value, _ in choices}:
        choices.append((current, filesizeformat(int(current))))
    return _select(name, label, choices, current)


def _filter_controls(request: HttpRequest) -> tuple[list[Control], dict[str, Control]]:
    """The form's state comes from the raw parameters, so it shows what the URL says even
    when a parameter does not parse and the page explains why."""
    options = catalog_reads.facet_options()
    params = request.GET

    def one(key: str) -> str:
        return (params.get(key) or "").strip()

    def many(key: str) -> list[str]:
        return [value.strip() for value in params.getlist(key) if value.strip()]

    groups = [
        _checkbox_group(
            "task", "Task", options.tasks, many("task"), {v: f"{label} ({v})" for v, label in TASK_LABELS.items()}
        ),
        _checkbox_group("locale", "Language (locale)", options.locales, many("locale"), {}),
        _checkbox_group("license", "License", options.licenses, many("license"), {}),
        _checkbox_group("format", "Format", options.formats, many("format"), {}),
    ]
    selects = {
        "pricing": _select("pricing", "Price", PRICING_CHOICES, one("pricing")),
        "upload_date": _select("uploadDate", "Published", UPLOAD_CHOICES, one("uploadDate")),
        "min_size": _size_select("minSize", "Size at least", one("minSize")),
        "max_size": _size_select("maxSize", "Size at most", one("maxSize")),
    }
    return groups, selects


def _unless_default(request: HttpRequest, key: str, default: str) -> str:
    value = (request.GET.get(key) or "").strip()
    return "" if value == default else value


@require_GET
@vary_on_headers("HX-Request")
def catalog(request: HtmxHttpRequest) -> HttpResponse:
    """The catalog page, or only its results for an htmx request (the form stays in place).

    ``Vary: HX-Request`` keeps the browser from showing a cached fragment as a whole page
    when the back button returns to a URL that htmx fetched."""
    groups, selects = _filter_controls(request)
    limit = (request.GET.get("limit") or "").strip()
    context: dict[str, Any] = {
        "groups": groups,
        "selects": selects,
        "sort": _select("sort", "Sort by", SORT_CHOICES, _unless_default(request, "sort", DEFAULT_SORT)),
        "direction": _select(
            "sortDirection", "Order", DIRECTION_CHOICES, _unless_default(request, "sortDirection", DEFAULT_DIRECTION)
        ),
        "q": (request.GET.get("q") or "").strip(),
        "sample": (request.GET.get("sample") or "").strip().lower() not in ("", "false", "0"),
        # Carried in a hidden field only when valid: a bad one would make every later update fail too.
        "limit": limit if limit.isdigit() and 1 <= int(limit) <= catalog_reads.MAX_LIMIT else "",
    }
    status = 200
    try:
        query = catalog_reads.parse_query(request.GET)
    except catalog_reads.CatalogQueryError as exc:
        context["error"] = str(exc)
        status = 400
    else:
        result = catalog_reads.search(query)
        context.update(result=result, cards=cards(result.items))
    # A history restore asks for the whole page, though it comes from htmx.
    partial = bool(request.htmx) and not request.htmx.history_restore_request
    context["partial"] = partial
    template = "catalog/_results.html" if partial else "catalog/list.html"
    return render(request, template, context, status=status)


def _is_member(request: HttpRequest, organization_id: str) -> bool:
    user = request.user
    if not user.is_authenticated:
        return False
    return Membership.objects.filter(organization_id=organization_id, user_id=user.pk).exists()


# The MDC datasheet's long texts, in the order the page shows them.
DATASHEET_TEXTS = [
    ("intended_usage", "Intended usage"),
    ("forbidden_usage", "Forbidden usage"),
    ("restrictions", "Restrictions"),
    ("additional_conditions", "Additional conditions"),
    ("ethical_review_process", "Ethical review process"),
    ("other", "Other information"),
]
PERMISSIONS = [
    ("commercial_use", "Commercial use", ("allowed", "not allowed")),
    ("ai_training", "AI training", ("allowed", "not allowed")),
    ("derivatives", "Derivative works", ("allowed", "not allowed")),
    ("redistribution", "Redistribution", ("allowed", "not allowed")),
    ("attribution", "Attribution", ("required", "not required")),
    ("share_alike", "Share-alike", ("required", "not required")),
]


@dataclass(frozen=True)
class Person:
    role: str
    name: str
    email: str


def _people(dataset: Dataset) -> list[Person]:
    """Who made, funded and answers for the dataset. Email addresses, and the contacts
    themselves, appear only when the organization chose to show contact information."""
    shown = dataset.show_contact_info
    people = [
        Person("Created by", dataset.created_by_full_name, dataset.created_by_email if shown else ""),
        Person("Funded by", dataset.funded_by_full_name, dataset.funded_by_email if shown else ""),
    ]
    if shown:
        people += [
            Person("Point of contact", dataset.point_of_contact_full_name, dataset.point_of_contact_email),
            Person("Legal contact", dataset.legal_contact_full_name, dataset.legal_contact_email),
        ]
    return people


@require_GET
def dataset_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """The datasheet. Drafts do not exist for visitors; private datasets exist only for the
    organization's members (404, not 403, so their names do not leak); a removed dataset
    answers 410 with the reason, so links to it explain themselves."""
    dataset = get_object_or_404(
        Dataset.objects.select_related("organization", "license", "current_version__license"),
        slug=slug,
    )
    if dataset.status == Dataset.Status.DRAFT:
        raise Http404("draft")
    if dataset.visibility == Dataset.Visibility.PRIVATE and not _is_member(request, dataset.organization_id):
        raise Http404("private")
    if dataset.status == Dataset.Status.REMOVED:
        return render(request, "catalog/removed.html", {"dataset": dataset}, status=410)

    return render_dataset(request, dataset)


def render_dataset(request: HttpRequest, dataset: Dataset, *, access: Any = None, status: int = 200) -> HttpResponse:
    """The datasheet page. ``access`` is the "Access and download" panel (licensing decides what
    it offers); a form posted from it that fails comes back here with its errors."""
    from licensing import tdmrep
    from provenance.lineage import lineage_of

    license = dataset.license
    tdm = tdmrep.headers(dataset, absolute=request.build_absolute_uri)
    context = {
        "dataset": dataset,
        "price": price_label(dataset),
        "task_label": TASK_LABELS.get(dataset.task, ""),
        "long_description": render_markdown(dataset.long_description),
        "texts": [
            (label, render_markdown(getattr(dataset, field), heading_level=4)) for field, label in DATASHEET_TEXTS
        ],
        "people": _people(dataset),
        "versions": list(dataset.versions.order_by("-number")),
        "permissions": [
            (label, words[0] if getattr(license, field) else words[1]) for field, label, words in PERMISSIONS
        ]
        if license
        else [],
        "access": access or access_panel(request, dataset),
        "tdm_headers": tdm,
        "lineage": lineage_of(dataset=dataset, user=request.user),
    }
    response = render(request, "catalog/dataset.html", context, status=status)
    for name, value in tdm.items():
        response[name] = value
    return response


@require_GET
def organization_detail(request: HttpRequest, slug: str) -> HttpResponse:
    organization = get_object_or_404(Organization, slug=slug)
    datasets = list(
        catalog_reads.listed_datasets()
        .filter(organization=organization)
        .select_related("organization", "license", "current_version")
        .order_by("-published_at", "-id")
    )
    my_role = role_in(request.user, organization)  # one query answers both questions
    context = {
        "organization": organization,
        "cards": cards(datasets),
        "my_role": my_role,
        "can_manage": my_role in MANAGER_ROLES,
    }
    return render(request, "catalog/organization.html", context)
