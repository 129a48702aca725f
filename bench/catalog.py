"""Catalog search at scale: p50/p95 latency, SQL query counts, and how they grow with the catalog.

    .venv/bin/python bench/catalog.py [--datasets 1000000] [--repeat 30]
    .venv/bin/python bench/catalog.py --growth 10000,100000,1000000 [--repeat 20]

Seeds the datasets in SQL into a fresh database (the embedded PostgreSQL unless DATABASE_URL
names a server), then times the MDC search API (GET /api/datasets), our /api/v1/datasets and
the catalog page over a fixed set of queries (words, prefixes, typos, facet combinations, deep
pages), in process through Django's test client (without Django's test-environment template
instrumentation, which copies every template context and production does not have): the figures
are the application's time (routing, SQL, serialisation, templates), without an HTTP server.

Each query is timed four times over: warm (its total and facet counts cached, as for every visitor
but the first after a change, the answer made anew: CATALOG_CACHE_ANSWERS off, the figure the
target is read from); kept (the whole answer kept from the visitor before, as `make run` serves a
search asked again: CATALOG_CACHE_ANSWERS on); after a change (``forget_facets()`` before each request, as the first
visitor after a dataset was published or changed: a count that took at least
CATALOG_SLOW_COUNT_SECONDS is shown at its last value while a thread counts it again, and the
seconds that takes, the time the page shows the count from before the change, are printed as
"recount"); and first (the cache emptied: every count counted in the request, as the first visitor
after a restart of a cache kept in memory).
The baseline of the same run is GET /api/health, the framework's own floor on this machine at this
moment. Target: p95 <= 50 ms for each endpoint (warm), a constant number of SQL queries.
With ``--growth``, the catalog grows through the sizes given and a table shows p50/p95 per
endpoint, the process's memory and the catalog's size on disk at each, with the ratio to the first.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.harness import django_with_fresh_database  # noqa: E402

QUERIES: list[tuple[str, str, dict[str, str]]] = [
    ("list newest", "/api/datasets", {}),
    ("word", "/api/datasets", {"q": "speech"}),
    ("two words", "/api/datasets", {"q": "welsh corpus"}),
    ("rare word", "/api/datasets", {"q": "orkney"}),
    ("prefix", "/api/datasets", {"q": "transl"}),
    ("typo", "/api/datasets", {"q": "speach recrdings"}),
    ("facets", "/api/datasets", {"task": "ASR", "locale": "cy"}),
    ("facets+word", "/api/datasets", {"q": "dialogue", "pricing": "free", "sample": "true"}),
    ("sort size", "/api/datasets", {"sort": "size", "sortDirection": "desc", "license": "CC-BY-4.0"}),
    ("upload date", "/api/datasets", {"uploadDate": "thisMonth", "format": "TSV"}),
    ("deep page", "/api/datasets", {"page": "40", "limit": "24"}),
    ("100 per page", "/api/datasets", {"limit": "100", "q": "corpus"}),
    ("v1 list", "/api/v1/datasets", {"limit": "50"}),
    ("v1 word", "/api/v1/datasets", {"q": "speech", "task": "ASR"}),
    ("page word", "/datasets/", {"q": "speech"}),
    ("page facets", "/datasets/", {"task": "MT", "locale": "fr", "sort": "newest"}),
    ("page typo", "/datasets/", {"q": "translaton"}),
]

# The seeded catalog: words drawn with skewed frequencies (a few languages, kinds and places are
# common, most are rare), names made of a language, a kind, a noun, a place and an invented project
# word from a vocabulary of a few thousand, so that word, prefix and typo searches meet realistic
# match counts and a realistic vocabulary. Most frequent first.
LANGUAGES = [
    ("en", "English"), ("es", "Spanish"), ("fr", "French"), ("de", "German"), ("sw", "Swahili"), ("hi", "Hindi"),
    ("cy", "Welsh"), ("ca", "Catalan"), ("yo", "Yoruba"), ("ta", "Tamil"), ("eu", "Basque"), ("ga", "Irish"),
    ("pt", "Portuguese"), ("it", "Italian"), ("nl", "Dutch"), ("pl", "Polish"), ("ru", "Russian"), ("uk", "Ukrainian"),
    ("ar", "Arabic"), ("fa", "Persian"), ("tr", "Turkish"), ("zh", "Chinese"), ("ja", "Japanese"), ("ko", "Korean"),
    ("vi", "Vietnamese"), ("th", "Thai"), ("id", "Indonesian"), ("bn", "Bengali"), ("ur", "Urdu"), ("ha", "Hausa"),
    ("ig", "Igbo"), ("zu", "Zulu"), ("xh", "Xhosa"), ("am", "Amharic"), ("rw", "Kinyarwanda"), ("lg", "Luganda"),
    ("gl", "Galician"), ("br", "Breton"), ("gd", "Gaelic"), ("mt", "Maltese"), ("is", "Icelandic"),
    ("et", "Estonian"), ("lv", "Latvian"), ("lt", "Lithuanian"), ("ka", "Georgian"), ("hy", "Armenian"),
    ("kk", "Kazakh"), ("uz", "Uzbek"), ("mn", "Mongolian"), ("ne", "Nepali"), ("si", "Sinhala"), ("qu", "Quechua"),
]  # fmt: skip
KINDS = [
    ("ASR", "TSV", "Read Speech"), ("ASR", "WAV", "Spontaneous Speech Recordings"), ("TTS", "WAV", "Voice"),
    ("MT", "JSONL", "Parallel Translation Pairs"), ("LLM", "JSONL", "Instruction Dialogue"),
    ("NLP", "CSV", "News Text"), ("LID", "TSV", "Language Identification Clips"), ("CV", "Parquet", "Image Captions"),
    ("ASR", "FLAC", "Conversational Telephone Speech"), ("MT", "TSV", "Subtitle Translations"),
    ("NLU", "JSON", "Intent Annotations"), ("NLG", "JSONL", "Story Generation Prompts"),
    ("LM", "TXT", "Web Crawl Text"), ("RAG", "Parquet", "Question Answering Passages"),
    ("CALL", "MP3", "Pronunciation Lessons"), ("ML", "CSV", "Tabular Benchmarks"), ("OTH", "XML", "Lexicon Entries"),
    ("N/A", "PDF", "Field Notes"), ("TTS", "FLAC", "Studio Narration"), ("LLM", "Parquet", "Chat Transcripts"),
]  # fmt: skip
NOUNS = ["Corpus", "Collection", "Archive", "Set", "Bank", "Sample", "Library", "Benchmark", "Treebank", "Suite"]
PLACES = [
    "London", "Nairobi", "Lagos", "Mumbai", "Berlin", "Montreal", "Madrid", "Paris", "Cardiff", "Chennai", "Lyon",
    "Bilbao", "Galway", "Accra", "Kigali", "Kampala", "Lima", "Quito", "Tbilisi", "Yerevan", "Almaty", "Hanoi",
    "Jakarta", "Dhaka", "Karachi", "Tehran", "Cairo", "Tunis", "Dakar", "Addis", "Durban", "Reykjavik", "Tallinn",
    "Riga", "Vilnius", "Krakow", "Lviv", "Porto", "Valletta", "Rennes", "Inverness", "Ulaanbaatar", "Kathmandu",
    "Kandy", "Cusco", "Orkney", "Shetland", "Hebrides", "Lofoten", "Faroe",
]  # fmt: skip
LICENSES = ["CC-BY-4.0", "CC0-1.0", "CC-BY-SA-4.0", "CC-BY-NC-4.0", "CC-BY-NC-SA-4.0", "ODbL-1.0", "MIT", "Apache-2.0"]
SENTENCES = [
    "Recorded by volunteers with consent for every clip.", "Transcribed and checked by two native speakers.",
    "Collected from public broadcasts and cleaned by hand.", "Each item carries a speaker id and demographic tags.",
    "Segmented into utterances shorter than twenty seconds.", "Balanced across age groups and regional accents.",
    "Annotated with intents, slots and sentiment labels.", "Aligned at sentence level with a reviewed translation.",
    "Suitable for fine-tuning and for evaluation.", "Released for research with a documented datasheet.",
    "Deduplicated against earlier releases of the project.", "Includes a held-out test split and a dev split.",
]  # fmt: skip
SYLLABLES = ["ka", "mo", "ri", "ta", "lu", "ven", "dor", "shi", "ba", "nel", "qui", "zor", "pa", "te", "lin", "gar"]
ORGANIZATIONS = 100
SEED_CHUNK = 50_000


def _u(salt: int, power: float = 1.0) -> str:
    """SQL for a number in [0, 1) drawn from row ``i`` (a hash: the same row always draws the same
    number); a power above 1 skews it towards 0, that is towards the first items of a list."""
    uniform = f"((abs(hashint8extended(i, {salt})) %% 1000003) / 1000003.0::float8)"
    return uniform if power == 1 else f"power({uniform}, {power})"


def _word(number: str) -> str:
    """SQL for the invented word numbered ``number`` (0 to 4095): three syllables, a vocabulary of
    a few thousand words like the long tail of a real catalog's."""
    syllable = "(%(syllables)s::text[])[1 + ({number} / {power}) %% 16]"
    return " || ".join(syllable.format(number=number, power=16**k) for k in (2, 1, 0))


def _pick(array: str, salt: int, power: float = 1.0) -> str:
    return f"(%({array})s::text[])[1 + floor({_u(salt, power)} * cardinality(%({array})s::text[]))::int]"


# One INSERT .. SELECT per chunk of rows, each dataset with its version (the foreign keys are
# checked at commit). Every choice is a hash of the row number, so a catalog grown from 10,000 to
# 1,000,000 rows holds the same first 10,000 rows as one seeded with 10,000.
_SEED_SQL = f"""
WITH drawn AS (
    SELECT i, 'cbench' || lpad(i::text, 19, '0') AS id,
        1 + floor({_u(1, 2.5)} * cardinality(%(locales)s::text[]))::int AS language,
        1 + floor({_u(2, 1.6)} * cardinality(%(tasks)s::text[]))::int AS kind,
        {_pick("nouns", 3)} AS noun, {_pick("places", 4, 2)} AS place,
        floor({_u(5, 1.5)} * 4096)::int AS word,
        1 + floor({_u(6, 2)} * cardinality(%(licenses)s::bigint[]))::int AS license,
        {_pick("orgs", 7, 1.3)} AS org, {_pick("sentences", 8)} AS s1, {_pick("sentences", 9)} AS s2,
        CASE WHEN {_u(10)} < 0.95 THEN 'published' WHEN {_u(10)} < 0.98 THEN 'draft' ELSE 'removed' END AS status,
        CASE WHEN {_u(11)} < 0.85 THEN 'public' WHEN {_u(11)} < 0.93 THEN 'restricted' ELSE 'private' END
            AS visibility,
        %(now)s::timestamptz - {_u(12, 1.5)} * interval '1461 days' AS published_at,
        round(exp(ln(10000) + {_u(13)} * (ln(50000000000) - ln(10000))))::bigint AS size_bytes,
        {_u(14)} < 0.15 AS is_paid, {_u(15)} < 0.3 AS has_sample
    FROM generate_series(%(start)s::bigint, %(stop)s::bigint - 1) AS i
), described AS (
    SELECT drawn.*, {_word("word")} AS project,
        (%(languages)s::text[])[language] AS language_name, (%(locales)s::text[])[language] AS locale,
        (%(tasks)s::text[])[kind] AS task, (%(formats)s::text[])[kind] AS format, (%(kinds)s::text[])[kind] AS what,
        (%(licenses)s::bigint[])[license] AS license_id, (%(license_hashes)s::text[])[license] AS license_sha256
    FROM drawn
), versions AS (
    INSERT INTO marketplace_datasetversion (
        id, dataset_id, number, archive_key, filename, size_bytes, sha256, license_id, license_text_sha256,
        sample_key, sample_filename, sample_size_bytes, changelog, created_at, published_at
    )
    SELECT %(version_base)s + i, id, 1, 'published/' || id || '/a.tar.gz', 'bench-' || i || '-v1.tar.gz',
        size_bytes, lpad(to_hex(i), 64, '0'), license_id, license_sha256,
        CASE WHEN has_sample THEN 'published/' || id || '/sample.tar.gz' ELSE '' END, '',
        CASE WHEN has_sample THEN 100000 END, '', published_at, published_at
    FROM described WHERE status <> 'draft'
)
INSERT INTO marketplace_dataset (
    id, slug, organization_id, license_id, name, short_description, long_description, locale, task, format,
    tags, is_paid, base_price_cents, currency, visibility, status, created_at, updated_at, published_at,
    removed_at, removal_reason, current_version_id, size_bytes, has_sample,
    record_id_column, contributor_id_column, license_url, other, restrictions, forbidden_usage,
    additional_conditions, intended_usage, ethical_review_process, point_of_contact_full_name,
    point_of_contact_email, funded_by_full_name, funded_by_email, legal_contact_full_name, legal_contact_email,
    created_by_full_name, created_by_email, show_contact_info, show_compliance_attributes, exclusivity_opt_out,
    auto_approve_access_requests
)
SELECT id, 'bench-' || i, org, license_id,
    language_name || ' ' || what || ' ' || noun || ' ' || place || ' ' || initcap(project),
    what || ' in ' || language_name || ' from ' || place || '.',
    'The ' || project || ' project: ' || lower(what) || ' for ' || task || ' research in ' || language_name || '. '
        || s1 || ' ' || s2,
    locale, task, format, jsonb_build_array(lower(language_name), lower(task), project),
    is_paid, CASE WHEN is_paid THEN 1000 + (i %% 500) * 1000 END, 'usd', visibility, status,
    published_at, published_at, CASE WHEN status <> 'draft' THEN published_at END,
    CASE WHEN status = 'removed' THEN published_at + interval '1 day' END,
    CASE WHEN status = 'removed' THEN 'Consent withdrawn.' ELSE '' END,
    CASE WHEN status <> 'draft' THEN %(version_base)s + i END, size_bytes, has_sample,
    '', '', '', '', '', '', '', '', '', '', '', '', '', '', '', '', '', false, true, false, false
FROM described
"""  # noqa: S608 (built from constants; every value is a parameter)


def seed(count: int, *, start: int = 0) -> None:
    """Datasets ``start`` to ``count`` (each published but a few drafts and removed ones, with its
    version), in SQL: a million rows in a few minutes, the search trigger run for each."""
    from datetime import UTC, datetime

    from django.db import connection, transaction

    from marketplace.models import Dataset, DatasetVersion
    from tests.factories import license_for, organization

    started = time.perf_counter()
    licenses = [license_for(spdx, commercial_use="NC" not in spdx) for spdx in LICENSES]
    orgs = [organization(f"bench-org-{n}").id for n in range(ORGANIZATIONS)]
    parameters: dict[str, Any] = {
        "locales": [code for code, _ in LANGUAGES], "languages": [name for _, name in LANGUAGES],
        "tasks": [task for task, _, _ in KINDS], "formats": [fmt for _, fmt, _ in KINDS],
        "kinds": [kind for _, _, kind in KINDS], "nouns": NOUNS, "places": PLACES, "syllables": SYLLABLES,
        "licenses": [lic.id for lic in licenses], "license_hashes": [lic.text_sha256 for lic in licenses],
        "orgs": orgs, "sentences": SENTENCES, "now": datetime.now(UTC),
    }  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) + 1 FROM marketplace_datasetversion")
        parameters["version_base"] = cursor.fetchone()[0] - start
        # Building an index once is far cheaper than updating it row by row (the GIN index of the
        # search words above all): the secondary indexes go, and come back as they were defined.
        cursor.execute(
            "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
            "WHERE indrelid = ANY(ARRAY[%s, %s]::regclass[]) AND NOT indisunique",
            [Dataset._meta.db_table, DatasetVersion._meta.db_table],
        )
        indexes = cursor.fetchall()
        with transaction.atomic():
            for name, _definition in indexes:
                cursor.execute(f"DROP INDEX {name}")
            for offset in range(start, count, SEED_CHUNK):
                cursor.execute(_SEED_SQL, {**parameters, "start": offset, "stop": min(offset + SEED_CHUNK, count)})
                # Check the chunk's foreign keys now (they are deferred to the commit): the queue
                # of pending checks would otherwise hold every row of the seed.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            for _name, definition in indexes:
                cursor.execute(definition)
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('marketplace_datasetversion', 'id'), max(id)) "
            "FROM marketplace_datasetversion"
        )
        cursor.execute("VACUUM ANALYZE marketplace_dataset")
        cursor.execute("VACUUM ANALYZE marketplace_datasetversion")
        cursor.execute("VACUUM ANALYZE marketplace_searchword")
    print(f"seeded datasets {start:,} to {count:,} in {time.perf_counter() - started:.1f} s")


TARGET_MS = 50.0


def _percentile(timings: list[float], fraction: float) -> float:
    ordered = sorted(timings)
    return ordered[max(0, int(round(len(ordered) * fraction)) - 1)]


def _kind(path: str) -> str:
    return {"/api/datasets": "MDC API", "/api/v1/datasets": "/api/v1", "/datasets/": "page"}[path]


def _recounted() -> float:
    """Wait until the counts queued after a change are counted again; how long that took."""
    from marketplace.catalog.search import wait_for_recounts

    started = time.perf_counter()
    wait_for_recounts()
    return (time.perf_counter() - started) * 1000


def measure(repeat: int) -> dict[str, dict[str, list[float]]]:
    """Time every query of QUERIES warm, after a change and first; print a line per query and a
    summary per endpoint; return the timings per endpoint kind ("warm", "changed", "first" and
    "recount" lists)."""
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings

    from marketplace.catalog.search import forget_facets

    client = Client()
    client.get("/api/health")  # the first request imports the URL configuration and the views
    floor = []
    for _ in range(repeat):
        started = time.perf_counter()
        client.get("/api/health")
        floor.append((time.perf_counter() - started) * 1000)
    per_kind: dict[str, dict[str, list[float]]] = {}
    header = (
        f"{'warm p50':>8} {'p95':>6} {'SQL':>3}   {'kept p50':>8} {'p95':>5} {'SQL':>3}   {'changed p50':>11} "
        f"{'p95':>6} {'recount':>7}   {'first p50':>9} {'p95':>6} {'SQL':>3} {'total':>8}"
    )
    print(f"\n{'query':<14} {'path':<17} {header}")
    for label, path, params in QUERIES:
        forget_facets()
        for _ in range(2):  # plans, the connection, the cached counts
            response = client.get(path, params)
            assert response.status_code == 200, (label, response.status_code, response.content[:300])
        warm, kept, changed, recount, first = [], [], [], [], []
        with override_settings(CATALOG_CACHE_ANSWERS=False):  # each answer made anew
            for _ in range(repeat):
                started = time.perf_counter()
                client.get(path, params)
                warm.append((time.perf_counter() - started) * 1000)
            with CaptureQueriesContext(connection) as warm_queries:
                response = client.get(path, params)
        # An answer made while a count is counted again (after the change above) is not kept: at a
        # million datasets a page's counts take seconds, so wait for them, as a visitor a few
        # seconds after a change would find them.
        _recounted()
        client.get(path, params)
        for _ in range(repeat):
            started = time.perf_counter()
            client.get(path, params)
            kept.append((time.perf_counter() - started) * 1000)
        with CaptureQueriesContext(connection) as kept_queries:
            client.get(path, params)
        for _ in range(max(3, repeat // 3)):
            forget_facets()
            started = time.perf_counter()
            client.get(path, params)
            changed.append((time.perf_counter() - started) * 1000)
            recount.append(_recounted())
        for _ in range(max(3, repeat // 3)):
            cache.clear()
            started = time.perf_counter()
            client.get(path, params)
            first.append((time.perf_counter() - started) * 1000)
        cache.clear()
        with CaptureQueriesContext(connection) as first_queries:
            client.get(path, params)
        body = response.json() if path.startswith("/api/") else {}
        total = body.get("total", len(body.get("results", []))) if body else "-"
        kind = per_kind.setdefault(_kind(path), {"warm": [], "kept": [], "changed": [], "recount": [], "first": []})
        timed = {"warm": warm, "kept": kept, "changed": changed, "recount": recount, "first": first}
        for name, values in timed.items():
            kind[name] += values
        print(
            f"{label:<14} {path:<17} {statistics.median(warm):8.1f} {_percentile(warm, 0.95):6.1f} "
            f"{len(warm_queries):>3}   {statistics.median(kept):8.1f} {_percentile(kept, 0.95):5.1f} "
            f"{len(kept_queries):>3}   {statistics.median(changed):11.1f} {_percentile(changed, 0.95):6.1f} "
            f"{statistics.median(recount):7.0f}   {statistics.median(first):9.1f} {_percentile(first, 0.95):6.1f} "
            f"{len(first_queries):>3} {total!s:>8}"
        )
    floor_p95 = _percentile(floor, 0.95)
    print(f"\nbaseline GET /api/health: p50 {statistics.median(floor):.1f} ms, p95 {floor_p95:.1f} ms")
    print(
        f"{'endpoint':<9} {'warm p50':>8} {'p95':>6} {'/target':>7} {'/health':>7}   {'kept p95':>8} {'/health':>7}   "
        f"{'changed p95':>11} {'recount p95':>11}   {'first p95':>9}  target"
    )
    for endpoint, timings in per_kind.items():
        p95 = _percentile(timings["warm"], 0.95)
        kept_p95 = _percentile(timings["kept"], 0.95)
        print(
            f"{endpoint:<9} {statistics.median(timings['warm']):8.1f} {p95:6.1f} {p95 / TARGET_MS:6.2f}x "
            f"{p95 / floor_p95:6.1f}x   {kept_p95:8.1f} {kept_p95 / floor_p95:6.1f}x   "
            f"{_percentile(timings['changed'], 0.95):11.1f} "
            f"{_percentile(timings['recount'], 0.95):11.0f}   {_percentile(timings['first'], 0.95):9.1f}  "
            f"p95 <= {TARGET_MS:.0f} ms warm: {'met' if p95 <= TARGET_MS else 'MISSED'}; after a change: "
            f"{'met' if _percentile(timings['changed'], 0.95) <= TARGET_MS else 'MISSED'}"
        )
    return per_kind


def _rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _catalog_mib() -> float:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT sum(pg_total_relation_size(c)) FROM unnest(ARRAY['marketplace_dataset', "
            "'marketplace_datasetversion', 'marketplace_searchword']::regclass[]) AS c"
        )
        return float(cursor.fetchone()[0]) / 2**20


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--datasets", type=int, default=1_000_000)
    parser.add_argument("--growth", default="", help="catalog sizes to grow through, e.g. 10000,100000,1000000")
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    sizes = [int(size) for size in args.growth.split(",")] if args.growth else [args.datasets]
    # Every request comes from this process's one address: the figures are the catalog's capacity,
    # not the API's rate limit (which a growth run, a few thousand requests a minute, would reach).
    os.environ.update(API_RATE_PER_KEY="1000000/minute", API_RATE_PER_IP="1000000/minute")
    with django_with_fresh_database() as database:
        from django.conf import settings

        settings.ALLOWED_HOSTS = ["testserver"]
        print(f"database {database}")
        rows = []
        seeded = 0
        for size in sizes:
            seed(size, start=seeded)
            seeded = size
            print(f"\n== {size:,} datasets ==")
            per_kind = measure(args.repeat)
            rows.append((size, per_kind, _rss_mib(), _catalog_mib()))
        if len(rows) > 1:
            print("\nGrowth (p50/p95 ms warm; p95 after a change and first; ratios to the first size)")
            print(f"{'datasets':>10} {'endpoint':<9} {'p50':>6} {'p95':>6} {'x p95':>6} {'changed':>8} {'recount':>8} "
                  f"{'first':>8} {'x first':>7} {'RSS MiB':>8} {'DB MiB':>7}")  # fmt: skip
            first = rows[0][1]
            for size, per_kind, rss, disk in rows:
                for kind, timings in per_kind.items():
                    p95 = _percentile(timings["warm"], 0.95)
                    cold = _percentile(timings["first"], 0.95)
                    print(
                        f"{size:>10,} {kind:<9} {statistics.median(timings['warm']):6.1f} {p95:6.1f} "
                        f"{p95 / _percentile(first[kind]['warm'], 0.95):5.1f}x "
                        f"{_percentile(timings['changed'], 0.95):8.1f} {_percentile(timings['recount'], 0.95):8.0f} "
                        f"{cold:8.1f} {cold / _percentile(first[kind]['first'], 0.95):6.1f}x {rss:8.0f} {disk:7.0f}"
                    )


if __name__ == "__main__":
    main()
