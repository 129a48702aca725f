"""Validation throughput, memory and cost growth: the worker's streaming check against the floor of the job.

    .venv/bin/python bench/validate.py [--gib 1] [--rounds 2] [--huge-gib 0] [--only NAME]
    .venv/bin/python bench/validate.py --growth [--growth-gib 0.1,1,5] [--growth-members 10,1000,100000]

Starts the embedded services (unless the environment names them), builds archives in a temporary
folder and stores them as quarantined uploads:

* ``small.tar``: GIB of many small WAV clips (16-128 KiB) and a TSV index naming them;
* ``large.tar``: GIB of four large WAV files;
* ``mixed.tar.gz``: clips and JSON Lines text (about a sixth of GIB), gzip-compressed: the common
  case (the MDC platform takes only .tar.gz);
* with ``--huge-gib N``, ``huge.tar``: N GiB of large files, to show memory stays flat.

For each, alternating rounds on the same object: the floor of the job and ``archives.scan``, the
validation's read (archive hash, member hashes, safety and content checks). The floor of a
``.tar`` is one plain streaming GET with ``hashlib.sha256`` over the bytes (target: validation at
least 0.7x its pace); of a ``.tar.gz`` the same GET, SHA-256 and a gunzip of every byte with the
fastest inflater at hand, ISA-L's (target: at least 0.8x). The plain GET alone is printed for
reference. Then a real Celery worker process (solo pool, on a queue of its own so that nothing
else runs in it) validates each upload end to end (read, checks, server-side copy to validated/,
database), and its peak RSS (VmHWM) is printed: the target is under 256 MiB whatever the size.

``--growth`` prints instead how time, pace and the scan's peak memory grow with the archive's size
(``.tar.gz`` of the mixed contents, 100 MiB, 1 GiB, 5 GiB) and with its number of members (a
``.tar`` of 100 MiB of WAV clips in all, split into 10, 1,000 or 100,000 members: the same total,
so only the per-member cost changes), each next to its floor, so that a cost that grows faster than
the bytes shows.
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
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from bench.harness import CpuMeter, MiB, bench_workspace  # noqa: E402

GiB = 1024 * MiB
BENCH_QUEUE = "bench-validate"  # the worker below takes only this queue: no export runs beside the validation


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


JSON_LINES = "".join(f'{{"id": {i}, "text": "a sentence of a corpus, number {i}"}}\n' for i in range(200_000)).encode()


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
        for number in range(int(gib * 4)):
            add_bytes(tar, f"text/part-{number}.jsonl", JSON_LINES)
        for number in range(int(gib * 1024)):
            add(tar, f"clips/c{number}.wav", 128 * 1024)
    if huge_gib:
        path = archives["huge.tar"] = work / "huge.tar"
        with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
            for number in range(huge_gib * 2):
                add(tar, f"audio/huge-{number}.wav", GiB // 2)
    return archives


def build_mixed_gz(path: Path, size: int) -> None:
    """About ``size`` bytes of the mixed contents (a sixth JSON Lines, the rest 128 KiB clips) as a
    .tar.gz, compressed with ISA-L at level 1 so that 5 GiB builds in a minute or two."""
    from isal import igzip

    text_parts = max(1, round(size / 6 / len(JSON_LINES)))
    clips = max(1, (size - text_parts * len(JSON_LINES)) // (128 * 1024))
    every, written = max(1, clips // text_parts), 0
    with igzip.open(path, "wb", compresslevel=1) as packed:
        with tarfile.open(fileobj=packed, mode="w|", format=tarfile.PAX_FORMAT) as tar:
            for number in range(clips):
                if number % every == 0 and written < text_parts:
                    add_bytes(tar, f"text/part-{written}.jsonl", JSON_LINES)
                    written += 1
                add(tar, f"clips/c{number}.wav", 128 * 1024)


def build_members(path: Path, total: int, members: int) -> None:
    """A .tar of ``members`` WAV clips of ``total // members`` bytes each."""
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        for number in range(members):
            add(tar, f"clips/{number // 1000:03d}/c{number:06d}.wav", total // members)


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
    parser.add_argument("--growth", action="store_true", help="print the cost growth tables instead")
    parser.add_argument("--growth-gib", default="0.09765625,1,5", help="archive sizes in GiB (default 100 MiB, 1, 5)")
    parser.add_argument("--growth-members", default="10,1000,100000", help="members per 100 MiB archive")
    args = parser.parse_args()
    with bench_workspace("dc-bench-validate-") as work:
        if args.growth:
            growth(args, work)
        else:
            run(args, work)


_OWNER: dict[str, Any] = {}


def store(name: str, path: Path) -> Any:
    """Put ``path`` in storage as the quarantined archive of a new submission; its Upload."""
    from django.utils import timezone

    from marketplace import storage
    from marketplace.models import Submission, Upload, User
    from marketplace.organizations.services import approve_organization, create_organization

    if not _OWNER:
        user = User.objects.create_user(username="bench", email="bench@example.org")
        org = approve_organization(organization=create_organization(name="Bench", slug="bench", owner=user))
        _OWNER.update(user=user, org=org)
    user, org = _OWNER["user"], _OWNER["org"]
    submission = Submission.objects.create(organization=org, created_by=user, name=name, task="ASR")
    key = f"quarantine/{submission.id}/archive-bench-{name}"
    with path.open("rb") as stream:
        storage.put_stream(key, stream)
    upload = Upload.objects.create(
        submission=submission, kind="archive", filename=name, size_bytes=path.stat().st_size,
        mime_type="application/gzip", object_key=key, s3_upload_id="bench", created_by=user,
        status="completed", sha256=sha256_file(path), completed_at=timezone.now(),
    )  # fmt: skip
    path.unlink()  # the object in storage is what is measured; keep the disk free
    return upload


def floor(key: str, *, hashing: bool, gunzip: bool = False) -> float:
    """Seconds for one streaming GET of ``key`` (with SHA-256 over it, and gunzip of it)."""
    from isal import isal_zlib

    from marketplace import storage

    body = storage.open_stream(key)
    digest = hashlib.sha256()
    inflate = isal_zlib.decompressobj(wbits=31)
    begin = time.perf_counter()
    while chunk := body.read(MiB):
        if hashing:
            digest.update(chunk)
        if gunzip:
            data = chunk
            while data:  # output in bounded pieces, as any reader of an unknown archive must
                inflate.decompress(data, 4 * MiB)
                data = inflate.unconsumed_tail
                if inflate.eof:
                    data, inflate = inflate.unused_data, isal_zlib.decompressobj(wbits=31)
    return time.perf_counter() - begin


def validate(upload: Any) -> tuple[float, int, int]:
    from marketplace.inspection.archives import Findings, Limits, scan
    from marketplace.inspection.contents import ContentInspector

    findings = Findings()
    inspector = ContentInspector(findings=findings, declared_format="", declared_task="ASR", max_references=10**6)
    begin = time.perf_counter()
    result = scan(upload.object_key, size=upload.size_bytes, limits=Limits.from_settings(),
                  findings=findings, inspector=inspector)  # fmt: skip
    seconds = time.perf_counter() - begin
    assert result.archive_sha256 == upload.sha256 and not findings.errors, findings.errors
    return seconds, len(result.files), sum(row["size"] for row in result.files)


def run(args: argparse.Namespace, work: Path) -> None:
    from marketplace import storage
    from marketplace.models import Upload

    started = time.perf_counter()
    archives = build(work, args.gib, args.huge_gib)
    if args.only:
        archives = {name: path for name, path in archives.items() if name == args.only}
    print(f"built {len(archives)} archives in {time.perf_counter() - started:.0f} s")
    uploads = {name: store(name, path) for name, path in archives.items()}

    budgets: dict[str, tuple[CpuMeter, CpuMeter, float]] = {}
    print(f"\n{'archive':<14}{'size':>8}{'files':>7}{'GET':>10}{'GET+SHA':>10}{'floor':>10}{'validate':>10}"
          f"{'ratio':>7}  target")  # fmt: skip
    for name, upload in uploads.items():
        if name == "huge.tar":
            continue  # measured by the worker below only: one pass over 5 GiB is enough
        gz = name.endswith(".tar.gz")
        plain, hashed, floors, checked = [], [], [], []
        floor_cpu, validate_cpu = CpuMeter(), CpuMeter()
        for _ in range(args.rounds):
            plain.append(floor(upload.object_key, hashing=False))
            with floor_cpu:  # the floor the target is set against (with gunzip for a .tar.gz)
                floors.append(floor(upload.object_key, hashing=True, gunzip=gz))
            if gz:
                hashed.append(floor(upload.object_key, hashing=True))
            with validate_cpu:
                seconds, files, unpacked = validate(upload)
            checked.append(seconds)
        budgets[name] = (floor_cpu, validate_cpu, min(floors))
        hashed = hashed or floors
        mb = upload.size_bytes / 1e6
        ratio = min(floors) / min(checked)
        goal = 0.8 if gz else 0.7
        basis = "GET+gunzip+SHA" if gz else "GET+SHA"
        print(f"{name:<14}{mb / 1000:>6.2f}GB{files:>7}{mb / min(plain):>7.0f}MB/s{mb / min(hashed):>7.0f}MB/s"
              f"{mb / min(floors):>7.0f}MB/s{mb / min(checked):>7.0f}MB/s{ratio:>7.2f}  >= {goal} of {basis}: "
              f"{'met' if ratio >= goal else 'MISSED'}" + (f" ({unpacked / 1e6 / min(checked):.0f} MB/s unpacked)"
                                                           if gz else ""))  # fmt: skip

    cpu_budget(budgets)

    print("\nEnd to end in a Celery worker process (solo pool): read, checks, copy to validated/, database")
    for name, upload in uploads.items():
        worker_run(name, upload)
        storage.delete(Upload.objects.get(id=upload.id).object_key)


def cpu_budget(budgets: dict[str, tuple[CpuMeter, CpuMeter, float]]) -> None:
    """What each pass costs in CPU, ours and the storage server's, and the fastest the validation
    could be on this machine's cores if its threads never waited: the floor is one thread beside
    the storage server, the validation adds the members' SHA-256 and the content checks, so where
    its CPU over the cores exceeds the floor's time the target is out of reach by overlap alone."""
    print(f"\nCPU per pass, this process + the storage server (s), on {os.cpu_count() or 1} cores:")
    print(f"{'archive':<14}{'floor':>16}{'validate':>16}{'bound':>9}{'ceiling':>9}")
    for name, (floor_cpu, validate_cpu, floor_s) in budgets.items():
        (f_ours, f_storage), (v_ours, v_storage) = floor_cpu.per_run(), validate_cpu.per_run()
        bound = validate_cpu.least_seconds()
        print(
            f"{name:<14}{f_ours:>8.2f} +{f_storage:>6.2f}{v_ours:>8.2f} +{v_storage:>6.2f}{bound:>8.2f}s"
            f"{floor_s / bound if bound else 0:>8.2f}x" + ("" if floor_cpu.storage_seen else "  (storage not seen)")
        )
    print(
        "bound: the validation's CPU spread over every core; ceiling: the floor's time over that bound, "
        "the best ratio the cores allow"
    )


def worker_run(name: str, upload: Any) -> None:
    from celery import current_app
    from django.db import transaction

    from marketplace.models import Validation
    from marketplace.submissions.validation import VALIDATE_UPLOAD_TASK
    from tests.conftest import database_url_of_test_db

    env = {**os.environ, "DATABASE_URL": database_url_of_test_db()}
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo", "--loglevel", "WARNING",
         "--without-gossip", "--without-mingle", "--without-heartbeat", "--queues", BENCH_QUEUE,
         "--hostname", f"bench-{name}@%h"],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        idle = _settled_rss(worker.pid)
        with transaction.atomic():
            Validation.objects.get_or_create(upload=upload)
        # Queued by hand to the bench's queue: the export that a pass chains goes to the usual
        # queue, which this worker does not take, so the peak below is the validation's own.
        current_app.send_task(VALIDATE_UPLOAD_TASK, args=(upload.id,), queue=BENCH_QUEUE)
        deadline = time.monotonic() + 3600
        while not Validation.objects.filter(upload=upload, status__in=["passed", "failed"]).exists():
            if time.monotonic() > deadline or worker.poll() is not None:
                raise SystemExit(f"{name}: the worker did not finish the validation")
            time.sleep(0.2)
        done = Validation.objects.get(upload=upload)
        peak = _proc_status(worker.pid, "VmHWM")
        assert done.finished_at is not None and done.started_at is not None
        seconds = (done.finished_at - done.started_at).total_seconds()
        print(f"{name:<14}{upload.size_bytes / GiB:>6.2f} GiB  {done.status}, {len(done.files)} files, "
              f"{seconds:.1f} s in the task; worker RSS {idle / MiB:.0f} MiB idle, "
              f"peak {peak / MiB:.0f} MiB (target < 256) -> {'met' if peak < 256 * MiB else 'MISSED'}")  # fmt: skip
    finally:
        worker.terminate()
        worker.wait(timeout=30)


def growth(args: argparse.Namespace, work: Path) -> None:
    """Time, pace and peak memory of the scan as the archive grows in bytes, then in members."""
    from marketplace import storage

    print("Cost growth of validation's read (archives.scan, in this process); floor as in the main table;")
    print("peak = this process's peak RSS during the scan, over = above its RSS before it")
    header = (f"{'archive':<30}{'size':>9}{'files':>8}{'floor':>9}{'validate':>10}{'pace':>9}{'ratio':>7}"
              f"{'peak':>9}{'over':>8}")  # fmt: skip
    print(f"\nBy size: .tar.gz, a sixth JSON Lines and the rest 128 KiB WAV clips\n{header}")
    for gib in (float(value) for value in args.growth_gib.split(",")):
        path = work / "growth.tar.gz"
        build_mixed_gz(path, int(gib * GiB))
        upload = store(f"growth-{gib:g}GiB.tar.gz", path)
        _growth_row(f"{upload.size_bytes / MiB:.0f} MiB .tar.gz", upload, gz=True)
        storage.delete(upload.object_key)
    print(f"\nBy members: .tar of 100 MiB of WAV clips in all (the same total bytes, split finer)\n{header}")
    for members in (int(value) for value in args.growth_members.split(",")):
        path = work / "members.tar"
        build_members(path, 100 * MiB, members)
        upload = store(f"members-{members}.tar", path)
        _growth_row(f"{members:,} members of {100 * MiB // members:,} B", upload, gz=False)
        storage.delete(upload.object_key)


def _growth_row(label: str, upload: Any, *, gz: bool) -> None:
    base = floor(upload.object_key, hashing=True, gunzip=gz)
    before = _proc_status(os.getpid(), "VmRSS")
    _reset_peak_rss(os.getpid())
    seconds, files, _ = validate(upload)
    peak = _proc_status(os.getpid(), "VmHWM")
    mb = upload.size_bytes / 1e6
    print(f"{label:<30}{mb:>7.0f}MB{files:>8}{mb / base:>5.0f}MB/s{seconds:>9.1f}s{mb / seconds:>5.0f}MB/s"
          f"{base / seconds:>7.2f}{peak / MiB:>6.0f}MiB{(peak - before) / MiB:>5.0f}MiB")  # fmt: skip


def _proc_status(pid: int, field: str) -> int:
    """A memory figure of /proc/PID/status in bytes: VmHWM is the most resident memory the
    process has had, VmRSS what it has now (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0


def _reset_peak_rss(pid: int) -> None:
    """Start VmHWM again from the current RSS (Linux 4.0+)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def _settled_rss(pid: int) -> int:
    """The worker's RSS once it has finished starting (unchanged for a second, 30 s at most)."""
    last, deadline = -1, time.monotonic() + 30
    while time.monotonic() < deadline:
        time.sleep(1)
        now = _proc_status(pid, "VmRSS")
        if now == last:
            break
        last = now
    return _proc_status(pid, "VmHWM")


if __name__ == "__main__":
    main()
