"""Validation of uploaded archives: uploaded through the official SDK to real storage, then
validated by the service the worker task runs (the worker itself: test_validation_worker.py)."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import tarfile
import zipfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import datacollective
import pytest
import requests
from datacollective.models import DatasetSubmission
from django.utils import timezone

from marketplace import storage
from marketplace.models import Submission, Upload, Validation
from marketplace.submissions import reports, validation
from marketplace.submissions.drafts import submission_problems
from tests.archive_builders import add_file, asr_members, wav_bytes, write_tar, write_zip
from tests.marketplace.submissions.conftest import SdkContributor

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def contributor(sdk_contributor: SdkContributor, live_server: Any) -> dict[str, str]:
    return {"key": sdk_contributor.key, "base": live_server.url}


@pytest.fixture
def upload_archive(contributor: dict[str, str], tmp_path: Path) -> Callable[..., Upload]:
    """Upload a file as a new submission's archive through the SDK, with the datasheet given."""

    def upload(path: Path, *, task: str = "ASR", format: str = "TSV, WAV") -> Upload:
        draft = datacollective.create_submission_draft(DatasetSubmission(name="Validation test"))
        submission_id = draft["submission"]["id"]
        Submission.objects.filter(id=submission_id).update(task=task, format=format)
        uploaded = path if path.name.endswith(".tar.gz") else path.rename(path.with_name(path.name + ".tar.gz"))
        state = datacollective.upload_dataset_file(str(uploaded), submission_id, show_progress=False)
        return Upload.objects.get(id=state.fileUploadId)

    return upload


def validate(upload: Upload) -> Validation:
    validation.run_validation(upload_id=upload.id)
    return Validation.objects.get(upload=upload)


def codes(found: Validation) -> dict[str, list[str]]:
    by_code: dict[str, list[str]] = {}
    for error in found.errors:
        by_code.setdefault(error["code"], []).append(error["path"])
    return by_code


def messages(found: Validation) -> str:
    return "\n".join(error["message"] for error in found.errors)


def test_a_tidy_archive_passes_is_published_and_reported(
    upload_archive: Callable[..., Upload], contributor: dict[str, str], tmp_path: Path
) -> None:
    # A member of a few MiB is hashed on the hashing thread (the small ones where they are parsed).
    long_lines = b"".join(
        b'{"id": %d, "text": "%s"}\n' % (number, os.urandom(24).hex().encode()) for number in range(40_000)
    )
    members = {**asr_members(), "extra/long.jsonl": long_lines}
    upload = upload_archive(write_tar(tmp_path / "tiny.tar.gz", members))
    quarantine_key = upload.object_key
    submission = upload.submission
    assert any("still being validated" in problem for problem in submission_problems(submission))
    assert reports.report_for(upload)["status"] == "pending"

    found = validate(upload)
    assert (found.status, found.errors, found.attempts) == ("passed", [], 1), found.errors
    assert found.warnings == []
    rows = {row["path"]: row for row in found.files}
    assert set(rows) == set(members)
    for name, data in members.items():
        assert (rows[name]["size"], rows[name]["sha256"]) == (len(data), hashlib.sha256(data).hexdigest())
    assert rows["clips/a.wav"]["type"] == "audio/wav" and rows["clips/b.mp3"]["type"] == "audio/mpeg"
    assert rows["clips/c.flac"]["type"] == "audio/flac" and rows["clips/d.ogg"]["type"] == "audio/ogg"
    assert rows["extra/features.parquet"]["type"] == "application/vnd.apache.parquet"
    assert rows["train.tsv"]["type"] == "text/tab-separated-values"
    # Tables are counted as they stream past: data rows (no header), JSON records, Parquet's num_rows.
    assert {path: row["rows"] for path, row in rows.items() if "rows" in row} == {
        "train.tsv": 4, "extra/notes.jsonl": 2, "extra/features.parquet": 3, "extra/long.jsonl": 40_000,
    }  # fmt: skip

    upload.refresh_from_db()
    assert upload.object_key == f"validated/{submission.id}/archive-{upload.id}.tar.gz"
    assert storage.head(quarantine_key) is None
    assert storage.sha256_of(upload.object_key) == (upload.sha256, upload.size_bytes)
    assert reports.has_passed(upload) and found.quarantine_key == ""
    assert not any("validat" in problem for problem in submission_problems(Submission.objects.get(id=submission.id)))

    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {contributor['key']}"
    report = session.get(f"{contributor['base']}/api/v1/submissions/{submission.id}/validation").json()
    assert report["status"] == "passed"
    assert report["archive"] == {"sha256": upload.sha256, "size": upload.size_bytes}
    schema = members["schema.yaml"]
    first = {"path": "schema.yaml", "size": len(schema), "sha256": hashlib.sha256(schema).hexdigest()}
    assert report["files"][0] == {**first, "type": "application/yaml"}
    index = next(row for row in report["files"] if row["path"] == "train.tsv")
    assert (index["rows"], index["columns"]) == (4, ["path", "sentence"])
    assert report["errors"] == [] and report["warnings"] == []
    detail = session.get(f"{contributor['base']}/api/v1/submissions/{submission.id}").json()
    assert detail["validation"]["status"] == "passed" and detail["validation"]["files"] == len(members)

    assert validation.run_validation(upload_id=upload.id) == "passed already"
    assert Validation.objects.get(upload=upload).attempts == 1


def test_unsafe_members_are_each_named_and_nothing_is_published(
    upload_archive: Callable[..., Upload], tmp_path: Path
) -> None:
    path = tmp_path / "unsafe.tar.gz"
    with tarfile.open(path, "w:gz", format=tarfile.GNU_FORMAT) as tar:
        add_file(tar, "clips/a.wav", wav_bytes())
        add_file(tar, "/etc/cron.d/evil", b"* * * * * root sh\n")
        add_file(tar, "clips/../../outside.txt", b"escape\n")
        add_file(tar, "./clips/a.wav", wav_bytes())  # the same path once normalised
        for name, kind in (("clips/link.wav", tarfile.SYMTYPE), ("clips/hard.wav", tarfile.LNKTYPE),
                           ("dev/null", tarfile.CHRTYPE), ("pipe", tarfile.FIFOTYPE)):  # fmt: skip
            info = tarfile.TarInfo(name)
            info.type, info.linkname = kind, "clips/a.wav" if kind in (tarfile.SYMTYPE, tarfile.LNKTYPE) else ""
            tar.addfile(info)
    upload = upload_archive(path, format="WAV")
    found = validate(upload)

    assert found.status == "failed"
    by_code = codes(found)
    assert sorted(by_code["unsafe_path"]) == ["/etc/cron.d/evil", "clips/../../outside.txt"]
    assert sorted(by_code["link"]) == ["clips/hard.wav", "clips/link.wav"]
    assert sorted(by_code["special_file"]) == ["dev/null", "pipe"]
    assert by_code["duplicate_path"] == ["clips/a.wav"]
    assert "absolute path" in messages(found) and "'..'" in messages(found)
    upload.refresh_from_db()
    assert upload.object_key.startswith("quarantine/") and storage.head(upload.object_key) is not None
    assert (
        storage.client().list_objects_v2(Bucket=storage.bucket(), Prefix=f"validated/{upload.submission_id}/")[
            "KeyCount"
        ]
        == 0
    )
    problems = submission_problems(upload.submission)
    assert any("failed validation with 7 error(s)" in problem and "/validation" in problem for problem in problems)


def test_limits_stop_reading_at_once(upload_archive: Callable[..., Upload], tmp_path: Path, settings: Any) -> None:
    settings.VALIDATION_MAX_ENTRIES = 3
    many = upload_archive(write_tar(tmp_path / "many.tar.gz", {f"f{i}.txt": b"x" for i in range(10)}), format="")
    found = validate(many)
    assert found.status == "failed" and list(codes(found)) == ["too_many_entries"]
    assert len(found.files) == 0 and "more than 3 entries" in messages(found)

    settings.VALIDATION_MAX_ENTRIES = 100
    settings.VALIDATION_MAX_UNCOMPRESSED_BYTES = 1024 * 1024
    big = upload_archive(write_tar(tmp_path / "big.tar.gz", {"a.txt": b"a", "b.bin": os.urandom(2 * 1024 * 1024)}))
    found = validate(big)
    assert list(codes(found)) == ["too_large"] and "more than 1048576 bytes" in messages(found)

    settings.VALIDATION_MAX_UNCOMPRESSED_BYTES = 10 * 1024**3
    bomb_path = tmp_path / "bomb.tar.gz"
    with tarfile.open(bomb_path, "w:gz") as tar:
        info = tarfile.TarInfo("zeros.bin")
        info.size = 512 * 1024 * 1024
        tar.addfile(info, io.BufferedReader(_Zeros(info.size)))  # type: ignore[arg-type]
    bomb = upload_archive(bomb_path, format="")
    assert bomb.size_bytes < 1024 * 1024
    found = validate(bomb)
    assert list(codes(found)) == ["compression_ratio"] and "possible zip bomb" in messages(found)
    assert found.files == []  # stopped inside the first member


class _Zeros(io.RawIOBase):
    def __init__(self, size: int) -> None:
        self.left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = min(len(buffer), self.left)
        buffer[:n] = b"\x00" * n
        self.left -= n
        return n


def test_truncated_corrupt_and_foreign_files_fail(upload_archive: Callable[..., Upload], tmp_path: Path) -> None:
    whole = write_tar(
        tmp_path / "whole.tar.gz", {"a.bin": os.urandom(300_000), "b.bin": os.urandom(300_000)}
    ).read_bytes()
    (tmp_path / "cut.tar.gz").write_bytes(whole[: len(whole) // 2])
    found = validate(upload_archive(tmp_path / "cut.tar.gz", format=""))
    assert list(codes(found)) == ["truncated"] and "truncated" in messages(found)

    broken = bytearray(whole)
    broken[len(broken) // 2 : len(broken) // 2 + 64] = os.urandom(64)
    (tmp_path / "broken.tar.gz").write_bytes(bytes(broken))
    found = validate(upload_archive(tmp_path / "broken.tar.gz", format=""))
    assert found.status == "failed" and set(codes(found)) <= {"corrupt", "truncated"}

    plain = write_tar(tmp_path / "plain.tar", {"a.txt": b"hello\n"}, gzip=False).read_bytes()
    (tmp_path / "no-end.tar.gz").write_bytes(gzip.compress(plain[:1024]))  # header + data, no end marker
    found = validate(upload_archive(tmp_path / "no-end.tar.gz", format=""))
    assert list(codes(found)) == ["truncated"] and "end-of-archive marker" in messages(found)

    (tmp_path / "random.tar.gz").write_bytes(os.urandom(5000))
    found = validate(upload_archive(tmp_path / "random.tar.gz", format=""))
    assert list(codes(found)) == ["not_an_archive"]


def test_content_problems_name_file_and_line(upload_archive: Callable[..., Upload], tmp_path: Path) -> None:
    members = asr_members()
    members["train.tsv"] += b"missing.wav\tno such clip\nb.mp3\ttoo\tmany\n"
    members["meta.csv"] = b"id,name\n1,a\n2,b,c\n3\n"
    members["latin1.csv"] = b"id,name\n1,caf\xe9\n"
    members["empty.tsv"] = b""
    members["extra/notes.jsonl"] += b"{not json}\n"
    members["clips/fake.wav"] = b"this is text, not audio\n"
    members["clips/bad.wav"] = b"RIFF\x24\x00\x00\x00WAVEdata\x00\x00\x00\x00"
    members["extra/features.parquet"] = members["extra/features.parquet"][:-20]
    upload = upload_archive(write_tar(tmp_path / "messy.tar.gz", members), format="TSV, WAV, FLAC, Parquet")
    found = validate(upload)
    assert found.status == "failed"
    by_path = {(error["path"], error["code"]): error["message"] for error in found.errors}
    assert "line 3 has 3 columns; the header has 2" in by_path[("meta.csv", "table_rows")]
    assert "line 4 has 1 column;" in by_path[("meta.csv", "table_rows")]
    assert "line 2 is not valid UTF-8" in by_path[("latin1.csv", "table_rows")]
    assert "needs a header row" in by_path[("empty.tsv", "table_header")]
    assert "line 7 has 3 columns" in by_path[("train.tsv", "table_rows")]
    assert "line 3 is not valid JSON" in by_path[("extra/notes.jsonl", "json_lines")]
    assert "named .wav but its bytes are not WAV" in by_path[("clips/fake.wav", "type_mismatch")]
    assert "no fmt chunk" in by_path[("clips/bad.wav", "audio_header")]
    assert "does not end with Parquet's PAR1 marker" in by_path[("extra/features.parquet", "parquet")]
    missing = by_path[("train.tsv", "index_missing_files")]
    assert "1 of 5 paths in column 'path'" in missing and "line 6: missing.wav" in missing


def test_schema_yaml_and_datasheet_are_checked_against_the_contents(
    upload_archive: Callable[..., Upload], tmp_path: Path
) -> None:
    members = {
        "schema.yaml": b"dataset_id: x\ntask: ASR\nroot_strategy: index\nindex_file: nowhere.tsv\n",
        "notes.txt": b"no audio here\n",
    }
    found = validate(upload_archive(write_tar(tmp_path / "a.tar.gz", members), task="ASR", format="JSONL"))
    text = messages(found)
    assert "index_file 'nowhere.tsv' is not in the archive" in text
    assert "format says JSON Lines, but the archive holds no JSON Lines file" in text
    assert "An ASR dataset needs audio files" in text

    members = asr_members()
    members["schema.yaml"] = members["schema.yaml"].replace(b"source_column: sentence", b"source_column: text")
    found = validate(upload_archive(write_tar(tmp_path / "b.tar.gz", members)))
    assert "maps column 'transcription' from 'text', but 'train.tsv' has no such column" in messages(found)

    members = asr_members()
    members["schema.yaml"] = (
        b"dataset_id: x\nroot_strategy: paired_glob\nfile_pattern: '**/*.txt'\naudio_extension: wav\n"
    )
    members["clips/a.txt"], members["clips/z.txt"] = b"hello\n", b"orphan\n"
    found = validate(upload_archive(write_tar(tmp_path / "c.tar.gz", members)))
    assert "1 file(s) have no .wav audio beside them, e.g. 'clips/z.txt'" in messages(found)


def test_zip_archives_are_read_with_ranged_gets(upload_archive: Callable[..., Upload], tmp_path: Path) -> None:
    members = asr_members()
    upload = upload_archive(write_zip(tmp_path / "tiny.zip", members))
    found = validate(upload)
    assert (found.status, found.archive_format, found.archive_sha256) == ("passed", "zip", upload.sha256)
    assert {row["path"]: row["sha256"] for row in found.files} == {
        name: hashlib.sha256(data).hexdigest() for name, data in members.items()
    }
    assert [warning["code"] for warning in found.warnings] == ["archive_format"]
    assert {row["path"]: row.get("rows") for row in found.files if row["path"].endswith((".tsv", ".jsonl"))} == {
        "train.tsv": 4, "extra/notes.jsonl": 2,
    }  # fmt: skip
    upload.refresh_from_db()
    assert upload.object_key.endswith(".zip") and storage.sha256_of(upload.object_key)[0] == upload.sha256

    path = tmp_path / "link.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("clips/a.wav", wav_bytes())
        link = zipfile.ZipInfo("clips/b.wav")
        link.external_attr = (0o120777 << 16) | 0x20
        archive.writestr(link, "a.wav")
        archive.writestr("secret.txt", b"...")
    # zipfile cannot write encrypted members: set the "encrypted" flag bit in both headers.
    data = bytearray(path.read_bytes())
    local = data.index(b"PK\x03\x04", data.index(b"secret.txt") - 30)
    data[local + 6] |= 0x1
    central = data.rindex(b"PK\x01\x02", 0, data.rindex(b"secret.txt"))
    data[central + 8] |= 0x1
    path.write_bytes(bytes(data))
    found = validate(upload_archive(path, format="WAV"))
    assert codes(found) == {"link": ["clips/b.wav"], "encrypted": ["secret.txt"]}


def test_the_sweeper_requeues_what_no_worker_finishes(upload_archive: Callable[..., Upload], tmp_path: Path) -> None:
    upload = upload_archive(write_tar(tmp_path / "tiny.tar.gz", asr_members()))
    # A worker died mid-run: the row says running, nobody holds its lock, nothing changed for a while.
    Validation.objects.filter(upload=upload).update(
        status="running", attempts=1, updated_at=timezone.now() - timedelta(minutes=20)
    )
    assert validation.requeue_stuck(older_than=timedelta(minutes=15)) == 1
    assert validation.requeue_stuck(older_than=timedelta(minutes=30)) == 0
    found = validate(upload)
    assert (found.status, found.attempts) == ("passed", 2)

    # A worker died after committing the pass but before deleting the quarantine copy.
    upload.refresh_from_db()
    storage.copy(upload.object_key, "quarantine/left-behind.tar.gz")
    Validation.objects.filter(upload=upload).update(quarantine_key="quarantine/left-behind.tar.gz")
    assert validation.requeue_stuck(older_than=timedelta(minutes=15)) == 1
    assert validation.run_validation(upload_id=upload.id) == "passed already"
    assert storage.head("quarantine/left-behind.tar.gz") is None
    assert Validation.objects.get(upload=upload).quarantine_key == ""
    assert validation.requeue_stuck(older_than=timedelta(minutes=15)) == 0


@pytest.mark.parametrize("tar_format", [tarfile.PAX_FORMAT, tarfile.GNU_FORMAT, tarfile.USTAR_FORMAT])
def test_tar_headers_of_every_common_format_are_read(
    upload_archive: Callable[..., Upload], tmp_path: Path, tar_format: int
) -> None:
    deep = "/".join(["folder"] * 12) + "/clip.wav"  # over 100 characters: a prefix field or long name
    members = {"clips/a.wav": wav_bytes(), deep: wav_bytes(), "notes/übersicht-ñandú.txt": "grüße\n".encode()}
    if tar_format == tarfile.USTAR_FORMAT:
        members.pop("notes/übersicht-ñandú.txt")  # ustar names are ASCII
    path = tmp_path / "formats.tar.gz"
    extra = (
        {"pax_headers": {"comment": "a global header, as git archive writes"}}
        if tar_format == tarfile.PAX_FORMAT
        else {}
    )
    with tarfile.open(path, "w:gz", format=tar_format, **extra) as tar:  # type: ignore[call-overload]
        folder = tarfile.TarInfo("clips")
        folder.type = tarfile.DIRTYPE
        tar.addfile(folder)
        for name, data in members.items():
            add_file(tar, name, data)
    found = validate(upload_archive(path, format="WAV", task=""))
    assert (found.status, found.errors) == ("passed", [])
    assert {row["path"]: row["sha256"] for row in found.files} == {
        name: hashlib.sha256(data).hexdigest() for name, data in members.items()
    }


def test_a_damaged_header_or_name_midway_is_reported(upload_archive: Callable[..., Upload], tmp_path: Path) -> None:
    plain = bytearray(write_tar(tmp_path / "ok.tar", {"a.txt": b"a" * 700, "b.txt": b"b"}, gzip=False).read_bytes())
    second = 512 + 1024  # the header after a.txt's header and its two data blocks
    assert plain[second : second + 5] == b"b.txt"
    plain[second + 150] ^= 0x01  # inside the checksum field
    (tmp_path / "damaged.tar.gz").write_bytes(gzip.compress(bytes(plain)))
    found = validate(upload_archive(tmp_path / "damaged.tar.gz", format=""))
    assert codes(found) == {"corrupt": [""]} and f"header at byte {second} is damaged" in messages(found)

    path = tmp_path / "latin1.tar.gz"
    with tarfile.open(path, "w:gz", format=tarfile.GNU_FORMAT, encoding="latin-1") as tar:
        add_file(tar, "caf\xe9.txt", b"bytes of a name that is not UTF-8\n")
    found = validate(upload_archive(path, format=""))
    assert found.status == "failed" and "is not valid UTF-8" in messages(found)
