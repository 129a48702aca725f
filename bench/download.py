"""Download throughput: the official SDK through our API against the same HTTP client fetching a
presigned URL made directly with boto3, for the same object, in the same run.

    .venv/bin/python bench/download.py [--size-mib 1024] [--rounds 2]

Starts the embedded services (unless the environment names them) and gunicorn on a free port,
stores one archive of random bytes, publishes it and accepts its terms, then alternates:
`datacollective.download_dataset` (E3, E4, then a streamed GET of the presigned URL in 64 KiB
chunks) and `requests` streaming a boto3 presigned GET of the same object in the same 64 KiB
chunks to a file. Prints the times and the ratio (target: the SDK at >= 0.9x the direct speed;
our API only signs, the bytes come from storage either way).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from bench.harness import MiB, gunicorn, publish_random_archive, throughput_main  # noqa: E402


def main() -> None:
    throughput_main(run, prefix="dc-bench-download-")


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

    with gunicorn(workers=2) as base_url:
        os.environ["MDC_API_URL"] = f"{base_url}/api"
        os.environ["MDC_API_KEY"] = key

        import datacollective

        direct_target = work / "direct.bin"
        sdk_dir = work / "sdk"
        direct, through_api = [], []
        for round_number in range(args.rounds):
            started = time.perf_counter()
            url = storage.public_client().generate_presigned_url(
                "get_object", Params={"Bucket": storage.bucket(), "Key": object_key}, ExpiresIn=900
            )
            with requests.get(url, stream=True, timeout=(10, 60)) as response, direct_target.open("wb") as out:
                response.raise_for_status()
                for chunk in response.iter_content(chunk_size=1 << 16):
                    out.write(chunk)
            direct.append(time.perf_counter() - started)
            assert direct_target.stat().st_size == size
            direct_target.unlink()

            started = time.perf_counter()
            path = datacollective.download_dataset(
                dataset.id, str(sdk_dir), show_progress=False, overwrite_existing=True
            )
            through_api.append(time.perf_counter() - started)
            assert path.stat().st_size == size
            path.unlink()
            print(
                f"round {round_number + 1}: presigned GET direct {direct[-1]:.2f} s, "
                f"SDK through our API {through_api[-1]:.2f} s"
            )
    best_direct, best_api = min(direct), min(through_api)
    ratio = best_direct / best_api
    print(f"\nobject: {size / MiB:.0f} MiB")
    print(
        f"direct presigned GET: {size / MiB / best_direct:.0f} MiB/s; "
        f"SDK via our API: {size / MiB / best_api:.0f} MiB/s"
    )
    print(f"speed ratio SDK/direct: {ratio:.2f} (target >= 0.9) -> {'met' if ratio >= 0.9 else 'MISSED'}")


if __name__ == "__main__":
    main()
