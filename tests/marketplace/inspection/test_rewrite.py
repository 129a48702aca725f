"""The archive rewriter behind a consent withdrawal (marketplace/inspection/rewrite.py), on real
objects in the embedded S3 store: .tar.gz, .tar and .zip sources, members and index rows dropped,
kept bytes and metadata exact, and failures that leave no object behind."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import tarfile
import uuid
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Literal

import pytest

from marketplace import storage
from marketplace.inspection.rewrite import RewriteFailed, Withdrawn, rewrite_archive
from tests.archive_builders import wav_bytes

LONG_FOLDER = "speakers/" + "a-very-long-speaker-folder-name-" * 4  # past ustar's 100-character name field

TSV = (
    b"record_id\tpath\tsentence\n"
    b"r1\ta.wav\tone\n"
    b'r2\tb.wav\ttwo "quoted" word\r\n'  # withdrawn through its clip, named after the last "/"
    b"r3\tc.wav\tthree\n"  # withdrawn by record id
    b"\n"
    b"r4\td.wav\tfour, with a trailing space \r\n"
)
TSV_KEPT = b"record_id\tpath\tsentence\nr1\ta.wav\tone\n\nr4\td.wav\tfour, with a trailing space \r\n"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def stored() -> Iterator[Callable[[Path], str]]:
    """Put a file into the embedded store under a fresh key; remove what the test left at the end."""
    keys: list[str] = []

    def put(path: Path) -> str:
        key = f"tests/rewrite/{uuid.uuid4().hex}/{path.name}"
        with path.open("rb") as stream:
            storage.put_stream(key, stream)
        keys.append(key)
        return key

    yield put
    for key in keys:
        storage.delete(key)


@pytest.fixture
def target() -> Iterator[str]:
    key = f"tests/rewrite/{uuid.uuid4().hex}/new.tar.gz"
    yield key
    storage.delete(key)


def add(tar: tarfile.TarFile, name: str, data: bytes | None, *, mode: int = 0o644, mtime: int = 1_700_000_000) -> None:
    info = tarfile.TarInfo(name)
    info.mode, info.mtime, info.uname, info.gname, info.uid = mode, mtime, "speaker", "corpus", 1234
    if data is None:
        info.type = tarfile.DIRTYPE
        tar.addfile(info)
    else:
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))


def speech_members() -> dict[str, bytes | None]:
    return {
        "clips": None,
        "clips/a.wav": wav_bytes(100),
        "clips/b.wav": wav_bytes(200),
        "clips/c.wav": wav_bytes(300),
        "clips/d.wav": wav_bytes(400),
        f"{LONG_FOLDER}/e.wav": wav_bytes(500),
        "train.tsv": TSV,
        "README.md": b"# Speech\n",
    }


def write(path: Path, members: dict[str, bytes | None], *, mode: Literal["w", "w:gz"]) -> Path:
    with tarfile.open(path, mode, format=tarfile.PAX_FORMAT) as tar:
        for number, (name, data) in enumerate(members.items()):
            add(tar, name, data, mode=0o640 + number % 2, mtime=1_700_000_000 + number)
    return path


def fetch(key: str) -> bytes:
    return bytes(storage.client().get_object(Bucket=storage.bucket(), Key=key)["Body"].read())


def opened(key: str) -> tuple[tarfile.TarFile, dict[str, bytes]]:
    data = fetch(key)
    assert data[:2] == b"\x1f\x8b"
    tar = tarfile.open(fileobj=io.BytesIO(data), mode="r:gz")
    contents = {member.name: tar.extractfile(member).read() for member in tar.getmembers() if member.isfile()}
    return tar, contents


def test_a_tar_gz_loses_the_withdrawn_clips_and_their_rows_and_keeps_everything_else_exactly(
    tmp_path: Path, stored: Callable[[Path], str], target: str
) -> None:
    members = speech_members()
    source = stored(write(tmp_path / "speech.tar.gz", members, mode="w:gz"))
    withdrawn = Withdrawn(paths=frozenset({"clips/b.wav"}), records=frozenset({"r3"}), record_id_column="record_id")
    expected = {name: sha(data) for name, data in members.items() if data is not None}

    result = rewrite_archive(source, target, withdrawn=withdrawn, expected=expected)

    assert storage.sha256_of(target) == (result.sha256, result.size_bytes)
    tar, contents = opened(target)
    kept = [name for name in members if name != "clips/b.wav"]
    assert [member.name for member in tar.getmembers()] == kept
    assert contents["train.tsv"] == TSV_KEPT
    assert contents[f"{LONG_FOLDER}/e.wav"] == members[f"{LONG_FOLDER}/e.wav"]
    assert result.files == [
        {"path": name, "size": len(contents[name]), "sha256": sha(contents[name])}
        for name in kept
        if members[name] is not None
    ]
    assert result.removed_files == [{"path": "clips/b.wav", "size": len(members["clips/b.wav"] or b""),
                                     "sha256": sha(members["clips/b.wav"] or b"")}]  # fmt: skip
    assert result.removed_rows == {"train.tsv": 2}
    with tarfile.open(tmp_path / "speech.tar.gz") as original:
        before = {member.name: member for member in original.getmembers()}
    for member in tar.getmembers():  # the rewritten index's header too, though its size changed
        was = before[member.name]
        assert (member.mode, member.mtime, member.type, member.uname, member.gname, member.uid) == (
            was.mode, was.mtime, was.type, was.uname, was.gname, was.uid,
        )  # fmt: skip


def test_csv_and_json_lines_rows_go_by_id_and_by_the_path_relative_to_their_folder_from_a_plain_tar(
    tmp_path: Path, stored: Callable[[Path], str], target: str
) -> None:
    csv_rows = (
        b"id,file,text\r\n"
        b'1,clips/x.wav,"a line\r\nthat goes on, ""quoted"""\r\n'
        b'2,clips/y.wav,"withdrawn, with\na line break"\r\n'  # named relative to speech/
        b"3,clips/z.wav,plain\r\n"
        b'"4",other.wav,withdrawn by id\r\n'
    )
    jsonl = (
        b'{"id": 1, "audio": "speech/clips/x.wav"}\n'
        b'{"id": 2, "audio": "speech/clips/y.wav"}\n'  # named by its full path
        b'{"audio": "speech/clips/z.wav", "id": 3,   "note": "spacing kept"}\n'
        b'{"id": 5, "audio": "elsewhere.wav"}'  # no line break at the end
    )
    no_id_column = b"file\tnote\nclips/y.wav\tthis file has no id column: copied as it is\n"
    members: dict[str, bytes | None] = {
        "speech/clips/x.wav": wav_bytes(10),
        "speech/clips/y.wav": wav_bytes(20),
        "speech/clips/z.wav": wav_bytes(30),
        "speech/index.csv": csv_rows,
        "speech/meta.jsonl": jsonl,
        "speech/notes.tsv": no_id_column,
    }
    source = stored(write(tmp_path / "speech.tar", members, mode="w"))
    withdrawn = Withdrawn(paths=frozenset({"speech/clips/y.wav"}), records=frozenset({"4", "5"}), record_id_column="id")

    result = rewrite_archive(source, target, withdrawn=withdrawn)

    _, contents = opened(target)
    assert contents["speech/index.csv"] == (
        b'id,file,text\r\n1,clips/x.wav,"a line\r\nthat goes on, ""quoted"""\r\n3,clips/z.wav,plain\r\n'
    )
    assert contents["speech/meta.jsonl"] == (
        b'{"id": 1, "audio": "speech/clips/x.wav"}\n'
        b'{"audio": "speech/clips/z.wav", "id": 3,   "note": "spacing kept"}\n'
    )
    assert contents["speech/notes.tsv"] == no_id_column
    assert "speech/clips/y.wav" not in contents
    assert result.removed_rows == {"speech/index.csv": 2, "speech/meta.jsonl": 2}
    assert {row["path"]: row["sha256"] for row in result.files} == {name: sha(data) for name, data in contents.items()}


def test_a_zip_is_read_through_ranged_gets_and_becomes_a_tar_gz_with_its_names_modes_and_times(
    tmp_path: Path, stored: Callable[[Path], str], target: str
) -> None:
    path = tmp_path / "speech.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        folder = zipfile.ZipInfo("clips/", date_time=(2024, 5, 6, 7, 8, 10))
        folder.external_attr = (0o40750 << 16) | 0x10
        archive.writestr(folder, b"")
        for name, data in (("clips/a.wav", wav_bytes(50)), ("clips/b.wav", wav_bytes(60)), ("train.tsv", TSV)):
            info = zipfile.ZipInfo(name, date_time=(2024, 5, 6, 7, 8, 12))
            info.external_attr = 0o100600 << 16
            archive.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
    source = stored(path)
    withdrawn = Withdrawn(paths=frozenset({"clips/b.wav"}), records=frozenset({"r3"}), record_id_column="record_id")

    result = rewrite_archive(source, target, withdrawn=withdrawn)

    tar, contents = opened(target)
    by_name = {member.name: member for member in tar.getmembers()}
    assert list(by_name) == ["clips", "clips/a.wav", "train.tsv"]
    assert by_name["clips"].isdir() and by_name["clips"].mode == 0o750
    assert by_name["clips/a.wav"].mode == 0o600 and by_name["clips/a.wav"].mtime == 1714979292  # 2024-05-06 07:08:12
    assert contents == {"clips/a.wav": wav_bytes(50), "train.tsv": TSV_KEPT}
    assert [row["path"] for row in result.removed_files] == ["clips/b.wav"]
    assert result.removed_rows == {"train.tsv": 2}


def test_a_member_that_differs_from_the_signed_manifest_stops_the_rewrite_and_no_object_is_left(
    tmp_path: Path, stored: Callable[[Path], str], target: str
) -> None:
    # 24 MiB of noise first, so that parts of the new archive are already uploaded when it stops.
    members: dict[str, bytes | None] = {"clips/noise.wav": os.urandom(24 * 1024 * 1024), "clips/a.wav": wav_bytes(10)}
    source = stored(write(tmp_path / "speech.tar.gz", members, mode="w:gz"))
    expected = {"clips/noise.wav": sha(members["clips/noise.wav"] or b""), "clips/a.wav": sha(b"something else")}
    withdrawn = Withdrawn(paths=frozenset(), records=frozenset(), record_id_column="")

    with pytest.raises(RewriteFailed) as failed:
        rewrite_archive(source, target, withdrawn=withdrawn, expected=expected)

    assert "'clips/a.wav'" in failed.value.message and sha(b"something else") in failed.value.message
    assert storage.head(target) is None
    uploads = storage.client().list_multipart_uploads(Bucket=storage.bucket(), Prefix=target).get("Uploads", [])
    assert uploads == []


def test_a_member_of_the_signed_manifest_missing_from_the_archive_stops_the_rewrite(
    tmp_path: Path, stored: Callable[[Path], str], target: str
) -> None:
    members: dict[str, bytes | None] = {"clips/a.wav": wav_bytes(10)}
    source = stored(write(tmp_path / "speech.tar", members, mode="w"))
    expected = {"clips/a.wav": sha(wav_bytes(10)), "clips/gone.wav": sha(b"")}

    with pytest.raises(RewriteFailed, match="'clips/gone.wav'.*not in the archive"):
        rewrite_archive(source, target, withdrawn=Withdrawn(frozenset(), frozenset(), ""), expected=expected)

    assert storage.head(target) is None


def test_an_index_row_that_cannot_be_read_stops_the_rewrite_rather_than_keep_a_withdrawn_record(
    tmp_path: Path, stored: Callable[[Path], str], target: str
) -> None:
    members: dict[str, bytes | None] = {"meta.jsonl": b'{"id": "r1"}\n{"id": "r2", truncated\n'}
    source = stored(write(tmp_path / "speech.tar.gz", members, mode="w:gz"))

    with pytest.raises(RewriteFailed, match="line 2 of 'meta.jsonl'"):
        rewrite_archive(source, target, withdrawn=Withdrawn(frozenset(), frozenset({"r2"}), "id"))

    assert storage.head(target) is None


def test_a_gzip_of_several_members_and_a_truncated_one(
    tmp_path: Path, stored: Callable[[Path], str], target: str
) -> None:
    tar_bytes = write(tmp_path / "speech.tar", {"a.txt": b"a" * 5000, "b.txt": b"b" * 7000}, mode="w").read_bytes()
    (tmp_path / "two.tar.gz").write_bytes(gzip.compress(tar_bytes[:4096]) + gzip.compress(tar_bytes[4096:]))
    (tmp_path / "cut.tar.gz").write_bytes(gzip.compress(tar_bytes)[:-40])
    nothing = Withdrawn(frozenset(), frozenset(), "")

    result = rewrite_archive(stored(tmp_path / "two.tar.gz"), target, withdrawn=nothing)
    assert [(row["path"], row["size"]) for row in result.files] == [("a.txt", 5000), ("b.txt", 7000)]
    storage.delete(target)

    with pytest.raises(RewriteFailed, match="truncated"):
        rewrite_archive(stored(tmp_path / "cut.tar.gz"), target, withdrawn=nothing)
    assert storage.head(target) is None


def test_rows_go_by_the_contributor_column_when_a_contributor_withdrew_everything(
    tmp_path: Path, stored: Callable[[Path], str], target: str
) -> None:
    """A text dataset: no file per record, no record-id column. Every row whose contributor-id
    column holds a withdrawn contributor goes, in CSV, TSV and JSON Lines; files without that
    column are copied as they are."""
    members: dict[str, bytes | None] = {
        "notes.csv": b'speaker,text\r\nc-1,bore da\r\n"c-2","nos da, ""cariad"""\r\nc-3,diolch\r\n',
        "notes.tsv": b"text\tspeaker\nhwyl\tc-2\nsut mae\tc-1\n",
        "notes.jsonl": b'{"speaker": "c-2", "text": "iawn"}\n{"speaker": "c-1", "text": "da"}\n{"speaker": 2}\n',
        "other.tsv": b"text\nc-2\n",  # no speaker column: a value equal to an id is no reason to drop
    }
    source = stored(write(tmp_path / "notes.tar.gz", members, mode="w:gz"))
    withdrawn = Withdrawn(
        paths=frozenset(),
        records=frozenset({"c-2"}),
        record_id_column="",
        contributors=frozenset({"c-2"}),
        contributor_id_column="speaker",
    )

    result = rewrite_archive(source, target, withdrawn=withdrawn)

    _, contents = opened(target)
    assert contents["notes.csv"] == b"speaker,text\r\nc-1,bore da\r\nc-3,diolch\r\n"
    assert contents["notes.tsv"] == b"text\tspeaker\nsut mae\tc-1\n"
    assert contents["notes.jsonl"] == b'{"speaker": "c-1", "text": "da"}\n{"speaker": 2}\n'
    assert contents["other.tsv"] == members["other.tsv"]
    assert result.removed_rows == {"notes.csv": 1, "notes.tsv": 1, "notes.jsonl": 1}
    assert result.removed_files == []
