"""Small but real archives and media files for the validation tests, built in temporary folders."""

from __future__ import annotations

import io
import struct
import tarfile
import wave
import zipfile
from pathlib import Path

import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]


def wav_bytes(frames: int = 800, rate: int = 16_000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"\x01\x00" * frames)
    return buffer.getvalue()


def mp3_bytes() -> bytes:
    # An ID3v2 tag, then MPEG-1 Layer III frames at 128 kbit/s and 44.1 kHz (417 bytes each).
    tag = b"ID3\x04\x00\x00" + bytes([0, 0, 0, 10]) + b"\x00" * 10
    frame = b"\xff\xfb\x90\x64" + b"\x00" * 413
    return tag + frame * 3


def flac_bytes() -> bytes:
    packed = (44_100 << 44) | (0 << 41) | (15 << 36) | 1000
    streaminfo = struct.pack(">HH", 4096, 4096) + b"\x00" * 6 + packed.to_bytes(8, "big") + b"\x00" * 16
    return b"fLaC" + bytes([0x80, 0, 0, 34]) + streaminfo + b"\x00" * 64


def ogg_bytes() -> bytes:
    packet = b"\x01vorbis" + b"\x00" * 23
    header = b"OggS" + bytes([0, 2]) + b"\x00" * 8 + b"\x00" * 4 + b"\x00" * 4 + b"\x00" * 4
    return header + bytes([1, len(packet)]) + packet


def parquet_bytes() -> bytes:
    buffer = io.BytesIO()
    pq.write_table(pa.table({"id": [1, 2, 3], "text": ["a", "b", "c"]}), buffer)
    return buffer.getvalue()


def asr_members() -> dict[str, bytes]:
    """A tidy ASR dataset: an index naming every clip, clips in four formats, a schema.yaml."""
    clips = {"clips/a.wav": wav_bytes(), "clips/b.mp3": mp3_bytes(), "clips/c.flac": flac_bytes(),
             "clips/d.ogg": ogg_bytes()}  # fmt: skip
    index = "path\tsentence\n" + "".join(
        f"{name.removeprefix('clips/')}\tsentence {i}\n" for i, name in enumerate(clips)
    )
    schema = (
        "dataset_id: tiny\ntask: ASR\nroot_strategy: index\nindex_file: train.tsv\nbase_audio_path: clips/\n"
        "columns:\n  audio_path: {source_column: path, dtype: file_path}\n  transcription: {source_column: sentence}\n"
    )
    return {
        "schema.yaml": schema.encode(),
        "train.tsv": index.encode(),
        **clips,
        "extra/notes.jsonl": b'{"id": 1, "note": "quiet room"}\n{"id": 2, "note": "street"}\n',
        "extra/features.parquet": parquet_bytes(),
        "README.md": b"# Tiny speech\n",
    }


def add_file(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def write_tar(path: Path, members: dict[str, bytes], *, gzip: bool = True) -> Path:
    with tarfile.open(path, "w:gz" if gzip else "w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in members.items():
            add_file(tar, name, data)
    return path


def write_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path
