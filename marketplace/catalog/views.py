"""Catalog pages: search with facets, an organization and its datasets.

Views only parse and render; reads come from ``marketplace.catalog.search`` or plain ORM selects. The
search form is a GET form, so the URL holds the whole state (shareable, the back button
works) and it works without JavaScript; htmx only swaps the results in place.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.defaultfilters import filesizeformat
from django.template.loader import render_to_string
from django.utils.autoreload import file_changed
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers
from django_htmx.middleware import HtmxDetails

from licensing.revenue import amounts
from marketplace.catalog import search as catalog_reads
from marketplace.catalog.languages import language_name
from marketplace.models import Dataset, Organization, Task
from marketplace.permissions import MANAGER_ROLES, role_in
from provenance.federation import listing as federation

KIB = 1024
# Rendered cards kept per process (a few KiB each): the catalog's popular pages and the home page.
CARDS_REMEMBERED = 4096


# Size choices offered in the filters; the API accepts any byte count, and a URL with
# another value keeps it as an extra option rather than losing it.
SIZE_STEPS = [KIB**2, 100 * KIB**2, KIB**3, 10 * KIB**3, 100 * KIB**3]


TASK_LABELS = {task.value: task.label for task in Task}


PRICING_CHOICES = [("", _("Any price")), ("free", _("Free")), ("compensated", _("Paid"))]


UPLOAD_CHOICES = [
    ("", _("Any time")),
    ("today", _("Today")),
    ("thisWeek", _("This week")),
    ("thisMonth", _("This month")),
    ("thisYear", _("This year")),
]


# The defaults have the empty value, which the form leaves out of the URL. Without search
# words, "best match" is the newest first (catalog.search).
SORT_CHOICES = [("", _("Best match")), ("newest", _("Date published")), ("size", _("Size"))]


DIRECTION_CHOICES = [("", _("Descending")), ("asc", _("Ascending"))]


DEFAULT_SORT, DEFAULT_DIRECTION = "relevance", "desc"


class HtmxHttpRequest(HttpRequest):
    """A request after django-htmx's middleware, which adds ``htmx`` (falsy unless from htmx)."""

    htmx: HtmxDetails


def price_label(dataset: Dataset) -> str:
    if not dataset.is_paid or not dataset.base_price_cents:
        return str(_("Free"))
    return amounts.amount(dataset.base_price_cents, dataset.currency)  # "250.00 USD", as invoices say


@dataclass(frozen=True)
class Card:
    """A dataset as a listing shows it: exactly the values its card shows, and nothing else.

    The card's template reads only these (never the model), so the rendered card is a function of
    the values and the language: ``html`` remembers it. A listing of 24 cards spent half its
    time in the template engine, rebuilding the same markup for the same datasets."""

    slug: str
    name: str
    short_description: str
    organization_slug: str
    organization_name: str
    task: str
    task_label: str
    locale: str
    license_abbreviation: str
    format: str
    size_bytes: int
    is_paid: bool
    price: str
    on_request: bool

    @classmethod
    def of(cls, dataset: Dataset) -> Card:
        return cls(
            slug=dataset.slug,
            name=dataset.name,
            short_description=dataset.short_description,
            organization_slug=dataset.organization.slug,
            organization_name=dataset.organization.name,
            task=dataset.task,
            # Not the model's get_task_display, which rebuilds a dict of every choice on each call.
            task_label=str(TASK_LABELS.get(dataset.task, dataset.task)),
            locale=dataset.locale,
            license_abbreviation=dataset.license.abbreviation if dataset.license else "",
            format=dataset.format,
            size_bytes=dataset.size_bytes,
            is_paid=dataset.is_paid,
            price=price_label(dataset),
            on_request=dataset.visibility == Dataset.Visibility.RESTRICTED,
        )

    @property
    def html(self) -> SafeString:
        return _card_html(self, get_language())


@lru_cache(maxsize=CARDS_REMEMBERED)
def _card_html(card: Card, language: str | None) -> SafeString:
    """The card's markup in ``language`` (the active one: the argument is the memo's key)."""
    return mark_safe(render_to_string("catalog/_card.html", {"card": card}))  # noqa: S308 (an autoescaped template)


@receiver(file_changed)
def _forget_cards(**_signal: object) -> None:
    """``make run``'s autoreloader saw a file change (a card template, say): render cards anew."""
    _card_html.cache_clear()


def cards(datasets: list[Dataset]) -> list[Card]:
    return [Card.of(dataset) for dataset in datasets]


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    selected: bool
    id: str = ""
    count: int | None = None  # datasets the option would list, the other filters applied
    name: str = ""  # a checkbox's parameter (its group's name)

    # An option's count, beside its label; "oob" when the results replace it in the form. Built
    # here, not by a template included per option: a page has about a hundred options, and the
    # include with its plural cost a quarter of the page's time.
    def count_markup(self, *, oob: bool = False) -> SafeString:
        swap = mark_safe(' hx-swap-oob="true"') if oob else ""  # noqa: S308 (a constant)
        said = ""
        if self.count is not None:
            # The translation's markup is the translators' (as in a blocktranslate), the count a number.
            said = mark_safe(  # noqa: S308
                '<span class="visually-hidden">, </span>'
                + ngettext(
                    '%(counter)s<span class="visually-hidden"> dataset</span>',
                    '%(counter)s<span class="visually-hidden"> datasets</span>',
                    self.count,
                )
                % {"counter": int(self.count)}
            )
        return format_html('<span class="facet-count" id="{}-count"{}>{}</span>', self.id, swap, said)

    @property
    def count_oob_html(self) -> SafeString:
        return self.count_markup(oob=True)

    @property
    def checkbox_html(self) -> SafeString:
        """The option as a checkbox of its group, with its label and count (built here for the
        same reason as the count: seven template lookups an option, a hundred options a page)."""
        checked = mark_safe(" checked") if self.selected else ""  # noqa: S308 (a constant)
        return format_html(
            '<div class="check"><input type="checkbox" id="{}" name="{}" value="{}"{}>\n'
            '<label for="{}">{}{}</label></div>\n',
            self.id, self.name, self.value, checked, self.id, self.label, self.count_markup(),
        )  # fmt: skip


@dataclass(frozen=True)
class Control:
    """One filter control of the form: a checkbox group (fieldset) or a select."""

    name: str
    label: Any  # lazily translated
    options: list[Option]


def _checkbox_group(
    name: str, label: Any, values: list[str], chosen: list[str], labels: dict[str, str], counts: dict[str, int] | None
) -> Control:
    # A value in the URL that the catalog no longer offers stays ticked, so it can be unticked.
    # Ids follow the order of ``values`` (the same in the page and in the partial that updates its
    # counts); the options show in the order of their labels, in the viewer's language.
    present = values + [value for value in chosen if value not in values]
    options = [
        Option(
            value,
            labels.get(value, value),
            value in chosen,
            id=f"filter-{name}-{index}",
            count=None if counts is None else counts.get(value, 0),
            name=name,
        )
        for index, value in enumerate(present)
    ]
    if name == "locale":
        options.sort(key=lambda option: option.label.casefold())
    return Control(name, label, options)


def _select(name: str, label: Any, choices: list[tuple[str, Any]], current: str) -> Control:
    if current and current not in {value for value, _ in choices}:
        choices = [*choices, (current, current)]
    return Control(name, label, [Option(value, text, value == current) for value, text in choices])


def _size_select(name: str, label: Any, current: str) -> Control:
    choices: list[tuple[str, Any]] = [("", _("Any size"))] + [(str(step), filesizeformat(step)) for step in SIZE_STEPS]
    if current.isdigit() and current not in {value for value, _ in choices}:
        choices.append((current, filesizeformat(int(current))))
    return _select(name, label, choices, current)


def _filter_controls(
    request: HttpRequest, counts: dict[str, dict[str, int]] | None = None
) -> tuple[list[Control], dict[str, Control]]:
    """The form's state comes from the raw parameters, so it shows what the URL says even
    when a parameter does not parse and the page explains why (then without counts)."""
    options = catalog_reads.facet_options()
    params = request.GET

    def one(key: str) -> str:
        return (params.get(key) or "").strip()

    def many(key: str) -> list[str]:
        return [value.strip() for value in params.getlist(key) if value.strip()]

    counts = counts or {}
    locales = many("locale")
    groups = [
        _checkbox_group(
            "task",
            _("Task"),
            options.tasks,
            many("task"),
            {v: f"{label} ({v})" for v, label in TASK_LABELS.items()},
            counts.get("task"),
        ),
        _checkbox_group(
            "locale",
            _("Language"),
            options.locales,
            locales,
            {code: language_name(code) for code in [*options.locales, *locales]},
            counts.get("locale"),
        ),
        _checkbox_group("license", _("License"), options.licenses, many("license"), {}, counts.get("license")),
        _checkbox_group("format", _("Format"), options.formats, many("format"), {}, counts.get("format")),
    ]
    selects = {
        "pricing": _select("pricing", _("Price"), PRICING_CHOICES, one("pricing")),
        "upload_date": _select("uploadDate", _("Published"), UPLOAD_CHOICES, one("uploadDate")),
        "min_size": _size_select("minSize", _("Size at least"), one("minSize")),
        "max_size": _size_select("maxSize", _("Size at most"), one("maxSize")),
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
    when the back button returns to a URL that htmx fetched.

    The form and the results are the same for every visitor who asks the same in the same language
    (no one's own data, no CSRF token: a GET form), so they are kept until the catalog changes
    (``catalog.search.remembered``); the page around them (the visitor's menu) is rendered for each."""
    # A history restore asks for the whole page, though it comes from htmx.
    partial = bool(request.htmx) and not request.htmx.history_restore_request
    status, body = catalog_reads.remembered(
        catalog_reads.answer_name(request, "page-results" if partial else "page"),
        lambda: _catalog_body(request, partial=partial),
    )
    if partial:
        return HttpResponse(body, status=status)
    q = (request.GET.get("q") or "").strip()
    return render(request, "catalog/list.html", {"q": q, "body": mark_safe(body)}, status=status)  # noqa: S308 (rendered, autoescaped)


def _catalog_body(request: HttpRequest, *, partial: bool) -> tuple[int, str]:
    """The search form and its results (the page's body), or the results alone (``partial``), with
    the page's status: 400 when a parameter does not parse."""
    limit = (request.GET.get("limit") or "").strip()
    context: dict[str, Any] = {
        "sort": _select("sort", _("Sort by"), SORT_CHOICES, _unless_default(request, "sort", DEFAULT_SORT)),
        "direction": _select(
            "sortDirection",
            _("Order"),
            DIRECTION_CHOICES,
            _unless_default(request, "sortDirection", DEFAULT_DIRECTION),
        ),
        "q": (request.GET.get("q") or "").strip(),
        "sample": (request.GET.get("sample") or "").strip().lower() not in ("", "false", "0"),
        # Carried in a hidden field only when valid: a bad one would make every later update fail too.
        "limit": limit if limit.isdigit() and 1 <= int(limit) <= catalog_reads.MAX_LIMIT else "",
    }
    status = 200
    counts = None
    try:
        query = catalog_reads.parse_query(request.GET)
    except catalog_reads.CatalogQueryError as exc:
        context["error"] = str(exc)
        status = 400
    else:
        result = catalog_reads.search(query)
        context.update(result=result, cards=cards(result.items))
        context.update(_remote(request))
        terms = result.corrected.split() if result.fuzzy else catalog_reads.search_terms(query.q)
        if not (query.q and not terms):  # only punctuation searched: nothing to count
            counts = catalog_reads.facet_counts(query, terms)
    context["groups"], context["selects"] = _filter_controls(request, counts)
    context["partial"] = partial
    template = "catalog/_results.html" if partial else "catalog/_catalog.html"
    return status, render_to_string(template, context, request=request)


# --- Federation: datasets of the instances this one follows (issue 20, part 4) ----------------------
REMOTE_ON_PAGE = 24
# The facets describe this instance's datasets; remote ones are matched by the search words alone,
# so a filtered search leaves them out rather than pretending they were filtered.
NOT_FILTERS = {"q", "sort", "sortDirection", "page", "limit"}


def _remote(request: HttpRequest) -> dict[str, Any]:
    filtered = any(value.strip() for key in request.GET if key not in NOT_FILTERS for value in request.GET.getlist(key))
    if filtered or (request.GET.get("page") or "1") != "1":
        return {"remote": [], "remote_total": 0}
    rows = federation.listed_remote(q=(request.GET.get("q") or "").strip())
    shown = list(rows[:REMOTE_ON_PAGE])
    # Counted only when the page is full: an instance that follows nobody pays one empty query.
    return {"remote": shown, "remote_total": rows.count() if len(shown) == REMOTE_ON_PAGE else len(shown)}


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
