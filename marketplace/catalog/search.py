"""Catalog search: the reads behind the catalog page, the MDC list endpoint and /api/v1/datasets.

Full-text search runs on a weighted tsvector kept by a trigger (name A, short description B,
long description and tags C) with prefix matching; when nothing matches, each word is
corrected to the closest word of the catalog's vocabulary (pg_trgm) and the search runs again.
Ranking costs time per match, so only a bounded candidate set (the newest ``RANK_CANDIDATES``
matches) is ranked. The number of queries does not depend on the page size.
"""

from __future__ import annotations

import hashlib
import logging
import os
import queue
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchRank
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import connection, connections, transaction
from django.db.models import CharField, Count, F, Q, QuerySet, Value, Window
from django.db.models.functions import Coalesce, NullIf, RowNumber
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from marketplace.models import LISTED, Dataset, Task

RANK_CANDIDATES = 1000
# Up to this many matches, reading them all through the GIN index beats walking the newest-first
# index until RANK_CANDIDATES of them turned up (a word in one dataset of a hundred has the walk
# read a hundred thousand rows of a million-dataset catalog for its first thousand matches).
FEW_MATCHES = 20_000
SORTS = ("relevance", "newest", "size")
DIRECTIONS = ("asc", "desc")
UPLOAD_WINDOWS = ("today", "thisWeek", "thisMonth", "thisYear")
PRICING = ("free", "compensated")
MAX_LIMIT = 100
# Far beyond any catalog, and far below what an SQL OFFSET holds (page 10**22 failed as a 500).
MAX_PAGE = 10_000_000
DEFAULT_LIMIT = 24
FACETS_CACHE_SECONDS = 60
# A count's last value, kept past the catalog's changes to be shown while it is counted again.
LAST_COUNT_SECONDS = 15 * 60
RECOUNTS_WAITING = 1000  # stale counts queued for a process's counting thread at most
_TERM = re.compile(r"\w+", re.UNICODE)
logger = logging.getLogger(__name__)


class CatalogQueryError(ValueError):
    """A parameter that does not parse; the message names it and what it accepts."""


@dataclass
class CatalogQuery:
    q: str = ""
    tasks: list[str] = field(default_factory=list)
    locales: list[str] = field(default_factory=list)
    licenses: list[str] = field(default_factory=list)
    formats: list[str] = field(default_factory=list)
    pricing: str = ""
    has_sample: bool = False
    upload_date: str = ""
    min_size: int | None = None
    max_size: int | None = None
    sort: str = ""
    direction: str = ""
    page: int = 1
    limit: int = DEFAULT_LIMIT

    def effective_sort(self) -> str:
        return self.sort or ("relevance" if self.q else "newest")

    def effective_direction(self) -> str:
        return self.direction or "desc"


@dataclass
class CatalogPage:
    items: list[Dataset]
    total: int
    query: CatalogQuery
    corrected: str = ""  # the corrected words searched for, when the words as typed matched nothing

    @property
    def fuzzy(self) -> bool:
        return bool(self.corrected)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.query.limit))


def _choice(name: str, value: str, allowed: tuple[str, ...]) -> str:
    if value and value not in allowed:
        raise CatalogQueryError(
            _("%(name)s=%(value)s is not one of %(items)s")
            % {"name": name, "value": repr(value), "items": ", ".join(allowed)}
        )
    return value


def _integer(name: str, value: str | None, *, what: str) -> int | None:
    """The parameter as an integer, None when it is absent or empty."""
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise CatalogQueryError(
            _("%(name)s=%(value)s is not %(what)s") % {"name": name, "value": repr(value), "what": what}
        ) from None


def _positive_int(name: str, value: str | None, default: int | None, maximum: int | None = None) -> int | None:
    number = _integer(name, value, what=_("a whole number"))
    if number is None:
        return default
    if number < 1 or (maximum is not None and number > maximum):
        bound = _("between 1 and %(maximum)s") % {"maximum": maximum} if maximum else _("at least 1")
        raise CatalogQueryError(
            _("%(name)s=%(number)s must be %(bound)s") % {"name": name, "number": number, "bound": bound}
        )
    return number


def _page(value: str | None) -> int:
    page = _positive_int("page", value, 1) or 1
    if page > MAX_PAGE:
        raise CatalogQueryError(_("page=%(page)s must be at most %(max_page)s") % {"page": page, "max_page": MAX_PAGE})
    return page


def _size(name: str, value: str | None) -> int | None:
    number = _integer(name, value, what=_("a number of bytes"))
    if number is not None and number < 0:
        raise CatalogQueryError(_("%(name)s cannot be negative") % {"name": name})
    return number


def parse_query(params: object) -> CatalogQuery:
    """Build a query from request parameters (a QueryDict: lists are repeated keys)."""
    get = params.get  # type: ignore[attr-defined]
    getlist = params.getlist  # type: ignore[attr-defined]

    def values(key: str) -> list[str]:
        return [v.strip() for v in getlist(key) if v.strip()]

    sample = (get("sample") or "").strip().lower()
    return CatalogQuery(
        q=(get("q") or "").strip()[:200],
        tasks=values("task"),
        locales=values("locale"),
        licenses=values("license"),
        formats=values("format"),
        pricing=_choice("pricing", (get("pricing") or "").strip(), PRICING),
        has_sample=sample not in ("", "false", "0"),
        upload_date=_choice("uploadDate", (get("uploadDate") or "").strip(), UPLOAD_WINDOWS),
        min_size=_size("minSize", get("minSize")),
        max_size=_size("maxSize", get("maxSize")),
        sort=_choice("sort", (get("sort") or "").strip(), SORTS),
        direction=_choice("sortDirection", (get("sortDirection") or "").strip(), DIRECTIONS),
        page=_page(get("page")),
        limit=_positive_int("limit", get("limit"), DEFAULT_LIMIT, MAX_LIMIT) or DEFAULT_LIMIT,
    )


def listed_datasets() -> QuerySet[Dataset]:
    """What the catalog lists: published, public or restricted; never private, draft or removed."""
    return Dataset.objects.filter(LISTED)


def window_start(window: str, now: datetime | None = None) -> datetime:
    """Start of a UTC calendar window: today, this ISO week (Monday), month or year."""
    now = (now or timezone.now()).astimezone(UTC)
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if window == "today":
        return day
    if window == "thisWeek":
        return day - timedelta(days=day.weekday())
    if window == "thisMonth":
        return day.replace(day=1)
    return day.replace(month=1, day=1)


def license_filter(abbreviations: list[str]) -> Q:
    return Q(license__spdx_id__in=abbreviations) | Q(license__spdx_id__isnull=True, license__name__in=abbreviations)


def filtered(query: CatalogQuery) -> QuerySet[Dataset]:
    qs = listed_datasets()
    if query.tasks:
        qs = qs.filter(task__in=query.tasks)
    if query.locales:
        qs = qs.filter(locale__in=query.locales)
    if query.licenses:
        qs = qs.filter(license_filter(query.licenses))
    if query.formats:
        qs = qs.filter(format__in=query.formats)
    if query.pricing == "free":
        qs = qs.filter(is_paid=False)
    elif query.pricing == "compensated":
        qs = qs.filter(is_paid=True)
    if query.has_sample:
        qs = qs.filter(has_sample=True)
    if query.upload_date:
        qs = qs.filter(published_at__gte=window_start(query.upload_date))
    if query.min_size is not None:
        qs = qs.filter(size_bytes__gte=query.min_size)
    if query.max_size is not None:
        qs = qs.filter(size_bytes__lte=query.max_size)
    return qs


def search_terms(q: str) -> list[str]:
    return _TERM.findall(q.lower())[:20]


def text_query(terms: list[str]) -> SearchQuery:
    """Every word must match, each as a prefix (``spee`` finds ``speech``)."""
    return SearchQuery(" & ".join(f"{term}:*" for term in terms), search_type="raw", config="english")


def _with_relations(qs: QuerySet[Dataset]) -> QuerySet[Dataset]:
    return qs.select_related("organization", "license", "current_version").defer("search_vector")


def _order_keys(sort: str, direction: str) -> list[Any]:
    if sort == "size":
        size = F("size_bytes").asc() if direction == "asc" else F("size_bytes").desc()
        return [size, F("published_at").desc(), "id"]
    if direction == "asc":
        return ["published_at", "id"]
    return ["-published_at", "-id"]


def _load(ids: list[str]) -> list[Dataset]:
    """The page's rows with their relations, in the order of ``ids``."""
    found = {dataset.id: dataset for dataset in _with_relations(listed_datasets().filter(id__in=ids))}
    return [found[i] for i in ids if i in found]


def _listing_total(qs: QuerySet[Dataset], total_key: str) -> int:
    """How many datasets a listing or a search holds: counting most of a large catalog takes longer
    than the whole rest of the request, so the count is cached like the facet counts (and dropped
    with them). Counted apart from the page: a page walks an index in order and stops, where a count
    taken along (``count(*) OVER ()``) would make it walk every match, row by row in index order,
    instead of the scan the planner picks for a count (a word in a quarter of a million-dataset
    catalog: 2 s through the index against about half of that)."""
    return _counted(total_key, qs.count)


def search(query: CatalogQuery) -> CatalogPage:
    """One page of the catalog in a constant number of SQL queries: the total (cached), the page's
    ids, then the page's rows; plus one to correct the words when none matched. A relevance page
    among the ranked candidates is a slice of their cached order: its rows are the only query."""
    base = filtered(query)
    start, stop = (query.page - 1) * query.limit, query.page * query.limit
    sort, direction = query.effective_sort(), query.effective_direction()
    terms = search_terms(query.q)

    if query.q and not terms:  # only punctuation: nothing to look for
        return CatalogPage([], 0, query)
    if not terms:
        sort = "newest" if sort == "relevance" else sort
        # Listing walks a partial index in order: counting apart is cheaper than a window.
        keys = _order_keys(sort, direction)
        items = list(_with_relations(base.order_by(*keys))[start:stop])
        return CatalogPage(items, _listing_total(base, _cache_key("total", query, [])), query)

    page = _text_search(base, query, terms, start, stop, sort, direction)
    if page.total or len(terms) > MAX_CORRECTED_TERMS:
        return page
    corrected = corrected_terms(terms)
    if corrected == terms:
        return page
    page = _text_search(base, query, corrected, start, stop, sort, direction)
    page.corrected = " ".join(corrected)
    return page


def _text_search(
    base: QuerySet[Dataset], query: CatalogQuery, terms: list[str], start: int, stop: int, sort: str, direction: str
) -> CatalogPage:
    tsquery = text_query(terms)
    matches = base.filter(search_vector=tsquery)
    total = _listing_total(matches, _cache_key("total", query, terms))
    if start >= total:  # nothing matches, or past the end: no page to look for
        return CatalogPage([], total, query)
    if sort != "relevance":
        ids = list(matches.order_by(*_order_keys(sort, direction)).values_list("id", flat=True)[start:stop])
        return CatalogPage(_load(ids), total, query)
    # Ranking costs time per match, so only the newest RANK_CANDIDATES matches are ranked;
    # past them, the remaining matches follow newest first.
    if start >= RANK_CANDIDATES:
        ids = list(matches.order_by(*_order_keys("newest", "desc")).values_list("id", flat=True)[start:stop])
        return CatalogPage(_load(ids), total, query)
    if stop <= RANK_CANDIDATES:
        # The page lies among the ranked candidates: rank them all once, keep their order (ids
        # only) with the counts, and every page among them is a slice of it until the catalog
        # changes. An order shown while it is ranked again may name a dataset taken down since:
        # ``_load`` reads listed datasets only.
        ranking = _counted(
            f"{_cache_key('ranking', query, terms)}:{direction}",
            lambda: _ranked_ids(matches, tsquery, direction, 0, RANK_CANDIDATES, total),
        )
        if stop <= len(ranking) or len(ranking) >= total:
            return CatalogPage(_load(ranking[start:stop]), total, query)
    # A page across the last candidate (or past an order ranked when there were fewer matches):
    # ranked and paged in SQL.
    return CatalogPage(_load(_ranked_ids(matches, tsquery, direction, start, stop, total)), total, query)


def _ranked_ids(
    matches: QuerySet[Dataset], tsquery: SearchQuery, direction: str, start: int, stop: int, total: int
) -> list[str]:
    """The ids of a page in order of relevance, in one query: the newest RANK_CANDIDATES matches
    ranked, then the later ones newest first. Ranking the candidates' ids alone, not their rows and
    relations, keeps the sort narrow; only the page's rows are loaded after."""
    candidates = matches.order_by(*_order_keys("newest", "desc")).annotate(
        rank=SearchRank(F("search_vector"), tsquery),
        position=Window(RowNumber(), order_by=[F("published_at").desc(), F("id").desc()]),
    )
    columns = ["id", "published_at", "rank", "position"]
    if total <= FEW_MATCHES:
        # Few matches, known from the total: read them all from the GIN index and sort them,
        # rather than walk the newest-first index through the many rows that do not match.
        selected = candidates.order_by().values(*columns)
    else:
        # Many: walk the newest-first index, which stops at the candidates.
        selected = candidates.values(*columns)[: max(RANK_CANDIDATES, stop)]
    sql, params = selected.query.sql_with_params()
    order = "ASC" if direction == "asc" else "DESC"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM ({sql}) AS candidates "  # noqa: S608 (no input)
            f"ORDER BY position > {RANK_CANDIDATES}, CASE WHEN position <= {RANK_CANDIDATES} THEN rank END {order}, "
            f"published_at DESC, id DESC OFFSET {start} LIMIT {stop - start}",
            params,
        )
        return [row[0] for row in cursor.fetchall()]


MAX_CORRECTED_TERMS = 8
_CORRECT_SQL = """
SELECT term, (
    SELECT word FROM marketplace_searchword
    WHERE word %% term ORDER BY word <-> term, word LIMIT 1
) FROM unnest(%s::text[]) WITH ORDINALITY AS t(term, position) ORDER BY position
"""


def corrected_terms(terms: list[str]) -> list[str]:
    """Each word replaced by the closest word of the catalog's vocabulary (pg_trgm similarity
    over ``SearchWord``, a few thousand rows), for typos like ``speach``; kept when none is close."""
    with connection.cursor() as cursor:
        cursor.execute(_CORRECT_SQL, [terms])
        return [closest or term for term, closest in cursor.fetchall()]


@dataclass(frozen=True)
class FacetOptions:
    tasks: list[str]
    locales: list[str]
    licenses: list[str]
    formats: list[str]


def facet_options() -> FacetOptions:
    """Values the filters accept: the task enum, and the values present in the catalog (cached)."""
    return FacetOptions(**_counted("facets", _facet_options))


def _facet_options() -> dict[str, list[str]]:
    # One scan of the listed datasets for the three columns' combinations (a few thousand at most),
    # without the model's default ordering, which DISTINCT would otherwise take in (every row).
    combinations = list(
        listed_datasets().order_by().values_list("locale", "format", "license__spdx_id", "license__name").distinct()
    )
    locales = sorted({locale for locale, _format, _spdx, _name in combinations if locale})
    formats = sorted({fmt for _locale, fmt, _spdx, _name in combinations if fmt})
    licenses = sorted({spdx or name for _locale, _format, spdx, name in combinations if spdx or name})
    return {"tasks": [task.value for task in Task], "locales": locales, "licenses": licenses, "formats": formats}


def task_counts() -> list[tuple[str, int]]:
    """Listed datasets per task, most first (cached like the facet options: one GROUP BY over
    the whole catalog is too slow to run on every visit of the start page)."""

    def count() -> list[tuple[str, int]]:
        rows = listed_datasets().exclude(task="").values("task").annotate(count=Count("id")).order_by("-count", "task")
        return [(row["task"], row["count"]) for row in rows]

    return [(task, n) for task, n in _counted("tasks", count)]


# The checkbox facets: the query's field holding the chosen values, and the column counted.
FACETS = {
    "task": ("tasks", F("task")),
    "locale": ("locales", F("locale")),
    "license": ("licenses", Coalesce(NullIf(F("license__spdx_id"), Value("")), F("license__name"))),
    "format": ("formats", F("format")),
}


def facet_counts(query: CatalogQuery, terms: list[str]) -> dict[str, dict[str, int]]:
    """How many datasets each option of each checkbox facet would list, as on the Hugging Face Hub:
    a facet's counts apply every other filter and the search words (``terms``, as the search
    answered them), but not the facet's own choices, so ticking a second language shows what it
    adds. One SQL query for all the facets (a UNION ALL of one GROUP BY each), cached for a minute
    per search like the facet options; ``forget_facets`` drops them all when the catalog changes."""
    return _counted(_cache_key("counts", query, terms), lambda: _facet_counts(query, terms))


def _facet_counts(query: CatalogQuery, terms: list[str]) -> dict[str, dict[str, int]]:
    grouped = []
    for facet, (attribute, column) in FACETS.items():
        others = filtered(_without(query, attribute))
        if terms:
            others = others.filter(search_vector=text_query(terms))
        grouped.append(
            others.order_by()
            .annotate(facet=Value(facet, output_field=CharField()), option=column)
            .values("facet", "option")
            .annotate(n=Count("id"))
            .values_list("facet", "option", "n")
        )
    counts: dict[str, dict[str, int]] = {facet: {} for facet in FACETS}
    for facet, option, n in grouped[0].union(*grouped[1:], all=True):
        if option:
            counts[facet][option] = n
    return counts


def _without(query: CatalogQuery, attribute: str) -> CatalogQuery:
    """The query with one facet's choices dropped."""
    chosen = {name: getattr(query, name) for name, _column in FACETS.values()}
    chosen[attribute] = []
    return replace(
        query, tasks=chosen["tasks"], locales=chosen["locales"], licenses=chosen["licenses"], formats=chosen["formats"]
    )


def _cache_key(kind: str, query: CatalogQuery, terms: list[str]) -> str:
    """The name of a search's count (``kind``: its total, its order, its facet counts) for
    ``_counted``: every filter and the words, not the page, the sort or the page size."""
    filters = replace(query, q="", sort="", direction="", page=1, limit=DEFAULT_LIMIT)
    digest = hashlib.sha256(repr((filters, terms)).encode()).hexdigest()[:32]
    return f"{kind}:{digest}"


# The generation read once per request (``request_started`` clears it): a request's counts and
# answers are all named by the catalog as it was when the request began.
_this_request = threading.local()


def _request_began(**_signal: object) -> None:
    _this_request.generation = None
    _this_request.inside = True


def _request_ended(**_signal: object) -> None:
    _this_request.generation = None
    _this_request.inside = False


request_started.connect(_request_began, dispatch_uid="catalog_generation_request_started")
request_finished.connect(_request_ended, dispatch_uid="catalog_generation_request_finished")


# The generation this process last read or moved, with when (``time.monotonic``): trusted for
# CATALOG_GENERATION_SECONDS, so a kept answer asks the database nothing. One tuple, replaced whole
# (an atomic assignment), shared by the process's threads.
_last_read: tuple[float, int] | None = None


def _generation() -> str:
    """Moves on after every change to the catalog commits, so that nothing cached before (counts,
    answers) is read again. A PostgreSQL sequence, so every process sees a change made in any other
    (a publish in the worker, a takedown in another web process), whatever cache each one keeps:
    within CATALOG_GENERATION_SECONDS (0.1 s), the time a process trusts what it last read; a
    change made in this process moves its own at once (``forget_facets``)."""
    global _last_read
    if getattr(_this_request, "inside", False) and _this_request.generation is not None:
        return str(_this_request.generation)
    now, last = time.monotonic(), _last_read
    if last is not None and now - last[0] < settings.CATALOG_GENERATION_SECONDS:
        generation = last[1]
    else:
        with connection.cursor() as cursor:
            cursor.execute("SELECT last_value, is_called FROM marketplace_catalog_generation")
            last_value, is_called = cursor.fetchone()
        # Never back: a thread that read just before another moved it on may land here after.
        generation = max(last_value if is_called else 0, last[1] if last is not None else 0)
        _last_read = (now, generation)
    if getattr(_this_request, "inside", False):
        _this_request.generation = generation
    return str(generation)


def forget_facets() -> None:
    """Move the catalog's generation on: every count and answer cached before (a search's total,
    order and facet counts, the filters' options, the tasks' counts, ``remembered`` answers) is
    made again when next asked for; only a slow count's last value is shown meanwhile
    (``_counted``). Called once a change has committed (``catalog_changed``): a visitor who read
    the generation moved on reads the change too."""
    global _last_read
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval('marketplace_catalog_generation')")
        (moved,) = cursor.fetchone()
    last = _last_read
    _last_read = (time.monotonic(), max(moved, last[1] if last is not None else 0))
    _this_request.generation = None


def remembered(name: str, make: Callable[[], Any]) -> Any:
    """What a listing answers (an API page, the catalog page's HTML), named by ``name`` (see
    ``answer_name``), kept for this generation of the catalog when CATALOG_CACHE_ANSWERS is on:
    the same search asked again, by anyone, is not searched, loaded and rendered again until the
    catalog changes. Kept FACETS_CACHE_SECONDS at most, as the counts: what the catalog's
    generation does not follow (the instances this one follows, "published today") is that fresh.
    An answer made with a count's last value (being counted again) is not kept: the next visitor
    after the count lands gets it right."""

    def made() -> Any:
        _this_request.stale = False
        return make()

    return kept(f"answer:{name}", made, keep=lambda _value: not _this_request.stale)


def kept(name: str, make: Callable[[], Any], *, keep: Callable[[Any], bool] = lambda _value: True) -> Any:
    """What ``make`` reads of the published catalog (a listing's answer, ``remembered``; what the
    viewer reads of a version everyone may see), kept for this generation of the catalog when
    CATALOG_CACHE_ANSWERS is on, unless ``keep`` says it is a passing state not worth keeping.
    ``make`` must not answer None (the cache could not tell it from nothing kept)."""
    if not settings.CATALOG_CACHE_ANSWERS:
        return make()
    key = f"catalog:{_generation()}:{name}"
    value = cache.get(key)
    if value is None:
        value = make()
        if keep(value):
            cache.set(key, value, FACETS_CACHE_SECONDS)
    return value


def answer_name(request: Any, kind: str) -> str:
    """The name of a listing's answer to ``request`` for ``remembered``: its kind, the address it
    was asked at (the answers hold absolute links), its path, every parameter as sent and the
    language. What the caller sent is in the digest only: a cache key holds no character of theirs."""
    params = sorted((key, values) for key, values in request.GET.lists())
    asked = (request.build_absolute_uri("/"), request.path, params)
    digest = hashlib.sha256(repr(asked).encode()).hexdigest()[:32]
    return f"{kind}:{get_language() or ''}:{digest}"


def _counted(name: str, count: Callable[[], Any]) -> Any:
    """The catalog's count ``name`` (a search's total, order or facet counts, see ``_cache_key``;
    the filters' options; the tasks' counts), cached for this generation of the catalog, else
    counted now.

    After a change to the catalog every count is cold, and at a million datasets the broad ones
    (the whole catalog's facet counts, a common word's total) take seconds: each visitor in those
    seconds would wait, and count them again beside the others. So a count that took at least
    CATALOG_SLOW_COUNT_SECONDS is, once stale, shown at its last value while it is counted again
    in the background (``_recount_later``); the page is right again as soon as that count lands.
    Quick counts are counted at once, as before."""
    key = f"catalog:{_generation()}:{name}"
    value = cache.get(key)
    if value is not None:
        return value
    last_key = f"catalog:last:{name}"
    last = cache.get(last_key)
    slow = settings.CATALOG_SLOW_COUNT_SECONDS
    if last is None or slow is None or last[1] < slow:
        return _count_and_keep(key, last_key, count)
    _recount_later(key, last_key, count)
    _this_request.stale = True
    return last[0]


def _count_and_keep(key: str, last_key: str, count: Callable[[], Any]) -> Any:
    started = time.perf_counter()
    value = count()
    cache.set(key, value, FACETS_CACHE_SECONDS)
    cache.set(last_key, (value, time.perf_counter() - started), LAST_COUNT_SECONDS)
    return value


_recounts: queue.Queue[tuple[str, str, Callable[[], Any]]] = queue.Queue(maxsize=RECOUNTS_WAITING)
_recounter: threading.Thread | None = None
_recounter_started = threading.Lock()


def _recount_later(key: str, last_key: str, count: Callable[[], Any]) -> None:
    """Queue a stale count for this process's one counting thread, unless a process has queued it
    for this generation already (``cache.add``)."""
    global _recounter
    if not cache.add(f"{key}:queued", 1, FACETS_CACHE_SECONDS):
        return
    try:
        _recounts.put_nowait((key, last_key, count))
    except queue.Full:  # far more stale counts than one thread keeps up with: a later visit queues it
        cache.delete(f"{key}:queued")
        return
    with _recounter_started:
        if _recounter is None or not _recounter.is_alive():
            _recounter = threading.Thread(target=_recount_forever, name="catalog-count", daemon=True)
            _recounter.start()


def _recount_forever() -> None:
    while True:
        key, last_key, count = _recounts.get()
        try:
            if cache.get(key) is None:  # not counted by a request meanwhile
                _recount(key, last_key, count)
        finally:
            _recounts.task_done()


def _recount(key: str, last_key: str, count: Callable[[], Any]) -> None:
    """Count again, one count at a time and on one core: PostgreSQL would otherwise give the
    count parallel workers, and the requests answered meanwhile (from the last values) would wait
    for the CPU it takes (at a million datasets, a page's p95 after a change was 116 ms with two
    counts at a time and their workers, 51-72 ms with one count on one core)."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
            cursor.execute("SELECT pg_backend_pid()")
            _behind_requests(cursor.fetchone()[0])
            _count_and_keep(key, last_key, count)
    except Exception:
        logger.exception("counting %s again failed; its last count stays shown until a visit queues it", key)
        cache.delete(f"{key}:queued")
    finally:
        connections.close_all()  # this thread's own connection: none is held between counts


# The niceness of a recount's PostgreSQL process, where this process may set it (``_behind_requests``).
RECOUNT_NICENESS = 10


def _behind_requests(backend_pid: int) -> None:
    """Where PostgreSQL runs on this machine as this user (`make run`'s embedded server), give the
    recount's backend a lower CPU priority (``nice``), so that the requests answered meanwhile, and
    their own queries, go first on the cores it would share with them: the count takes a little
    longer, the pages do not wait for it. The backend ends with the recount's connection. Nothing is
    done where PostgreSQL is another machine's or another user's (the pid would not be its own)."""
    host = connection.settings_dict.get("HOST") or ""
    if host not in ("", "localhost", "127.0.0.1", "::1") and not host.startswith("/"):
        return
    try:
        with open(f"/proc/{backend_pid}/cmdline", "rb") as cmdline:
            if b"postgres" not in cmdline.read():
                return
        os.setpriority(os.PRIO_PROCESS, backend_pid, RECOUNT_NICENESS)
    except OSError:  # another user's process, or no /proc: it counts at its own priority
        return


def wait_for_recounts() -> None:
    """Until every count this process queued has been counted again (for the benches and tests)."""
    _recounts.join()


def catalog_changed(**_signal: object) -> None:
    """A dataset was saved or deleted: its counts go once the change commits."""
    transaction.on_commit(forget_facets)
