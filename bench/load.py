"""Load: many concurrent clients against a real gunicorn (config/gunicorn.conf.py, as `make run`
starts it): catalog and dataset-viewer clients, and official-SDK downloaders; throughput, latency
percentiles and errors of each kind of request, each against its idle baseline.

    .venv/bin/python bench/load.py [--clients 200] [--downloaders 8] [--seconds 60]
                                   [--think-seconds 1.0] [--client-processes 4]
                                   [--datasets 20000] [--archive-mib 32] [--viewer-rows 100000]
                                   [--web-workers N] [--web-threads N] [--cost-seconds 8]

Starts the embedded services (unless the environment names them), seeds the catalog (as
bench/catalog.py does), a few published archives of random bytes whose terms every downloader has
accepted, and one published table whose viewer export (Parquet) is made; then runs gunicorn on a
free port.

Clients. 200 client processes would take the 2 cores from the server they measure, so the
browsing clients are threads (one `requests` session each, its own connection) in a few
processes; each loops: pick a request of its kind, send it, wait a random think time (exponential,
mean ``--think-seconds``; 0 makes a closed loop that saturates the server by design):

- catalog: the fixed query set of bench/catalog.py (MDC search API, /api/v1, the catalog page);
- viewer: the viewer API of the table (``rows`` at random offsets, ``search`` of a word,
  ``filter``), as the dataset page calls it;
- downloader: a process of its own looping `datacollective.download_dataset` (the real SDK, its
  own API key, each byte written to disk), with no think time.

Phases, each ``--seconds`` long except the first two: (1) idle baselines: one client of each
browsing kind alone, its p95 being what the loaded p95 is compared to; then what one request of
each kind costs the server in CPU (gunicorn's and PostgreSQL's processes, four clients of that kind
alone, ``--cost-seconds`` each), the part of a loaded request's time that is the server's own
work; (2) the browsing clients with the same number of processes fetching the archives over
presigned URLs made directly with boto3 (the floor of a download); (3) the same browsing clients
with the SDK downloaders; (4) the floor: ``GET /api/health`` (no key, no database) by one client
on the idle server, then by as many clients beside the same SDK downloaders: the latency any
request to this server has on this machine under this load, which the kinds' is also compared to.
Prints, per kind, the loaded p95 as a multiple of the idle p95 (target
<= 3x), the errors (target 0), and the SDK's aggregate MiB/s as a ratio of the direct GETs'
(target >= 0.95). The server keeps answers (the catalog's until it changes, the viewer's pages),
so the bench also prints, per kind, the share of the load phase's requests that asked what an
earlier one had: the catalog's 17 queries and the viewer's 500 search words and 100 filter
thresholds repeat, its rows at random offsets rarely do.
The API's rate limits are raised for the run, since every client comes from 127.0.0.1: the figures
are capacity, not the limiter.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import shutil
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from bench.catalog import QUERIES, seed  # noqa: E402
from bench.harness import MiB, bench_workspace, gunicorn, publish_random_archive  # noqa: E402

WORDS = [f"w{i:03d}" for i in range(500)]
BROWSING = ("catalog API", "catalog page", "viewer rows", "viewer search", "viewer filter")


@dataclass
class Samples:
    """What clients saw: (kind, seconds, ok) per request, bytes moved, error texts."""

    requests: list[tuple[str, float, bool]] = field(default_factory=list)
    asked: list[tuple[str, str]] = field(default_factory=list)  # (kind, path and parameters) per request
    bytes_moved: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Viewer:
    """Where the viewer's API of the load's table answers."""

    prefix: str  # /api/v1/datasets/<id>/versions/<n>/viewer/
    split: str
    rows: int


def catalog_request(rng: random.Random, viewer: Viewer) -> tuple[str, str, dict[str, Any]]:
    _, path, params = rng.choice(QUERIES)
    return ("catalog page" if not path.startswith("/api/") else "catalog API"), path, params


def viewer_request(rng: random.Random, viewer: Viewer) -> tuple[str, str, dict[str, Any]]:
    route = rng.choice(("rows", "rows", "search", "filter"))
    offset = rng.randrange(0, max(1, viewer.rows - 100))
    params: dict[str, Any] = {"split": viewer.split, "offset": offset, "length": 100}
    if route == "search":
        params = {"split": viewer.split, "query": rng.choice(WORDS), "length": 100}
    elif route == "filter":
        params = {"split": viewer.split, "where": f"score > {rng.randrange(0, 100)}", "orderby": "id", "length": 100}
    return f"viewer {route}", viewer.prefix + route, params


def health_request(rng: random.Random, viewer: Viewer) -> tuple[str, str, dict[str, Any]]:
    """``GET /api/health``: a request to the same server that does nothing (no key, no database)."""
    return "health (floor)", "/api/health", {}


PICKERS = {"catalog": catalog_request, "viewer": viewer_request, "health": health_request}


def browsing_clients(
    base_url: str,
    viewer: Viewer,
    kinds: list[str],
    seconds: float,
    think: float,
    seed_value: int,
    only: str | None = None,
) -> Samples:
    """One thread per entry of ``kinds`` (catalog or viewer), each with its own session; ``only``
    keeps the requests of one label (``BROWSING``) of the mix."""  # fmt: skip
    import requests

    samples = Samples()
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client(kind: str, number: int) -> None:
        rng = random.Random(seed_value * 10_000 + number)  # noqa: S311 (a request mix, not security)
        mine: list[tuple[str, float, bool]] = []
        asked: list[tuple[str, str]] = []
        errors: list[str] = []
        time.sleep(rng.uniform(0, think))  # start spread over one pause, not all in the same second
        with requests.Session() as session:
            while time.monotonic() < deadline:
                label, path, params = PICKERS[kind](rng, viewer)
                while only is not None and label != only:
                    label, path, params = PICKERS[kind](rng, viewer)
                started = time.perf_counter()
                try:
                    response = session.get(base_url + path, params=params, timeout=60)
                    ok = response.status_code == 200
                    if not ok:
                        errors.append(f"{label}: HTTP {response.status_code} {response.text[:120]}")
                except requests.RequestException as exc:
                    ok = False
                    errors.append(f"{label}: {exc}")
                mine.append((label, time.perf_counter() - started, ok))
                asked.append((label, f"{path}?{sorted(params.items())}"))
                if think:
                    time.sleep(max(0.0, min(rng.expovariate(1 / think), deadline - time.monotonic())))
        with lock:
            samples.requests.extend(mine)
            samples.asked.extend(asked)
            samples.errors.extend(errors)

    threads = [threading.Thread(target=client, args=(kind, n), daemon=True) for n, kind in enumerate(kinds)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
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
    print(cpu_line)
    return latencies


# Who spends the machine's CPU during a phase, by the process's command line (first match wins).
CPU_USERS = (("web (gunicorn)", "gunicorn"), ("PostgreSQL", "postgres"), ("storage (SeaweedFS)", "weed"),
             ("clients (this bench)", "python"))  # fmt: skip


def _cpu_by_process() -> dict[int, tuple[str, float]]:
    """Each process's user + system CPU seconds so far, with who it is (``CPU_USERS``, else "other")."""
    tick = os.sysconf("SC_CLK_TCK")
    found: dict[int, tuple[str, float]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry.name}/cmdline", "rb") as cmdline:
                command = cmdline.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # gone meanwhile
            continue
        who = next((name for name, marker in CPU_USERS if marker in command), "other")
        found[int(entry.name)] = (who, (int(fields[11]) + int(fields[12])) / tick)
    return found


class CpuShares:
    """Samples every process's CPU once a second while a phase runs, so that processes that end
    before it does (the client processes) are counted up to their last second."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = {}
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> CpuShares:
        self._started = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()
        self.seconds = time.monotonic() - self._started

    def _sample(self) -> None:
        last = _cpu_by_process()
        while not self._done.wait(1.0):
            now = _cpu_by_process()
            for pid, (who, seconds) in now.items():
                before = last[pid][1] if pid in last else 0.0  # a new process: all of its CPU is in this phase
                self.spent[who] = self.spent.get(who, 0.0) + max(0.0, seconds - before)
            last = now

    def line(self) -> str:
        cores = os.cpu_count() or 1
        parts = [f"{who} {spent / self.seconds:.2f}" for who, spent in sorted(self.spent.items(), key=lambda i: -i[1])]
        return (
            f"CPU in cores (of {cores}): " + ", ".join(parts) + f"; all {sum(self.spent.values()) / self.seconds:.2f}"
        )


def server_cost(base_url: str, viewer: Viewer, seconds: float) -> None:
    """What one request of each kind costs the server's processes in CPU (gunicorn's, PostgreSQL's),
    four clients of that kind alone in a closed loop: the part of a loaded request's latency that is
    the server's own work, apart from what the machine's other processes take of the cores."""
    print("\nServer's CPU per request, each kind alone (4 clients, closed loop)")
    print(f"{'kind':<14} {'req/s':>8} {'web ms':>8} {'db ms':>8}")
    for kind in BROWSING:
        family = "viewer" if kind.startswith("viewer") else "catalog"
        before = _cpu_by_process()
        results = run_clients([(browsing_clients, (base_url, viewer, [family] * 4, seconds, 0.0, 3, kind))])
        after = _cpu_by_process()
        spent: dict[str, float] = {}
        for pid, (who, total) in after.items():
            spent[who] = spent.get(who, 0.0) + total - (before[pid][1] if pid in before else 0.0)
        count = sum(1 for s in results for label, _, ok in s.requests if label == kind and ok)
        per = 1000 / max(count, 1)
        print(f"{kind:<14} {count / seconds:>8.0f} {spent.get('web (gunicorn)', 0.0) * per:>8.2f} "
              f"{spent.get('PostgreSQL', 0.0) * per:>8.2f}")  # fmt: skip


def run_clients(jobs: list[tuple[object, tuple[object, ...]]]) -> list[Samples]:
    """Run the clients; print, after the phase's report, where the machine's CPU went (``cpu_line``)."""
    global cpu_line
    with ProcessPoolExecutor(max_workers=len(jobs), mp_context=get_context("spawn")) as pool, CpuShares() as cpu:
        futures = [pool.submit(function, *arguments) for function, arguments in jobs]  # type: ignore[arg-type]
        results = [future.result() for future in futures]
    cpu_line = cpu.line()
    return results


cpu_line = ""


def browsing_jobs(
    args: argparse.Namespace, base_url: str, viewer: Viewer, seconds: float, seed_base: int, only: str | None = None
) -> list[tuple[object, tuple[object, ...]]]:
    """The browsing clients (all but the downloaders), two catalog clients for one viewer client
    (or all of family ``only``), spread over ``--client-processes`` processes."""
    count = args.clients - args.downloaders
    kinds = [only or ("viewer" if n % 3 == 2 else "catalog") for n in range(count)]
    processes = max(1, min(args.client_processes, count))
    return [
        (browsing_clients, (base_url, viewer, kinds[p::processes], seconds, args.think_seconds, seed_base + p))
        for p in range(processes)
    ]


def table_csv(rows: int) -> bytes:
    """A CSV of ``rows`` rows: an id, a category, a score and a sentence of five words."""
    rng = random.Random(11)  # noqa: S311
    out = io.StringIO()
    out.write("id,category,score,text\n")
    for n in range(rows):
        words = " ".join(rng.choice(WORDS) for _ in range(5))
        out.write(f"{n},c{rng.randrange(50)},{rng.random() * 100:.3f},{words}\n")
    return out.getvalue().encode()


def publish_viewer_table(rows: int) -> Viewer:
    """A table published the whole way (draft, upload, validation, review) and exported for the
    viewer, as tests/world.py does; its current version's viewer API."""
    from marketplace.models import ParquetExport
    from marketplace.viewer import exports
    from tests.world import Builder

    builder = Builder()
    builder.organizations()
    dataset = builder.publish(
        "load-table", org="north", files={"train.csv": table_csv(rows)}, name="Load table", task="LLM", format="CSV"
    )
    version = dataset.current_version
    assert version is not None
    exports.export_version(version_id=version.id)
    export = ParquetExport.objects.filter(upload__submission__version=version, upload__kind="archive").first()
    assert export is not None and export.status == "ready", export and export.status
    split = export.tables[0]["split"]
    return Viewer(f"/api/v1/datasets/{dataset.id}/versions/{version.number}/viewer/", split, rows)


def prepare(args: argparse.Namespace, work: Path) -> tuple[list[str], list[str], list[str], Viewer]:
    """Seed the catalog, the archives and the viewer's table; return the downloadable ids, their
    objects, one API key per downloader and the viewer's routes."""
    from licensing.keys.services import create_api_key
    from marketplace.models import User
    from marketplace.organizations.services import create_organization

    seed(args.datasets)
    viewer = publish_viewer_table(args.viewer_rows)
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
    return [d.id for d in datasets], [d.current_version.archive_key for d in datasets], keys, viewer


def run(args: argparse.Namespace, work: Path) -> None:
    from marketplace import storage

    dataset_ids, object_keys, keys, viewer = prepare(args, work)
    # Every client comes from 127.0.0.1: raise the limits so the figures are capacity, not the limiter.
    unlimited = {"API_RATE_PER_KEY": "1000000/minute", "API_RATE_PER_IP": "1000000/minute"}
    with gunicorn(workers=args.web_workers, threads=args.web_threads, **unlimited) as base_url:
        browsing = args.clients - args.downloaders
        print(
            f"\ngunicorn: config/gunicorn.conf.py (workers {args.web_workers or 'default'}, threads "
            f"{args.web_threads or 'default'}); catalog: {args.datasets:,} datasets; viewer table: "
            f"{args.viewer_rows:,} rows; {args.archives} archives of {args.archive_mib} MiB; {os.cpu_count()} CPUs\n"
            f"clients: {args.clients} = {browsing} browsing (catalog 2 : viewer 1, threads in "
            f"{args.client_processes} processes, think time {args.think_seconds} s mean) + "
            f"{args.downloaders} downloaders (a process each)"
        )
        # Warm every worker's connections, query plans and the viewer's local Parquet copy.
        run_clients([(browsing_clients, (base_url, viewer, ["catalog", "viewer"] * 4, 5.0, 0.0, 1))])

        idle_seconds = max(10.0, args.seconds / 3)
        idle = report(
            "Baseline: one catalog client and one viewer client, idle server",
            run_clients([(browsing_clients, (base_url, viewer, ["catalog", "viewer"], idle_seconds, 0.0, 2))]),
            idle_seconds,
        )
        server_cost(base_url, viewer, args.cost_seconds)

        urls = [
            storage.public_client().generate_presigned_url(
                "get_object", Params={"Bucket": storage.bucket(), "Key": key}, ExpiresIn=3600
            )
            for key in object_keys
        ]
        direct_results = run_clients(
            [(direct_downloader, (urls, args.seconds, n)) for n in range(args.downloaders)]
            + browsing_jobs(args, base_url, viewer, args.seconds, 100)
        )
        report(
            f"Baseline: {args.downloaders} direct presigned GET loops + {browsing} browsing clients",
            direct_results,
            args.seconds,
        )

        downloaders: list[tuple[object, tuple[object, ...]]] = [
            (sdk_downloader, (f"{base_url}/api", keys[n], dataset_ids, args.seconds, n))
            for n in range(args.downloaders)
        ]
        loaded_results = run_clients(downloaders + browsing_jobs(args, base_url, viewer, args.seconds, 200))
        loaded = report(
            f"Load: {args.downloaders} SDK downloaders + {browsing} browsing clients",
            loaded_results,
            args.seconds,
        )

        # The floor of the load's latency: the same downloaders and as many clients, each asking a
        # request that does nothing; what any request waits on this machine under this load.
        floor_idle = report(
            "Floor, idle: one client asking GET /api/health (no key, no database)",
            run_clients([(browsing_clients, (base_url, viewer, ["health"], idle_seconds / 2, 0.0, 4))]),
            idle_seconds / 2,
        )
        floor_loaded = report(
            f"Floor, loaded: {args.downloaders} SDK downloaders + {browsing} clients asking GET /api/health",
            run_clients(downloaders + browsing_jobs(args, base_url, viewer, args.seconds, 300, only="health")),
            args.seconds,
        )

        print(f"\nFigures ({args.clients} clients, {args.seconds:.0f} s):")
        direct_bytes = sum(s.bytes_moved for s in direct_results)
        sdk_bytes = sum(s.bytes_moved for s in loaded_results)
        ratio = sdk_bytes / direct_bytes if direct_bytes else float("nan")
        print(
            f"{'SDK download':<14} {sdk_bytes / MiB / args.seconds:.0f} MiB/s vs direct presigned GET "
            f"{direct_bytes / MiB / args.seconds:.0f} MiB/s under the same load: {ratio:.2f}x "
            f"(target >= 0.95) -> {'met' if ratio >= 0.95 else 'MISSED'}"
        )
        for kind in BROWSING:
            if idle.get(kind) and loaded.get(kind):
                idle_p95, loaded_p95 = percentile(idle[kind], 0.95), percentile(loaded[kind], 0.95)
                times = loaded_p95 / idle_p95
                print(
                    f"{kind:<14} p95 {loaded_p95:.0f} ms under load, {idle_p95:.0f} ms idle: {times:.1f}x "
                    f"(target <= 3x) -> {'met' if times <= 3 else 'MISSED'}"
                )
        floor_idle_ms, floor_loaded_ms = floor_idle.get("health (floor)"), floor_loaded.get("health (floor)")
        if floor_idle_ms and floor_loaded_ms:
            idle_p95, loaded_p95 = percentile(floor_idle_ms, 0.95), percentile(floor_loaded_ms, 0.95)
            kinds_p95 = [percentile(loaded[kind], 0.95) for kind in BROWSING if loaded.get(kind)]
            print(
                f"{'floor':<14} p95 {loaded_p95:.0f} ms under the same load for a request that does nothing, "
                f"{idle_p95:.1f} ms idle: {loaded_p95 / idle_p95:.1f}x; the kinds' p95 under load are "
                f"{min(kinds_p95) / loaded_p95:.1f}-{max(kinds_p95) / loaded_p95:.1f}x that floor"
            )
        # The server keeps answers (the catalog's until it changes, the viewer's pages for good):
        # how many requests of each kind asked what an earlier one had, the share a kept answer
        # can serve.
        repeated: dict[str, list[str]] = {}
        for samples in loaded_results:
            for kind, identity in samples.asked:
                repeated.setdefault(kind, []).append(identity)
        print("asked before in the load phase: " + ", ".join(
            f"{kind} {100 * (len(ids) - len(set(ids))) / len(ids):.0f}%" for kind, ids in sorted(repeated.items())
        ))  # fmt: skip
        served = sum(1 for s in loaded_results for kind, _, _ in s.requests if kind in BROWSING) / args.seconds
        if args.think_seconds:
            # Little's law: N clients pausing Z s between requests ask X = N / (Z + R) requests/s; the
            # server serves at most its capacity, and the rest waits in the queue (R grows).
            asked = browsing / args.think_seconds
            verdict = "saturated: the latency is the queue" if served < 0.8 * asked else "within capacity"
            print(f"browsing: {browsing} clients pausing {args.think_seconds} s ask up to {asked:.0f} requests/s; "
                  f"served {served:.1f}/s ({verdict})")  # fmt: skip
        for title, results in (("direct phase", direct_results), ("load phase", loaded_results)):
            total = sum(len(s.requests) for s in results)
            failed = sum(1 for s in results for _, _, ok in s.requests if not ok)
            print(
                f"errors, {title}: {failed}/{total} = {100 * failed / max(total, 1):.2f}% "
                f"(target 0) -> {'met' if failed == 0 else 'MISSED'}"
            )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=200, help="all clients, downloaders included")
    parser.add_argument("--downloaders", type=int, default=8)
    parser.add_argument("--client-processes", type=int, default=4, help="processes the browsing threads run in")
    parser.add_argument("--think-seconds", type=float, default=1.0, help="mean pause of a browsing client")
    parser.add_argument("--datasets", type=int, default=20_000, help="catalog rows to seed")
    parser.add_argument("--archives", type=int, default=3)
    parser.add_argument("--archive-mib", type=int, default=32)
    parser.add_argument("--viewer-rows", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=60.0, help="length of each loaded phase")
    parser.add_argument("--cost-seconds", type=float, default=8.0, help="length of each kind's CPU cost run")
    parser.add_argument("--web-workers", type=int, default=None, help="default: config/gunicorn.conf.py")
    parser.add_argument("--web-threads", type=int, default=None, help="default: config/gunicorn.conf.py")
    args = parser.parse_args()
    with bench_workspace("dc-bench-load-") as work:
        run(args, work)


if __name__ == "__main__":
    main()
