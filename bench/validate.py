"""Validation throughput and memory: the worker's streaming check against the floor of the job.

    .venv/bin/python bench/validate.py [--gib 1] [--rounds 2] [--huge-gib 0]

Starts the embedded services (unless the environment names them), builds three archives in a
temporary folder and stores them as quarantined uploads:

* ``small.tar``: GIB of many small WAV clips (16-128 KiB) and a TSV index naming them;
* ``large.tar``: GIB of four large WAV files;
* ``mixed.tar.gz``: clips and JSON Lines text (about a sixth of GIB), gzip-compressed; its pace
  is set by parsing every JSON line, and it has no target;
* with ``--huge-gib N``, ``huge.tar``: N GiB of large files, to show memory stays flat.

For each, alternating rounds on the same object: the floor (one plain streaming GET with
``hashlib.sha256`` over the bytes, and the plain GET alone for reference) and ``archives.scan``,
the validation's read (archive hash, member hashes, safety and content checks). The target is
at least 0.6x the floor for ``.tar``. Then a real Celery worker process (solo pool) validates each
upload end to end (read, checks, server-side copy to published/, database), and its peak RSS
(VmHWM) is printed: the target is under 256 MiB whatever the archive's size.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import random
import subprocess
import sys
import tarfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from bench.harness import MiB, bench_workspace  # noqa: E402

GiB = 1024 * MiB


def wav_header(data_bytes: int, rate: int = 16_000) -> bytes:
    return (
        b"RIFF" + (36 + data_bytes).to_bytes(4, "little") + b"WAVEfmt " + (16).to_bytes(4, "little")
        + (1).to_bytes(2, "little") + (1).to_bytes(2, "little") + rate.to_bytes(4, "little")
        + (rate * 2).to_bytes(4, "little") + (2).to_bytes(2, "little") + (16).to_bytes(2, "little")
        + b"data" + data_bytes.to_bytes(4, "little")
    )  # fmt: skip


class _Member(io.RawIOBase):
    """A WAV file of random samples, produced piecewise so that nothing large sits in memory."""

    def __init__(self, size: int) -> None:
        self.header = wav_header(size - 44)
        self.left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        n = min(len(buffer), self.left, 4 * MiB)
        if self.header:
            n = min(n, len(self.header))
            buffer[:n], self.header = self.header[:n], self.header[n:]
        else:
            buffer[:n] = os.urandom(n)
        self.left -= n
        return n


def add(tar: tarfile.TarFile, name: str, size: int) -> None:
    info = tarfile.TarInfo(name)
    info.size = size
    tar.addfile(info, io.BufferedReader(_Member(size), buffer_size=4 * MiB))


def add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def build(work: Path, gib: float, huge_gib: int) -> dict[str, Path]:
    rng = random.Random(6)  # noqa: S311 - sizes only
    archives: dict[str, Path] = {}
    path = archives["small.tar"] = work / "small.tar"
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        total, rows, number = 0, ["path\tsentence"], 0
        while total < gib * GiB:
            size = rng.randint(16, 128) * 1024
            add(tar, f"clips/clip-{number:06d}.wav", size)
            rows.append(f"clip-{number:06d}.wav\tsentence number {number}")
            total += size
            number += 1
        add_bytes(tar, "train.tsv", ("\n".join(rows) + "\n").encode())
    path = archives["large.tar"] = work / "large.tar"
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        for number in range(4):
            add(tar, f"audio/long-{number}.wav", int(gib * GiB / 4))
    path = archives["mixed.tar.gz"] = work / "mixed.tar.gz"
    with tarfile.open(path, "w:gz", compresslevel=1, format=tarfile.PAX_FORMAT) as tar:
        text = "".join(f'{{"id": {i}, "text": "a sentence of a corpus, number {i}"}}\n' for i in range(200_000))
        for number in range(int(gib * 4)):
            add_bytes(tar, f"text/part-{number}.jsonl", text.encode())
        for number in range(int(gib * 1024)):
            add(tar, f"clips/c{number}.wav", 128 * 1024)
    if huge_gib:
        path = archives["huge.tar"] = work / "huge.tar"
        with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
            for number in range(huge_gib * 2):
                add(tar, f"audio/huge-{number}.wav", GiB // 2)
    return archives


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(8 * MiB):
            digest.update(chunk)
    return digest.hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--gib", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--huge-gib", type=int, default=0)
    parser.add_argument("--only", help="measure only this archive (e.g. small.tar)")
    args = parser.parse_args()
    with bench_workspace("dc-bench-validate-") as work:
        run(args, work)


def run(args: argparse.Namespace, work: Path) -> None:
    from django.db import transaction
    from django.utils import timezone

    from marketplace import storage
    from marketplace.inspection.archives import Findings, Limits, scan
    from marketplace.inspection.contents import ContentInspector
    from marketplace.models import Submission, Upload, User, Validation
    from marketplace.organizations.services import approve_organization, create_organization
    from marketplace.submissions.validation import schedule
    from tests.conftest import database_url_of_test_db

    started = time.perf_counter()
    archives = build(work, args.gib, args.huge_gib)
    if args.only:
        archives = {name: path for name, path in archives.items() if name == args.only}
    print(f"built {len(archives)} archives in {time.perf_counter() - started:.0f} s")
    user = User.objects.create_user(username="bench", email="bench@example.org")
    org = approve_organization(organization=create_organization(name="Bench", slug="bench", owner=user))
    uploads: dict[str, Upload] = {}
    for name, path in archives.items():
        submission = Submission.objects.create(organization=org, created_by=user, name=name, task="ASR")
        key = f"quarantine/{submission.id}/archive-bench-{name}"
        with path.open("rb") as stream:
            storage.put_stream(key, stream)
        uploads[name] = Upload.objects.create(
            submission=submission, kind="archive", filename=name, size_bytes=path.stat().st_size,
            mime_type="application/gzip", object_key=key, s3_upload_id="bench", created_by=user,
            status="completed", sha256=sha256_file(path), completed_at=timezone.now(),
        )  # fmt: skip
        path.unlink()  # the object in storage is what is measured; keep the disk free

    def floor(key: str, *, hashing: bool) -> float:
        body = storage.open_stream(key)
        digest = hashlib.sha256()
        begin = time.perf_counter()
        while chunk := body.read(MiB):
            if hashing:
                digest.update(chunk)
        return time.perf_counter() - begin

    def validate(upload: Upload) -> tuple[float, int, int]:
        findings = Findings()
        inspector = ContentInspector(findings=findings, declared_format="", declared_task="ASR", max_references=10**6)
        begin = time.perf_counter()
        result = scan(upload.object_key, size=upload.size_bytes, limits=Limits.from_settings(),
                      findings=findings, inspector=inspector)  # fmt: skip
        seconds = time.perf_counter() - begin
        assert result.archive_sha256 == upload.sha256 and not findings.errors, findings.errors
        return seconds, len(result.files), sum(row["size"] for row in result.files)

    print(f"\n{'archive':<14}{'size':>10}{'files':>8}{'GET':>10}{'GET+SHA':>10}{'validate':>10}{'ratio':>8}  target")
    for name, upload in uploads.items():
        if name == "huge.tar":
            continue  # measured by the worker below only: one pass over 5 GiB is enough
        plain, hashed, checked = [], [], []
        for _ in range(args.rounds):
            plain.append(floor(upload.object_key, hashing=False))
            hashed.append(floor(upload.object_key, hashing=True))
            seconds, files, unpacked = validate(upload)
            checked.append(seconds)
        mb = upload.size_bytes / 1e6
        ratio = min(hashed) / min(checked)
        if name.endswith(".tar"):
            target = "(>= 0.6) " + ("met" if ratio >= 0.6 else "MISSED")
        else:  # compressed: the content is larger than the object
            target = f"(none; {unpacked / 1e6 / min(checked):.0f} MB/s unpacked)"
        print(f"{name:<14}{mb / 1000:>8.2f}GB{files:>8}{mb / min(plain):>7.0f}MB/s{mb / min(hashed):>7.0f}MB/s"
              f"{mb / min(checked):>7.0f}MB/s{ratio:>8.2f}  {target}")  # fmt: skip

    print("\nEnd to end in a Celery worker process (solo pool): read, checks, copy to published/, database")
    env = {**os.environ, "DATABASE_URL": database_url_of_test_db()}
    for name, upload in uploads.items():
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo", "--loglevel", "WARNING",
             "--without-gossip", "--without-mingle", "--without-heartbeat", "--hostname", f"bench-{name}@%h"],
            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            time.sleep(3)
            baseline = _peak_rss(worker.pid)
            with transaction.atomic():
                schedule(upload)
            deadline = time.monotonic() + 1800
            while not Validation.objects.filter(upload=upload, status__in=["passed", "failed"]).exists():
                if time.monotonic() > deadline or worker.poll() is not None:
                    raise SystemExit(f"{name}: the worker did not finish the validation")
                time.sleep(0.2)
            done = Validation.objects.get(upload=upload)
            peak = _peak_rss(worker.pid)
            assert done.finished_at is not None and done.started_at is not None
            seconds = (done.finished_at - done.started_at).total_seconds()
            print(f"{name:<14}{upload.size_bytes / GiB:>6.2f} GiB  {done.status}, {len(done.files)} files, "
                  f"{seconds:.1f} s in the task; worker RSS {baseline / MiB:.0f} MiB idle, "
                  f"peak {peak / MiB:.0f} MiB (target < 256) -> {'met' if peak < 256 * MiB else 'MISSED'}")  # fmt: skip
        finally:
            worker.terminate()
            worker.wait(timeout=30)
        storage.delete(Upload.objects.get(id=upload.id).object_key)


def _peak_rss(pid: int) -> int:
    """VmHWM: the most resident memory the process has had (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


if __name__ == "__main__":
    main()
