"""Load: many concurrent SDK downloads and catalog queries against a real gunicorn, with throughput,
latency percentiles and the error rate of each kind of request.

    .venv/bin/python bench/load.py [--datasets 20000] [--catalog-clients 8] [--downloaders 4]
                                   [--seconds 30] [--archive-mib 32] [--web-workers 4]

Starts the embedded services (unless the environment names them), seeds the catalog (as
bench/catalog.py does) and a few published archives of random bytes whose terms every client has
accepted, then runs gunicorn on a free port. Each client is its own process:

- a catalog client loops over the catalog queries of bench/catalog.py (MDC search API, /api/v1 and
  the catalog page) with one `requests` session;
- a downloader loops `datacollective.download_dataset` (the official SDK, its own API key) over the
  archives, each byte written to disk.

Baselines, measured in the same run: the same catalog queries from one client on an idle server
(the loaded p95 is printed as a multiple of it), and the same number of processes fetching the same
objects over presigned URLs made directly with boto3 (the SDK's aggregate MiB/s is printed as a
ratio of it; the API only signs, so the target is >= 0.9). The API's rate limits are raised for the
run, since every client comes from 127.0.0.1: the figures are capacity, not the limiter.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from bench.catalog import QUERIES, seed  # noqa: E402
from bench.harness import MiB, bench_workspace, gunicorn, publish_random_archive  # noqa: E402


@dataclass
class Samples:
    """What one client process saw: (kind, seconds, ok) per request, bytes moved, error texts."""

    requests: list[tuple[str, float, bool]] = field(default_factory=list)
    bytes_moved: int = 0
    errors: list[str] = field(default_factory=list)


def catalog_client(base_url: str, seconds: float, seed_value: int) -> Samples:
    import requests

    samples = Samples()
    rng = random.Random(seed_value)  # noqa: S311 (a query mix, not security)
    deadline = time.monotonic() + seconds
    with requests.Session() as session:
        while time.monotonic() < deadline:
            label, path, params = rng.choice(QUERIES)
            kind = "catalog page" if not path.startswith("/api/") else "catalog API"
            started = time.perf_counter()
            try:
                response = session.get(base_url + path, params=params, timeout=30)
                ok = response.status_code == 200
                if not ok:
                    samples.errors.append(f"{label}: HTTP {response.status_code}")
            except requests.RequestException as exc:
                ok = False
                samples.errors.append(f"{label}: {exc}")
            samples.requests.append((kind, time.perf_counter() - started, ok))
    return samples


def sdk_downloader(api_url: str, api_key: str, dataset_ids: list[str], seconds: float, seed_value: int) -> Samples:
    os.environ["MDC_API_URL"] = api_url
    os.environ["MDC_API_KEY"] = api_key
    import datacollective

    samples = Samples()
    rng = random.Random(seed_value)  # noqa: S311
    target = Path(tempfile.mkdtemp(prefix="dc-load-sdk-"))
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                path = datacollective.download_dataset(
                    rng.choice(dataset_ids), str(target), show_progress=False, overwrite_existing=True
                )
                samples.bytes_moved += path.stat().st_size
                path.unlink()
                ok = True
            except Exception as exc:  # the SDK raises its own and requests' errors; count them all
                ok = False
                samples.errors.append(f"SDK download: {type(exc).__name__}: {exc}")
            samples.requests.append(("SDK download", time.perf_counter() - started, ok))
    finally:
        shutil.rmtree(target, ignore_errors=True)
    return samples


def direct_downloader(urls: list[str], seconds: float, seed_value: int) -> Samples:
    import requests

    samples = Samples()
    rng = random.Random(seed_value)  # noqa: S311
    target = Path(tempfile.mkdtemp(prefix="dc-load-direct-")) / "object.bin"
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                with requests.get(rng.choice(urls), stream=True, timeout=(10, 60)) as response:
                    response.raise_for_status()
                    with target.open("wb") as out:
                        for chunk in response.iter_content(chunk_size=1 << 16):
                            out.write(chunk)
                samples.bytes_moved += target.stat().st_size
                ok = True
            except requests.RequestException as exc:
                ok = False
                samples.errors.append(f"direct GET: {exc}")
            samples.requests.append(("direct GET", time.perf_counter() - started, ok))
    finally:
        shutil.rmtree(target.parent, ignore_errors=True)
    return samples


def percentile(sorted_values: list[float], fraction: float) -> float:
    index = min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values)) - 1))
    return sorted_values[index]


def report(title: str, results: list[Samples], seconds: float) -> dict[str, list[float]]:
    """Print a line per kind of request; return the latencies of the successful ones per kind."""
    by_kind: dict[str, list[tuple[float, bool]]] = {}
    for samples in results:
        for kind, took, ok in samples.requests:
            by_kind.setdefault(kind, []).append((took, ok))
    print(f"\n{title}")
    header = ("requests", "errors", "error %", "req/s", "p50 ms", "p95 ms", "p99 ms")
    print(f"{'kind':<14} " + " ".join(f"{name:>8}" for name in header))
    latencies: dict[str, list[float]] = {}
    for kind, rows in sorted(by_kind.items()):
        good = sorted(took * 1000 for took, ok in rows if ok)
        failed = sum(1 for _, ok in rows if not ok)
        latencies[kind] = good
        p50, p95, p99 = (percentile(good, f) if good else float("nan") for f in (0.5, 0.95, 0.99))
        print(
            f"{kind:<14} {len(rows):>8} {failed:>8} {100 * failed / len(rows):>7.2f}% {len(rows) / seconds:>8.1f} "
            f"{p50:>8.1f} {p95:>8.1f} {p99:>8.1f}"
        )
    moved = sum(samples.bytes_moved for samples in results)
    if moved:
        print(f"{'bytes':<14} {moved / MiB:>8.0f} MiB in {seconds:.0f} s = {moved / MiB / seconds:.0f} MiB/s")
    errors = [error for samples in results for error in samples.errors]
    for error in sorted(set(errors))[:5]:
        print(f"  error seen: {error[:200]}")
    return latencies


def run_clients(jobs: list[tuple[object, tuple[object, ...]]]) -> list[Samples]:
    with ProcessPoolExecutor(max_workers=len(jobs), mp_context=get_context("spawn")) as pool:
        futures = [pool.submit(function, *arguments) for function, arguments in jobs]  # type: ignore[arg-type]
        return [future.result() for future in futures]


def prepare(args: argparse.Namespace, work: Path) -> tuple[list[str], list[str], list[str]]:
    """Seed the catalog and the archives; return the downloadable ids, their objects and one API
    key per downloader."""
    from licensing.keys.services import create_api_key
    from marketplace.models import User
    from marketplace.organizations.services import create_organization

    seed(args.datasets)
    owner = User.objects.create_user(username="load-owner", email="owner@example.org")
    org = create_organization(name="Load", slug="load", owner=owner)
    downloaders = [
        User.objects.create_user(username=f"load-{n}", email=f"load-{n}@example.org") for n in range(args.downloaders)
    ]
    keys = [create_api_key(user=user, name="load", scopes=["read", "download"])[1] for user in downloaders]
    datasets = [
        publish_random_archive(
            work=work, organization=org, slug=f"load-archive-{n}", size_mib=args.archive_mib, licensees=downloaders
        )
        for n in range(args.archives)
    ]
    return [d.id for d in datasets], [d.current_version.archive_key for d in datasets], keys


def run(args: argparse.Namespace, work: Path) -> None:
    from marketplace import storage

    dataset_ids, object_keys, keys = prepare(args, work)
    # Every client comes from 127.0.0.1: raise the limits so the figures are capacity, not the limiter.
    unlimited = {"API_RATE_PER_KEY": "1000000/minute", "API_RATE_PER_IP": "1000000/minute"}
    with gunicorn(workers=args.web_workers, **unlimited) as base_url:
        print(
            f"\ngunicorn: {args.web_workers} sync workers; catalog: {args.datasets:,} datasets; "
            f"{args.archives} archives of {args.archive_mib} MiB; {os.cpu_count()} CPUs on this machine"
        )
        # Warm every worker's connections and query plans.
        run_clients([(catalog_client, (base_url, 3.0, n)) for n in range(args.web_workers)])

        idle = report(
            "Baseline: one catalog client, idle server",
            run_clients([(catalog_client, (base_url, args.seconds / 3, 1))]),
            args.seconds / 3,
        )

        urls = [
            storage.public_client().generate_presigned_url(
                "get_object", Params={"Bucket": storage.bucket(), "Key": key}, ExpiresIn=3600
            )
            for key in object_keys
        ]
        direct_results = run_clients(
            [(direct_downloader, (urls, args.seconds, n)) for n in range(args.downloaders)]
            + [(catalog_client, (base_url, args.seconds, 100 + n)) for n in range(args.catalog_clients)]
        )
        report(
            f"Baseline: {args.downloaders} direct presigned GET loops + {args.catalog_clients} catalog clients",
            direct_results,
            args.seconds,
        )

        loaded_results = run_clients(
            [
                (sdk_downloader, (f"{base_url}/api", keys[n], dataset_ids, args.seconds, n))
                for n in range(args.downloaders)
            ]
            + [(catalog_client, (base_url, args.seconds, 200 + n)) for n in range(args.catalog_clients)]
        )
        loaded = report(
            f"Load: {args.downloaders} SDK downloaders + {args.catalog_clients} catalog clients",
            loaded_results,
            args.seconds,
        )

        direct_bytes = sum(s.bytes_moved for s in direct_results)
        sdk_bytes = sum(s.bytes_moved for s in loaded_results)
        ratio = sdk_bytes / direct_bytes if direct_bytes else float("nan")
        print(f"\nSDK download throughput / direct presigned GET under the same load: {ratio:.2f} (target >= 0.9)")
        for kind in ("catalog API", "catalog page"):
            if idle.get(kind) and loaded.get(kind):
                idle_p95, loaded_p95 = percentile(idle[kind], 0.95), percentile(loaded[kind], 0.95)
                print(
                    f"{kind} p95: {loaded_p95:.0f} ms under load, {idle_p95:.0f} ms idle "
                    f"({loaded_p95 / idle_p95:.1f}x); median idle {statistics.median(idle[kind]):.0f} ms"
                )
        total = sum(len(s.requests) for s in loaded_results)
        failed = sum(1 for s in loaded_results for _, _, ok in s.requests if not ok)
        print(f"error rate under load: {failed}/{total} = {100 * failed / max(total, 1):.2f}%")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--datasets", type=int, default=20_000, help="catalog rows to seed")
    parser.add_argument("--catalog-clients", type=int, default=8)
    parser.add_argument("--downloaders", type=int, default=4)
    parser.add_argument("--archives", type=int, default=3)
    parser.add_argument("--archive-mib", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=30.0, help="length of each loaded phase")
    parser.add_argument("--web-workers", type=int, default=4)
    args = parser.parse_args()
    with bench_workspace("dc-bench-load-") as work:
        run(args, work)


if __name__ == "__main__":
    main()
