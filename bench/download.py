"""Download throughput: the official SDK through our API against the same HTTP client fetching a
presigned URL made directly with boto3, for the same object, in the same run.

    .venv/bin/python bench/download.py [--size-mib 1024] [--rounds 2]

Starts the embedded services (unless the environment names them) and gunicorn on a free port,
stores one archive of random bytes, publishes it and accepts its terms, then alternates:
`datacollective.download_dataset` (E3, E4, then a streamed GET of the presigned URL in 64 KiB
chunks) and `requests` streaming a boto3 presigned GET of the same object in the same 64 KiB
chunks to a file; and, as the SDK's ceiling, two requests to the health check (the SDK's two API
calls to an API that does nothing) followed by the same GET. Prints the times and the ratios
(target: the SDK at >= 0.95x the direct speed; our API only signs, the bytes come from storage
either way).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from bench.harness import MiB, gunicorn, publish_random_archive, throughput_main  # noqa: E402


def main() -> None:
    throughput_main(run, prefix="dc-bench-download-", extra=add_arguments)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--e4-calls", type=int, default=300, help="in-process E4 calls timed (0: skip)")
    parser.add_argument("--profile", action="store_true", help="print a pyinstrument profile of the E4 calls")


def e4_in_process(dataset_id: str, key: str, calls: int, profile: bool) -> None:
    """E4 through Django's test client in this process (warm: after a few calls), with its SQL
    queries: the server's own time for issuing a download, without the network or gunicorn."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from licensing.models import DownloadRecord

    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}", HTTP_USER_AGENT="bench", HTTP_HOST="127.0.0.1")
    path = f"/api/datasets/{dataset_id}/download"
    for _ in range(20):  # warm: imports, URL resolver, the boto3 client, query plans
        assert client.post(path).status_code == 200
    before = DownloadRecord.objects.count()
    with CaptureQueriesContext(connection) as queries:
        client.post(path)
    statements = [q["sql"].split()[0] for q in queries.captured_queries]
    profiler = None
    if profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0002)
        profiler.start()
    times, cpu = [], []
    for _ in range(calls):
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.post(path)
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
        assert response.status_code == 200, response.content
    if profiler is not None:
        profiler.stop()
        print(profiler.output_text(unicode=True, color=False, show_all=False))
    assert DownloadRecord.objects.count() == before + 1 + calls  # every download recorded
    # The floor in the same run: the cheapest API request through the same stack (middleware,
    # DRF, the renderer) with no key and no query, and one query's round trip to PostgreSQL.
    floor = []
    for _ in range(calls):
        started = time.perf_counter()
        client.get("/api/health")
        floor.append(time.perf_counter() - started)
    trips = []
    with connection.cursor() as cursor:
        for _ in range(calls):
            started = time.perf_counter()
            cursor.execute("SELECT 1")
            cursor.fetchone()
            trips.append(time.perf_counter() - started)
    p50, p95 = (statistics.quantiles(times, n=20)[i] * 1000 for i in (9, 18))
    cpu_p50 = statistics.median(cpu) * 1000
    floor_p50, trip_p50 = statistics.median(floor) * 1000, statistics.median(trips) * 1000
    print(
        f"E4 in process ({calls} calls, Django test client): p50 {p50:.2f} ms, p95 {p95:.2f} ms, "
        f"CPU p50 {cpu_p50:.2f} ms; {len(statements)} SQL statements per call ({', '.join(statements)})"
    )
    print(f"floor in the same run: GET /api/health p50 {floor_p50:.2f} ms; SELECT 1 round trip p50 {trip_p50:.2f} ms")
    print(
        f"E4 p50 in process: {p50:.2f} ms = {p50 / floor_p50:.1f}x the health floor "
        f"(target <= 10 ms) -> {'met' if p50 <= 10 else 'MISSED'}"
    )


def run(args: argparse.Namespace, work: Path) -> None:
    import requests

    from licensing.keys.services import create_api_key
    from marketplace import storage
    from marketplace.models import User
    from marketplace.organizations.services import create_organization

    owner = User.objects.create_user(username="bench-owner", email="owner@example.org")
    user = User.objects.create_user(username="bench", email="bench@example.org")
    org = create_organization(name="Bench", slug="bench", owner=owner)
    _, key = create_api_key(user=user, name="bench", scopes=["read", "download"])
    dataset = publish_random_archive(
        work=work, organization=org, slug="bench-archive", size_mib=args.size_mib, licensees=[user]
    )
    object_key, size = dataset.current_version.archive_key, dataset.current_version.size_bytes
    if args.e4_calls:
        e4_in_process(dataset.id, key, args.e4_calls, args.profile)
    if not args.rounds:
        return

    with gunicorn(workers=2) as base_url:
        os.environ["MDC_API_URL"] = f"{base_url}/api"
        os.environ["MDC_API_KEY"] = key

        import datacollective

        direct_target = work / "direct.bin"
        sdk_dir = work / "sdk"

        def presigned_get() -> None:
            url = storage.public_client().generate_presigned_url(
                "get_object", Params={"Bucket": storage.bucket(), "Key": object_key}, ExpiresIn=900
            )
            with requests.get(url, stream=True, timeout=(10, 60)) as response, direct_target.open("wb") as out:
                response.raise_for_status()
                for chunk in response.iter_content(chunk_size=1 << 16):
                    out.write(chunk)
            assert direct_target.stat().st_size == size
            direct_target.unlink()

        direct, through_api, no_op_api = [], [], []
        for round_number in range(args.rounds):
            started = time.perf_counter()
            presigned_get()
            direct.append(time.perf_counter() - started)

            # The SDK's ceiling: its two API requests (the details GET, the download POST), each on
            # a new connection as `requests.request` makes them, to an API that does nothing (the
            # health check), then the same GET.
            started = time.perf_counter()
            for _ in range(2):
                requests.request("GET", f"{base_url}/api/health", timeout=10).raise_for_status()
            presigned_get()
            no_op_api.append(time.perf_counter() - started)

            started = time.perf_counter()
            path = datacollective.download_dataset(
                dataset.id, str(sdk_dir), show_progress=False, overwrite_existing=True
            )
            through_api.append(time.perf_counter() - started)
            assert path.stat().st_size == size
            path.unlink()
            print(
                f"round {round_number + 1}: presigned GET direct {direct[-1] * 1000:.0f} ms, "
                f"SDK through our API {through_api[-1] * 1000:.0f} ms, "
                f"two no-op requests and the GET {no_op_api[-1] * 1000:.0f} ms"
            )
    best_direct, best_api, best_no_op = min(direct), min(through_api), min(no_op_api)
    ratio = best_direct / best_api
    print(f"\nobject: {size / MiB:.0f} MiB")
    print(
        f"direct presigned GET: {size / MiB / best_direct:.0f} MiB/s; "
        f"SDK via our API: {size / MiB / best_api:.0f} MiB/s"
    )
    print(
        f"the SDK's ceiling, its two requests to an API that does nothing and the same GET: "
        f"{size / MiB / best_no_op:.0f} MiB/s = {best_direct / best_no_op:.2f}x direct "
        f"(our API's own share: {(best_api - best_no_op) * 1000:.1f} ms a download)"
    )
    # The target is for the SDK under the load bench (bench/load.py); one client alone is
    # held to the same ratio here.
    print(f"speed ratio SDK/direct: {ratio:.2f} (target >= 0.95) -> {'met' if ratio >= 0.95 else 'MISSED'}")


if __name__ == "__main__":
    main()
