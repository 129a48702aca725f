"""Re-release throughput and memory: the archive rewriter of a consent withdrawal against the floor.

    .venv/bin/python bench/rerelease.py [--gib 1] [--rounds 2] [--withdraw-percent 1]

Starts the embedded services (unless the environment names them), builds ``speech.tar.gz``: GIB of
small WAV clips of random samples (16-128 KiB, incompressible as real audio nearly is) and a TSV
index ``train.tsv`` (``record_id``, ``path``, ``sentence``), and stores it. Then, in alternating
rounds on the same object: the floor (one plain streaming GET with ``hashlib.sha256`` over the
bytes) and ``rewrite_archive`` with ``--withdraw-percent`` of the records withdrawn (their clips
dropped and their rows, checked against the archive's manifest as the consent job does). The
target is at least 0.5x the floor. For reference (no target), each round also times the store's
write path: a multipart upload of as many bytes from memory, in the rewriter's parts. Last, a
separate process runs one rewrite and prints its peak RSS (VmHWM): the target is under 256 MiB
whatever the archive's size.
"""

from __future__ import annotations

import argparse
import hashlib
import json
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
from bench.validate import _proc_status, add_bytes, wav_header  # noqa: E402

GiB = 1024 * MiB


def build(path: Path, gib: float) -> dict[str, str]:
    """Write the archive; its manifest (path -> SHA-256)."""
    rng = random.Random(7)  # noqa: S311 - sizes only
    manifest: dict[str, str] = {}
    rows = ["record_id\tpath\tsentence"]
    total, number = 0, 0
    # gzip level 6, as tar -czf makes the archives contributors upload (built once: about 30 s per GiB).
    with tarfile.open(path, "w:gz", compresslevel=6, format=tarfile.PAX_FORMAT) as tar:
        while total < gib * GiB:
            size = rng.randint(16, 128) * 1024
            data = wav_header(size - 44) + os.urandom(size - 44)
            name = f"clips/clip-{number:06d}.wav"
            add_bytes(tar, name, data)
            manifest[name] = hashlib.sha256(data).hexdigest()
            rows.append(f"rec-{number:06d}\tclip-{number:06d}.wav\tsentence number {number}")
            total += size
            number += 1
        index = ("\n".join(rows) + "\n").encode()
        add_bytes(tar, "train.tsv", index)
        manifest["train.tsv"] = hashlib.sha256(index).hexdigest()
    return manifest


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--gib", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--withdraw-percent", type=float, default=1.0)
    parser.add_argument("--child", help=argparse.SUPPRESS)  # a job file: run one rewrite, print peak RSS
    args = parser.parse_args()
    if args.child:
        child(Path(args.child))
        return
    with bench_workspace("dc-bench-rerelease-") as work:
        run(args, work)


def run(args: argparse.Namespace, work: Path) -> None:
    from marketplace import storage
    from marketplace.inspection.rewrite import Withdrawn, rewrite_archive

    started = time.perf_counter()
    path = work / "speech.tar.gz"
    manifest = build(path, args.gib)
    clips = sorted(name for name in manifest if name.startswith("clips/"))
    key = "published/bench/speech.tar.gz"
    with path.open("rb") as stream:
        storage.put_stream(key, stream)
    size = path.stat().st_size
    path.unlink()  # the object in storage is what is measured; keep the disk free
    print(f"built and stored {size / GiB:.2f} GiB, {len(clips)} clips, in {time.perf_counter() - started:.0f} s")

    gone = random.Random(8).sample(clips, max(1, round(len(clips) * args.withdraw_percent / 100)))  # noqa: S311
    withdrawn = Withdrawn(
        paths=frozenset(gone),
        records=frozenset(f"rec-{name[len('clips/clip-') : -len('.wav')]}" for name in gone),
        record_id_column="record_id",
    )

    def floor() -> float:
        body = storage.open_stream(key)
        digest = hashlib.sha256()
        begin = time.perf_counter()
        while chunk := body.read(MiB):
            digest.update(chunk)
        return time.perf_counter() - begin

    def rewrite(target: str) -> float:
        begin = time.perf_counter()
        result = rewrite_archive(key, target, withdrawn=withdrawn, expected=manifest)
        seconds = time.perf_counter() - begin
        assert len(result.removed_files) == len(gone) and result.removed_rows == {"train.tsv": len(gone)}
        assert storage.sha256_of(target) == (result.sha256, result.size_bytes)
        storage.delete(target)
        return seconds

    def store_write() -> float:
        """For reference, no target: what the store ingests of a multipart upload of as many bytes, sent
        from memory in the rewriter's parts and concurrency (nothing read, compressed or hashed)."""
        from concurrent.futures import ThreadPoolExecutor

        from marketplace.inspection.rewrite import PART_BYTES, UPLOADS_IN_FLIGHT

        part = os.urandom(PART_BYTES)
        target = "published/bench/write-ceiling.bin"
        begin = time.perf_counter()
        upload_id = storage.create_multipart(target, content_type="application/octet-stream")
        with ThreadPoolExecutor(UPLOADS_IN_FLIGHT) as pool:
            etags = list(pool.map(
                lambda number: storage.upload_part(target, upload_id=upload_id, part_number=number, data=part),
                range(1, -(-size // PART_BYTES) + 1),
            ))  # fmt: skip
        storage.complete_multipart(target, upload_id=upload_id, parts=list(enumerate(etags, start=1)))
        seconds = time.perf_counter() - begin
        storage.delete(target)
        return seconds

    hashed, rewritten, written = [], [], []
    for number in range(args.rounds):
        hashed.append(floor())
        rewritten.append(rewrite(f"published/bench/speech-rerelease-{number}.tar.gz"))
        written.append(store_write())
    mib = size / MiB
    ratio = min(hashed) / min(rewritten)
    print(f"\nwithdrawn: {len(gone)} of {len(clips)} records ({args.withdraw_percent:g}%), clips and index rows")
    print(f"{'':<34}{'best':>10}{'rounds (s)':>24}")
    print(f"{'floor: GET + SHA-256':<34}{mib / min(hashed):>6.0f}MiB/s  {', '.join(f'{s:.2f}' for s in hashed):>22}")
    print(f"{'rewrite_archive':<34}{mib / min(rewritten):>6.0f}MiB/s  {', '.join(f'{s:.2f}' for s in rewritten):>22}")
    print(f"{'(store write: multipart PUT, same size)':<34}{mib / min(written):>6.0f}MiB/s  "
          f"{', '.join(f'{s:.2f}' for s in written):>22}")  # fmt: skip
    print(f"ratio {ratio:.2f} (target >= 0.5) -> {'met' if ratio >= 0.5 else 'MISSED'}; "
          f"rewrite / store write {min(written) / min(rewritten):.2f}")  # fmt: skip

    job = work / "job.json"
    job.write_text(json.dumps({"key": key, "target": "published/bench/speech-rerelease-rss.tar.gz",
                               "paths": sorted(withdrawn.paths), "records": sorted(withdrawn.records),
                               "manifest": manifest}))  # fmt: skip
    answer = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", str(job)],
        cwd=REPO, capture_output=True, text=True, check=True,
    )  # fmt: skip
    baseline, peak, seconds = (int(value) for value in answer.stdout.split())
    print(f"\nIn a separate process: RSS {baseline / MiB:.0f} MiB before the rewrite, peak {peak / MiB:.0f} MiB "
          f"(target < 256) -> {'met' if peak < 256 * MiB else 'MISSED'}; {seconds / 1000:.1f} s")  # fmt: skip
    storage.delete(key)


def child(job_file: Path) -> None:
    """One rewrite in this process, with Django set up as a worker's; prints RSS before, peak, ms."""
    import django

    django.setup()
    from marketplace import storage
    from marketplace.inspection.rewrite import Withdrawn, rewrite_archive

    job = json.loads(job_file.read_text())
    withdrawn = Withdrawn(frozenset(job["paths"]), frozenset(job["records"]), "record_id")
    baseline = _proc_status(os.getpid(), "VmHWM")
    begin = time.perf_counter()
    rewrite_archive(job["key"], job["target"], withdrawn=withdrawn, expected=job["manifest"])
    seconds = time.perf_counter() - begin
    peak = _proc_status(os.getpid(), "VmHWM")
    storage.delete(job["target"])
    print(baseline, peak, int(seconds * 1000))


if __name__ == "__main__":
    main()
