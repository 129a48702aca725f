"""The viewer on the dataset page: a paged table of a split's rows with search, a filter in the
predicate language and ordering columns, each column's statistics as a small chart, and an audio
player where a cell names an audio file of the archive.

A GET form and plain links hold the whole state in the URL, so the viewer works without script
(``/datasets/<slug>/viewer/`` is then a page of its own); htmx fetches the same URL and swaps only
the fragment. The rows come from ``marketplace.viewer.access`` and ``queries``, as the viewer API's
do: whoever may download the version sees the archive's rows, everyone else who may see the
dataset the sample's, and a line says which. The page lives here rather than beside the catalog's
pages because the viewer reads the catalog's visibility rule: the catalog may not import it back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from config.refusals import Gone, NotReady
from marketplace.catalog.dataset_page import page_dataset, removed
from marketplace.catalog.views import HtmxHttpRequest
from marketplace.models import Dataset
from marketplace.viewer import access, audio, predicates, queries

PAGE_ROWS = 20
CHART_WIDTH = 160
BAR_HEIGHT = 14
TOP_SHOWN = 5


class ViewerForm(forms.Form):
    split = forms.CharField(max_length=200, required=False)
    offset = forms.IntegerField(min_value=0, max_value=2**62, required=False)
    length = forms.IntegerField(min_value=1, max_value=queries.MAX_LENGTH, required=False)
    q = forms.CharField(max_length=500, required=False, strip=False)
    where = forms.CharField(max_length=2000, required=False)
    orderby = forms.CharField(max_length=500, required=False)


@dataclass(frozen=True)
class Bar:
    label: str
    count: int
    width: int
    y: int


@dataclass(frozen=True)
class Chart:
    """One column's statistics, drawn as an inline SVG with its numbers as text beside it."""

    column: str
    type: str
    path: str
    count: int
    nulls: int
    bars: list[Bar]
    numbers: list[tuple[str, Any]]  # (min|mean|max, value)
    mean_x: int | None  # where the mean sits between min (0) and max (CHART_WIDTH)
    distinct: int | None

    @property
    def height(self) -> int:
        return max(len(self.bars), 1) * (BAR_HEIGHT + 4) if self.bars else 24


def _bars(pairs: list[tuple[str, int]]) -> list[Bar]:
    top = max((count for _label, count in pairs), default=0) or 1
    return [
        Bar(label, count, max(round(count / top * CHART_WIDTH), 1 if count else 0), i * (BAR_HEIGHT + 4))
        for i, (label, count) in enumerate(pairs)
    ]


def _number(value: Any) -> str:
    if isinstance(value, float):
        return format(value, ".4g")
    return str(value)


def _chart(table: dict[str, Any], column: dict[str, Any]) -> Chart:
    stats = column.get("statistics") or {}
    bars: list[Bar] = []
    numbers: list[tuple[str, Any]] = []
    mean_x = None
    if stats.get("top"):
        bars = _bars([(str(item["value"]), int(item["count"])) for item in stats["top"][:TOP_SHOWN]])
    elif "true" in stats:
        bars = _bars([("true", int(stats["true"] or 0)), ("false", int(stats["false"] or 0))])
    elif "min" in stats:
        labels = {"min": _("min"), "mean": _("mean"), "max": _("max")}
        numbers = [(labels[name], _number(stats[name])) for name in ("min", "mean", "max") if name in stats]
        low, high, mean = stats.get("min"), stats.get("max"), stats.get("mean")
        if all(isinstance(v, int | float) for v in (low, high, mean)) and high != low:
            mean_x = round((mean - low) / (high - low) * CHART_WIDTH)  # type: ignore[operator]
    return Chart(
        column=column["name"], type=column["type"], path=table["path"], count=int(stats.get("count") or 0),
        nulls=int(stats.get("nulls") or 0), bars=bars, numbers=numbers, mean_x=mean_x,
        distinct=stats.get("distinct"),
    )  # fmt: skip


@dataclass(frozen=True)
class Header:
    name: str
    url: str
    sort: str  # "ascending", "descending" or "none", for aria-sort


@dataclass(frozen=True)
class Cell:
    value: Any
    audio: str  # a presigned URL, or ""


def header_order(name: str, current: str) -> tuple[str, str]:
    """The ``orderby`` a click on a column header asks for (ascending first, then descending), and
    how the table is ordered by that column now."""
    plain = name.isidentifier() and name.upper() not in predicates.KEYWORDS
    quoted = name if plain else predicates.quote_identifier(name)
    if current in (f"{quoted} ASC", quoted):
        return f"{quoted} DESC", "ascending"
    if current == f"{quoted} DESC":
        return f"{quoted} ASC", "descending"
    return f"{quoted} ASC", "none"


def _url(base: str, **params: Any) -> str:
    kept = {key: value for key, value in params.items() if value not in ("", None, 0)}
    return f"{base}?{urlencode(kept)}" if kept else base


def _notice(request: HtmxHttpRequest, dataset: Dataset, message: str, status: int) -> HttpResponse:
    return _render(request, {"dataset": dataset, "notice": message}, status)


def _render(request: HtmxHttpRequest, context: dict[str, Any], status: int = 200) -> HttpResponse:
    partial = bool(request.htmx) and not request.htmx.history_restore_request
    template = "catalog/_viewer.html" if partial else "catalog/viewer.html"
    return render(request, template, context, status=status)


@require_GET
@vary_on_headers("HX-Request")
def dataset_viewer(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    """The current version's rows. A dataset the visitor may not see is a 404 (410 once removed),
    as its page is; a bad parameter or filter is a 400 that names it under its box. What the
    visitor may see but cannot be shown yet (no sample of a paid dataset, tables being converted)
    is said in words on a 200 page, as the rest of the dataset page is there to read."""
    dataset = page_dataset(request, slug)
    if dataset.status == Dataset.Status.REMOVED:
        return removed(request, dataset)
    version = dataset.current_version
    if version is None:
        return _notice(request, dataset, _("No version is published yet, so there are no rows to show."), 200)
    try:
        viewable = access.viewable(
            user=request.user, dataset_id=dataset.id, number=version.number,
            page_url=lambda d: request.build_absolute_uri(reverse("dataset-detail", args=[d.slug])),
        )  # fmt: skip
    except Gone as exc:
        return _notice(request, dataset, str(exc), 410)
    except (PermissionDenied, NotReady, ObjectDoesNotExist) as exc:
        return _notice(request, dataset, str(exc), 200)

    form = ViewerForm(request.GET)
    base = reverse("dataset-viewer", args=[dataset.slug])
    splits = viewable.splits()
    context: dict[str, Any] = {"dataset": dataset, "version": version, "viewable": viewable, "splits": splits,
                               "base": base, "errors": {}}  # fmt: skip
    if not form.is_valid():
        context.update(errors={name: " ".join(map(str, messages)) for name, messages in form.errors.items()},
                       values=request.GET)  # fmt: skip
        return _render(request, context, 400)
    data = form.cleaned_data
    split = data["split"] or (splits[0] if splits else "")
    offset, length = data["offset"] or 0, data["length"] or PAGE_ROWS
    q, where, orderby = data["q"], data["where"].strip(), data["orderby"].strip()
    context.update(split=split, q=q, where=where, orderby=orderby, values={})
    try:
        tables = viewable.tables_of(split)
    except ObjectDoesNotExist as exc:
        context["errors"] = {"split": str(exc)}
        return _render(request, context, 400)
    try:
        with queries.reader_of(tables) as reader:
            page = reader.select(query=q, where=where, orderby=orderby, offset=offset, length=length)
    except ValidationError as exc:
        found = exc.message_dict if hasattr(exc, "error_dict") else {"where": exc.messages}
        context["errors"] = {name: " ".join(messages) for name, messages in found.items()}
        return _render(request, context, 400)

    state = {
        "split": split if len(splits) > 1 or data["split"] else "",
        "q": q,
        "where": where,
        "length": data["length"] or "",
    }
    links = audio.audio_links(viewable, split, page.rows)
    headers = []
    for feature in page.features:
        next_order, sort = header_order(feature["name"], orderby)
        headers.append(Header(feature["name"], _url(base, **state, orderby=next_order), sort))
    columns = [feature["name"] for feature in page.features]
    shown = len(page.rows)
    context.update(
        headers=headers,
        rows=[
            (row["row_idx"], [Cell(row["row"].get(name), links.get((row["row_idx"], name), "")) for name in columns])
            for row in page.rows
        ],
        total=page.total,
        first=offset + 1 if shown else 0,
        last=offset + shown,
        previous_url=_url(base, **state, orderby=orderby, offset=max(offset - length, 0)) if offset else "",
        next_url=_url(base, **state, orderby=orderby, offset=offset + length) if offset + length < page.total else "",
        charts=[_chart(table, column) for table in tables for column in table["columns"]],
        tables_count=len(tables),
        chart_width=CHART_WIDTH,
        bar_height=BAR_HEIGHT,
    )
    return _render(request, context)
