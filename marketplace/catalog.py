"""Catalog search: the reads behind the catalog page, the MDC list endpoint and /api/v1/datasets.

Full-text search runs on a weighted tsvector kept by a trigger (name A, short description B,
long description and tags C) with prefix matching; when nothing matches, trigram similarity
on the name catches typos. Ranking costs time per match, so only a bounded candidate set
(the newest ``RANK_CANDIDATES`` matches) is ranked: one query counts the matches, one fetches
the page, whatever the page size.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.contrib.postgres.search import SearchQuery, SearchRank, TrigramWordSimilarity
from django.core.cache import cache
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from marketplace.models import LISTED, Dataset, Task

RANK_CANDIDATES = 1000
SORTS = ("relevance", "newest", "size")
DIRECTIONS = ("asc", "desc")
UPLOAD_WINDOWS = ("today", "thisWeek", "thisMonth", "thisYear")
PRICING = ("free", "compensated")
MAX_LIMIT = 100
DEFAULT_LIMIT = 24
TRIGRAM_THRESHOLD = 0.3
FACETS_CACHE_SECONDS = 60
_TERM = re.compile(r"\w+", re.UNICODE)


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
    fuzzy: bool = False  # matched by name similarity because the words matched nothing

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.query.limit))


def _choice(name: str, value: str, allowed: tuple[str, ...]) -> str:
    if value and value not in allowed:
        raise CatalogQueryError(f"{name}={value!r} is not one of {', '.join(allowed)}")
    return value


def _positive_int(name: str, value: str | None, default: int | None, maximum: int | None = None) -> int | None:
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise CatalogQueryError(f"{name}={value!r} is not a whole number") from None
    if number < 1 or (maximum is not None and number > maximum):
        bound = f"between 1 and {maximum}" if maximum else "at least 1"
        raise CatalogQueryError(f"{name}={number} must be {bound}")
    return number


def _size(name: str, value: str | None) -> int | None:
    if value is None or value == "":
        return None
    try:
        number = int(value)
    except ValueError:
        raise CatalogQueryError(f"{name}={value!r} is not a number of bytes") from None
    if number < 0:
        raise CatalogQueryError(f"{name} cannot be negative")
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
        page=_positive_int("page", get("page"), 1) or 1,
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


def text_query(q: str) -> SearchQuery | None:
    """Every word must match, each as a prefix (``spee`` finds ``speech``)."""
    terms = _TERM.findall(q.lower())
    if not terms:
        return None
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


def _page(qs: QuerySet[Dataset], keys: list[Any], start: int, stop: int) -> list[Dataset]:
    """Sort and slice the narrow dataset rows first, then load only the page with its relations
    (joining before the sort would join every match)."""
    if stop <= start:
        return []
    ids = qs.order_by(*keys).values("id")[start:stop]
    return list(_with_relations(Dataset.objects.filter(id__in=ids)).order_by(*keys))


def search(query: CatalogQuery) -> CatalogPage:
    """One page of the catalog: a count query and a page query (three after a failed word match)."""
    base = filtered(query)
    start, stop = (query.page - 1) * query.limit, query.page * query.limit
    sort, direction = query.effective_sort(), query.effective_direction()
    tsquery = text_query(query.q) if query.q else None

    if query.q and tsquery is None:  # only punctuation: nothing to look for
        return CatalogPage([], 0, query)
    if tsquery is None:
        sort = "newest" if sort == "relevance" else sort
        return CatalogPage(_page(base, _order_keys(sort, direction), start, stop), base.count(), query)

    matches = base.filter(search_vector=tsquery)
    total = matches.count()
    if total == 0:
        return _fuzzy(base, query, start, stop, sort, direction)
    if sort != "relevance":
        return CatalogPage(_page(matches, _order_keys(sort, direction), start, stop), total, query)
    # Relevance ranks the newest RANK_CANDIDATES matches; past them, matches follow newest first.
    newest = _order_keys("newest", "desc")
    rank = SearchRank(F("search_vector"), tsquery)
    candidates = Dataset.objects.filter(id__in=matches.order_by(*newest).values("id")[:RANK_CANDIDATES])
    keys = [rank.asc() if direction == "asc" else rank.desc(), *newest]
    items = _page(candidates, keys, start, min(stop, RANK_CANDIDATES))
    if stop > RANK_CANDIDATES:
        items += _page(matches, newest, max(start, RANK_CANDIDATES), stop)
    return CatalogPage(items, total, query)


def _fuzzy(
    base: QuerySet[Dataset], query: CatalogQuery, start: int, stop: int, sort: str, direction: str
) -> CatalogPage:
    """No word matched: names similar to the query (pg_trgm), for typos like ``speach``."""
    similar = base.filter(name__trigram_word_similar=query.q)
    total = similar.count()
    if total == 0:
        return CatalogPage([], 0, query)
    if sort == "relevance":
        keys = [TrigramWordSimilarity(query.q, "name").desc(), "-published_at", "-id"]
    else:
        keys = _order_keys(sort, direction)
    return CatalogPage(_page(similar, keys, start, stop), total, query, fuzzy=True)


@dataclass(frozen=True)
class FacetOptions:
    tasks: list[str]
    locales: list[str]
    licenses: list[str]
    formats: list[str]


def facet_options() -> FacetOptions:
    """Values the filters accept: the task enum, and the values present in the catalog (cached)."""
    cached = cache.get("catalog:facets")
    if cached is not None:
        return FacetOptions(**cached)
    listed = listed_datasets()

    def distinct(column: str) -> list[str]:
        return sorted({v for v in listed.exclude(**{column: ""}).values_list(column, flat=True).distinct() if v})

    licenses = sorted(
        {
            spdx or name
            for spdx, name in listed.filter(license__isnull=False)
            .values_list("license__spdx_id", "license__name")
            .distinct()
        }
    )
    options = {
        "tasks": [task.value for task in Task],
        "locales": distinct("locale"),
        "licenses": licenses,
        "formats": distinct("format"),
    }
    cache.set("catalog:facets", options, FACETS_CACHE_SECONDS)
    return FacetOptions(**options)


def forget_facets() -> None:
    cache.delete("catalog:facets")
