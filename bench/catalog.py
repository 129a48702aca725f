"""Catalog search over 100,000 datasets: p50/p95 latency and SQL query counts.

    .venv/bin/python bench/catalog.py [--datasets 100000] [--repeat 40]

Seeds the datasets in bulk into a fresh database (the embedded PostgreSQL unless
DATABASE_URL names a server), then times the MDC search API (GET /api/datasets), our
/api/v1/datasets and the catalog page over a fixed set of queries (words, prefixes, typos,
facet combinations, deep pages), in process through Django's test client: the figures are
the application's time (routing, SQL, serialisation), without an HTTP server in front.
Target: p95 under 50 ms for the API.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

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

LANGUAGES = [
    ("cy", "Welsh"), ("en", "English"), ("fr", "French"), ("de", "German"), ("sw", "Swahili"), ("yo", "Yoruba"),
    ("ga", "Irish"), ("eu", "Basque"), ("ca", "Catalan"), ("hi", "Hindi"), ("ta", "Tamil"), ("es", "Spanish"),
]  # fmt: skip
KINDS = [
    ("ASR", "TSV", "Read Speech"), ("ASR", "WAV", "Spontaneous Speech Recordings"), ("TTS", "WAV", "Voice"),
    ("MT", "JSONL", "Parallel Translation Pairs"), ("LLM", "JSONL", "Instruction Dialogue"),
    ("NLP", "CSV", "News Text"), ("LID", "TSV", "Language Identification Clips"), ("CV", "Parquet", "Image Captions"),
]  # fmt: skip
NOUNS = ["Corpus", "Collection", "Archive", "Set", "Bank", "Sample", "Library", "Benchmark"]
PLACES = ["Cardiff", "Nairobi", "Lagos", "Orkney", "Montreal", "Chennai", "Bilbao", "Galway", "Berlin", "Lyon"]


def seed(count: int) -> None:
    from django.db import connection, transaction

    from licensing.models import License
    from marketplace.models import Dataset, DatasetVersion
    from tests.factories import license_for, organization

    licenses = [license_for("CC-BY-4.0"), license_for("CC0-1.0"), license_for("CC-BY-NC-4.0", commercial_use=False)]
    orgs = [organization(f"bench-org-{i}") for i in range(20)]
    rng = random.Random(42)  # noqa: S311 (reproducible data, not security)
    now = time.time()
    started = time.perf_counter()
    batch = 5000
    from datetime import UTC, datetime

    for offset in range(0, count, batch):
        datasets, versions = [], []
        for i in range(offset, min(offset + batch, count)):
            code, language = rng.choice(LANGUAGES)
            task, fmt, kind = rng.choice(KINDS)
            name = f"{language} {kind} {rng.choice(NOUNS)} {rng.choice(PLACES)} {i}"
            published = datetime.fromtimestamp(now - rng.uniform(0, 3 * 365 * 86400), tz=UTC)
            paid = rng.random() < 0.2
            size = rng.randint(10_000, 50_000_000_000)
            license: License = rng.choice(licenses)
            dataset = Dataset(
                id=f"cbench{i:019d}", slug=f"bench-{i}", organization=rng.choice(orgs), name=name,
                short_description=f"{kind} in {language} gathered in {rng.choice(PLACES)}.",
                long_description=f"A {kind.lower()} {rng.choice(NOUNS).lower()} for {task} research in {language}.",
                locale=code, task=task, format=fmt, license=license, tags=[language.lower(), task.lower()],
                is_paid=paid, base_price_cents=rng.randint(1000, 500000) if paid else None,
                visibility=rng.choice(["public"] * 8 + ["restricted", "private"]), status="published",
                published_at=published, size_bytes=size, has_sample=rng.random() < 0.3,
            )  # fmt: skip
            datasets.append(dataset)
            versions.append(
                DatasetVersion(
                    dataset=dataset,
                    number=1,
                    archive_key=f"published/{dataset.id}/a.tar.gz",
                    filename=f"bench-{i}-v1.tar.gz",
                    size_bytes=size,
                    sha256=f"{i:064x}",
                    license=license,
                    license_text_sha256=license.text_sha256,
                    published_at=published,
                )  # fmt: skip
            )
        with transaction.atomic():
            Dataset.objects.bulk_create(datasets)
            DatasetVersion.objects.bulk_create(versions)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE marketplace_dataset d SET current_version_id = v.id FROM marketplace_datasetversion v "
            "WHERE v.dataset_id = d.id AND d.current_version_id IS NULL"
        )
        cursor.execute("VACUUM ANALYZE marketplace_dataset")
        cursor.execute("VACUUM ANALYZE marketplace_datasetversion")
    print(f"seeded {count:,} datasets in {time.perf_counter() - started:.1f} s")


def measure(repeat: int) -> None:
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    print(f"\n{'query':<14} {'path':<18} {'p50 ms':>7} {'p95 ms':>7} {'SQL':>4} {'total':>8}")
    worst_api_p95 = 0.0
    for label, path, params in QUERIES:
        cache.clear()
        for _ in range(3):  # warm caches (plans, facet options)
            response = client.get(path, params)
            assert response.status_code == 200, (label, response.status_code, response.content[:300])
        timings = []
        for _ in range(repeat):
            started = time.perf_counter()
            response = client.get(path, params)
            timings.append((time.perf_counter() - started) * 1000)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path, params)
        body = response.json() if path.startswith("/api/") else {}
        total = body.get("total", len(body.get("results", []))) if body else "-"
        timings.sort()
        p50 = statistics.median(timings)
        p95 = timings[max(0, int(len(timings) * 0.95) - 1)]
        if path.startswith("/api/"):
            worst_api_p95 = max(worst_api_p95, p95)
        print(f"{label:<14} {path:<18} {p50:7.1f} {p95:7.1f} {len(queries):>4} {total!s:>8}")
    print(f"\nworst API p95: {worst_api_p95:.1f} ms (target < 50 ms) -> {'met' if worst_api_p95 < 50 else 'MISSED'}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--datasets", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=40)
    args = parser.parse_args()
    with django_with_fresh_database() as database:
        from django.conf import settings
        from django.test.utils import setup_test_environment

        setup_test_environment()
        settings.ALLOWED_HOSTS = ["testserver"]
        print(f"database {database}")
        seed(args.datasets)
        measure(args.repeat)


if __name__ == "__main__":
    main()
