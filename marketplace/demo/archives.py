"""Small but real archives for the demo: gzip tars with fixed times and owners, so the same
content gives the same bytes (and the same SHA-256) on every run and every machine."""

from __future__ import annotations

import gzip
import io
import json
import math
import struct
import tarfile

WELSH_SENTENCES = ["Bore da.", "Diolch yn fawr.", "Sut mae?", "Nos da.", "Croeso i Gymru."]


def tar_gz(files: dict[str, bytes]) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for path in sorted(files):
            info = tarfile.TarInfo(path)
            info.size = len(files[path])
            info.mtime = 1_700_000_000
            info.mode = 0o644
            archive.addfile(info, io.BytesIO(files[path]))
    return gzip.compress(raw.getvalue(), mtime=0)


def wav(frequency: float, seconds: float = 0.4, rate: int = 16000) -> bytes:
    frames = int(seconds * rate)
    samples = b"".join(
        struct.pack("<h", int(12000 * math.sin(2 * math.pi * frequency * i / rate))) for i in range(frames)
    )
    header = b"RIFF" + struct.pack("<I", 36 + len(samples)) + b"WAVE"
    fmt = b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
    return header + fmt + b"data" + struct.pack("<I", len(samples)) + samples


def welsh_clip(index: int) -> bytes:
    return wav(220.0 + 55 * index)


def speech(*, without: frozenset[int] = frozenset()) -> bytes:
    """Tiny Welsh Speech: one clip per contributor (``c-00<i+1>``); ``without`` leaves clips out,
    as the re-release after a consent withdrawal does."""
    kept = [i for i in range(len(WELSH_SENTENCES)) if i not in without]
    rows = ["path\tsentence\tclient_id"] + [f"clips/clip{i}.wav\t{WELSH_SENTENCES[i]}\tc-00{i + 1}" for i in kept]
    files = {"train.tsv": ("\n".join(rows) + "\n").encode()}
    files |= {f"clips/clip{i}.wav": welsh_clip(i) for i in kept}
    return tar_gz(files)


def speech_sample() -> bytes:
    return tar_gz({"train.tsv": b"path\tsentence\tclient_id\nclips/clip0.wav\tBore da.\tc-001\n",
                   "clips/clip0.wav": welsh_clip(0)})  # fmt: skip


def jsonl(name: str, rows: list[dict[str, object]], **extra: bytes) -> bytes:
    return tar_gz({name: "".join(json.dumps(row) + "\n" for row in rows).encode(), **extra})


def csv(name: str, header: str, rows: list[str]) -> bytes:
    return tar_gz({name: ("\n".join([header, *rows]) + "\n").encode()})


def dialogues() -> bytes:
    return jsonl("dialogues.jsonl", [
        {"id": i, "text": f"Customer: my order {1000 + i} is late. Agent: I am sorry, let me check order {1000 + i}."}
        for i in range(40)
    ])  # fmt: skip


def dialogues_sample() -> bytes:
    return jsonl("dialogues.jsonl", [{"id": 0, "text": "Customer: my order 1000 is late. Agent: let me check."}])


def clinical_notes() -> bytes:
    return csv("notes.csv", "id,note", [
        f"{i},Synthetic note {i}: patient reports mild symptoms; follow up in {i % 7 + 1} days." for i in range(30)
    ])  # fmt: skip


def qa_prompts() -> bytes:
    return jsonl(
        "prompts.jsonl", [{"id": i, "prompt": f"Summarise support ticket {i} in one line."} for i in range(12)]
    )


def parallel() -> bytes:
    pairs = [("Hello", "Bonjour"), ("Thank you", "Merci"), ("Good night", "Bonne nuit"), ("Welcome", "Bienvenue")]
    return jsonl("train.jsonl", [{"en": en, "fr": fr} for en, fr in pairs],
                 **{"README.txt": b"English-French sentence pairs.\n"})  # fmt: skip


def headlines() -> bytes:
    return csv("headlines.csv", "id,date,headline", [
        f"{i},2025-03-{i + 1:02d},Local council approves budget for year {2025 + i % 3}" for i in range(20)
    ])  # fmt: skip


def eval_prompts() -> bytes:
    return jsonl(
        "eval.jsonl", [{"id": i, "question": f"What is {i} plus {i}?", "answer": str(2 * i)} for i in range(10)]
    )


def forum_posts() -> bytes:
    return jsonl("posts.jsonl", [{"id": i, "text": f"Forum post number {i}."} for i in range(8)])


def trial_abstracts() -> bytes:
    return csv("abstracts.csv", "id,abstract", [
        f"{i},A randomised trial of treatment {chr(65 + i % 5)} in {40 + i} synthetic patients." for i in range(25)
    ])  # fmt: skip


def radiology() -> bytes:
    return csv("reports.csv", "id,finding", [f"{i},No acute abnormality in synthetic image {i}." for i in range(15)])


def survey() -> bytes:
    return csv("survey.csv", "id,answer", [f"{i},Satisfied with the co-op ({i % 5 + 1}/5)" for i in range(18)])


def discharge_summaries() -> bytes:
    return csv("summaries.csv", "id,summary", [f"{i},Synthetic discharge summary {i}." for i in range(10)])


def dialect_notes() -> bytes:
    return csv("notes.csv", "word,meaning", ["bach,small (also: dear)", "cwtch,a cuddle", "tamping,furious"])
