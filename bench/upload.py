"""Upload throughput: the official SDK through our API against boto3 straight to the same store.

    .venv/bin/python bench/upload.py [--size-mib 1024] [--rounds 2]

Starts the embedded services (unless the environment names them) and gunicorn on a free port,
then uploads the same file with `datacollective.upload_dataset_file` (10 MiB parts, 4 workers:
the SDK's defaults) and with boto3's `upload_file` using the same part size and concurrency,
alternating, and prints the times and the ratio (target: the SDK at >= 0.9x boto3's speed).

What the SDK path does on top of moving bytes: it hashes the file as it reads it (SHA-256, on
the client) and asks the API for a presigned URL before each part. The completion (E14) is timed
on its own: it reads nothing back (validation's read checks the SHA-256); the read-back it used
to do is timed after each round for comparison.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from bench.harness import MiB, gunicorn, throughput_main  # noqa: E402


def main() -> None:
    throughput_main(run, prefix="dc-bench-upload-")


def run(args: argparse.Namespace, work: Path) -> None:
    with gunicorn(workers=4) as base_url:
        from boto3.s3.transfer import TransferConfig

        from licensing.keys.services import create_api_key
        from marketplace import storage
        from marketplace.models import Membership, Upload, User
        from marketplace.organizations.services import approve_organization, create_organization
        from tests.factories import verify_email

        user = User.objects.create_user(username="bench", email="bench@example.org")
        verify_email(user)  # submissions need a verified address
        org = approve_organization(organization=create_organization(name="Bench", slug="bench", owner=user))
        assert Membership.objects.filter(organization=org, user=user).exists()
        _, key = create_api_key(user=user, name="bench", scopes=["upload", "read"])

        os.environ["MDC_API_URL"] = f"{base_url}/api"
        os.environ["MDC_API_KEY"] = key

        path = work / "bench.tar.gz"
        with path.open("wb") as out:
            for _ in range(args.size_mib):
                out.write(os.urandom(MiB))
        size = path.stat().st_size
        started = time.perf_counter()
        with path.open("rb") as stream:
            digest = hashlib.sha256()
            while chunk := stream.read(8 * MiB):
                digest.update(chunk)
        hash_seconds = time.perf_counter() - started
        hash_rate = size / MiB / hash_seconds
        print(f"file: {size / MiB:.0f} MiB; SHA-256 alone over it: {hash_seconds:.2f} s ({hash_rate:.0f} MiB/s)")

        import datacollective
        import datacollective.upload
        from datacollective.models import DatasetSubmission

        # The completion (E14) timed on its own: the SDK's call, wrapped, its behaviour unchanged.
        completion_seconds: list[float] = []
        sdk_complete = datacollective.upload._complete_upload

        def timed_complete(*args: object, **kwargs: object) -> None:
            began = time.perf_counter()
            try:
                sdk_complete(*args, **kwargs)
            finally:
                completion_seconds.append(time.perf_counter() - began)

        datacollective.upload._complete_upload = timed_complete

        config = TransferConfig(multipart_threshold=10 * MiB, multipart_chunksize=10 * MiB, max_concurrency=4)
        direct, through_api, read_back = [], [], []
        for round_number in range(args.rounds):
            started = time.perf_counter()
            storage.client().upload_file(str(path), storage.bucket(), f"bench/direct-{round_number}", Config=config)
            direct.append(time.perf_counter() - started)

            draft = datacollective.create_submission_draft(DatasetSubmission(name=f"bench {round_number}"))
            started = time.perf_counter()
            state = datacollective.upload_dataset_file(
                str(path), draft["submission"]["id"], show_progress=False, part_size=10 * MiB, max_workers=4
            )
            through_api.append(time.perf_counter() - started)
            # What E14 used to add: reading the archive back to check its SHA-256 (validation does now).
            started = time.perf_counter()
            storage.sha256_of(Upload.objects.get(id=state.fileUploadId).object_key)
            read_back.append(time.perf_counter() - started)
            print(
                f"round {round_number + 1}: boto3 {direct[-1]:.2f} s, SDK through the API {through_api[-1]:.2f} s "
                f"(of which the completion, E14: {completion_seconds[-1]:.2f} s; reading the archive back, as E14 "
                f"did before: {read_back[-1]:.2f} s)"
            )
        best_direct, best_api = min(direct), min(through_api)
        completion = completion_seconds[through_api.index(best_api)]
        ratio = best_direct / best_api
        print(
            f"\nboto3 direct: {size / MiB / best_direct:.0f} MiB/s; SDK via our API: {size / MiB / best_api:.0f} MiB/s"
        )
        print(f"the SDK's completion (E14) in its best round: {completion:.2f} s")
        print(f"speed ratio SDK/boto3: {ratio:.2f} (target >= 0.9) -> {'met' if ratio >= 0.9 else 'MISSED'}")


if __name__ == "__main__":
    main()
