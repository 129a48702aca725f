"""What every benchmark needs: real services (embedded unless the environment names them), Django
set up, and a fresh database that is dropped at the end."""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

MiB = 1024 * 1024


class CpuMeter:
    """CPU seconds spent while it runs, by this process (all its threads) and by the storage
    server's processes (SeaweedFS's ``weed``, found by name; none when storage is elsewhere): on
    this 2-core machine a job whose CPU needs more than the cores give cannot run faster however
    it overlaps, so a benchmark prints what its paths cost next to how long they took.

        meter = CpuMeter()
        with meter:
            job()
        meter.ours, meter.storage  # seconds, summed over every ``with``"""

    def __init__(self) -> None:
        import psutil

        self._psutil = psutil
        self.ours = self.storage = 0.0
        self.storage_seen = False
        self.runs = 0

    def _storage_processes(self) -> list[Any]:
        found = []
        for process in self._psutil.process_iter(["name"]):
            if process.info["name"] == "weed":
                found.append(process)
        return found

    def _storage_cpu(self, processes: list[Any]) -> float:
        total = 0.0
        for process in processes:
            try:
                times = process.cpu_times()
            except self._psutil.Error:
                continue
            total += times.user + times.system
        return total

    def __enter__(self) -> CpuMeter:
        self._processes = self._storage_processes()
        self.storage_seen = self.storage_seen or bool(self._processes)
        self._started = (time.process_time(), self._storage_cpu(self._processes))
        return self

    def __exit__(self, *exc: object) -> None:
        ours, storage = self._started
        self.ours += time.process_time() - ours
        self.storage += self._storage_cpu(self._processes) - storage
        self.runs += 1

    def per_run(self) -> tuple[float, float]:
        return self.ours / max(1, self.runs), self.storage / max(1, self.runs)

    def least_seconds(self) -> float:
        """The shortest a run could take if it kept every core busy: its CPU over the cores."""
        return sum(self.per_run()) / (os.cpu_count() or 1)


@contextmanager
def django_with_fresh_database() -> Iterator[str]:
    """Yield the name of a new, migrated database; stop whatever was started for it."""
    from devstack.stack import Stack

    stack = None
    if not all(os.environ.get(name) for name in ("DATABASE_URL", "S3_ENDPOINT_URL", "CELERY_BROKER_URL")):
        stack = Stack(Path(tempfile.mkdtemp(prefix="dc-bench-")))
        stack.start()
        os.environ.update(stack.env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    os.environ.setdefault("VAR_DIR", tempfile.mkdtemp(prefix="dc-bench-var-"))
    (Path(os.environ["VAR_DIR"]) / "staticfiles").mkdir(exist_ok=True)
    try:
        import django

        django.setup()
        from django.db import connection

        name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
        try:
            yield name
        finally:
            connection.close()
            connection.creation.destroy_test_db(name, verbosity=0)
    finally:
        if stack is not None:
            stack.stop()


@contextmanager
def bench_workspace(prefix: str) -> Iterator[Path]:
    """Services, Django and a fresh database as above, and a scratch folder for the benchmark's
    files; everything is removed at the end, also when the benchmark fails."""
    work = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        with django_with_fresh_database():
            yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)


def throughput_main(
    run: Callable[[argparse.Namespace, Path], None],
    *,
    prefix: str,
    extra: Callable[[argparse.ArgumentParser], None] | None = None,
) -> None:
    """The command line of the throughput benchmarks (upload, download): the object's size and how
    many rounds of the two paths alternate (and a benchmark's ``extra`` arguments); ``run`` gets
    them and a workspace."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=2)
    if extra is not None:
        extra(parser)
    args = parser.parse_args()
    with bench_workspace(prefix) as work:
        run(args, work)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def gunicorn(*, workers: int | None = None, threads: int | None = None, **extra_env: str) -> Iterator[str]:
    """gunicorn on a free port against the benchmark's database, with `make run`'s settings
    (config/gunicorn.conf.py; ``workers`` and ``threads`` override them); yield its base URL once
    /healthz answers, and stop it at the end."""
    import subprocess
    import time
    import urllib.request

    from tests.conftest import database_url_of_test_db

    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url_of_test_db(), **extra_env}
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "config.wsgi", "--config", "config/gunicorn.conf.py",
         "--bind", f"127.0.0.1:{port}", "--no-control-socket",
         *(["--workers", str(workers)] if workers else []), *(["--threads", str(threads)] if threads else [])],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base_url}/healthz", timeout=2).close()  # noqa: S310 (loopback)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("gunicorn did not answer /healthz within 60 s") from None
                time.sleep(0.2)
        yield base_url
    finally:
        server.terminate()
        server.wait(timeout=30)


def publish_random_archive(*, work: Path, organization: Any, slug: str, size_mib: int, licensees: list[Any]) -> Any:
    """Store an archive of random bytes, publish it as a dataset of ``organization`` under CC-BY-4.0
    and accept its terms for each licensee; return the dataset."""
    import hashlib

    from boto3.s3.transfer import TransferConfig

    from licensing.access.grants import accept_terms, current_version, terms_for
    from marketplace import storage
    from marketplace.publishing import create_dataset, publish_version
    from tests.factories import license_for

    source = work / f"{slug}.bin"
    digest = hashlib.sha256()
    with source.open("wb") as out:
        for _ in range(size_mib):
            block = os.urandom(MiB)
            digest.update(block)
            out.write(block)
    size = source.stat().st_size
    object_key = f"published/bench/{slug}.tar.gz"
    config = TransferConfig(multipart_threshold=64 * MiB, multipart_chunksize=64 * MiB, max_concurrency=4)
    storage.client().upload_file(str(source), storage.bucket(), object_key, Config=config)
    source.unlink()
    dataset = create_dataset(organization=organization, slug=slug, name=slug.replace("-", " ").capitalize())
    publish_version(
        dataset=dataset, archive_key=object_key, size_bytes=size, sha256=digest.hexdigest(),
        license=license_for("CC-BY-4.0"),
    )  # fmt: skip
    dataset.refresh_from_db()
    terms = terms_for(dataset=dataset, version=current_version(dataset))
    for user in licensees:
        accept_terms(user=user, dataset=dataset, terms_sha256=terms.sha256, source="api")
    return dataset
