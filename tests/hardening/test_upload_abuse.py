"""The upload abuse corpus (issue 10): hostile archives and hostile upload protocol calls, each
sent the way a contributor sends it (the official SDK, or the HTTP calls it makes) to real storage
and validated the way production does (the Celery task; once in a real worker process).

Each must be refused with a message that names the problem, and leave nothing behind: no object
under the published prefix, no dataset version, a submission that can be neither submitted nor
approved, and the upload where the design puts it (a failed archive, a wrong checksum included,
stays in quarantine for the contributor to replace).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tarfile
import threading
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import datacollective
import pytest
import requests
from datacollective.models import DatasetSubmission
from django.conf import settings as django_settings
from django.test import Client

from marketplace import storage
from marketplace.models import DatasetVersion, Membership, Submission, Upload, User, Validation
from marketplace.organizations.services import approve_organization
from marketplace.tasks import validate_upload
from tests.conftest import wait_until
from tests.factories import organization, verified_user
from tests.hardening import abuse_corpus as corpus
from tests.hardening.abuse_corpus import Entry, GiB, MiB
from tests.second_factor import pass_second_factor

pytestmark = pytest.mark.django_db(transaction=True)
PUBLISHED = "validated/"  # marketplace.submissions.validation.validated_key: what passes is copied here


@dataclass(frozen=True)
class Expect:
    """One error the report must hold: its code, the member path it names, a piece of its message."""

    code: str
    path: str
    says: str


@dataclass(frozen=True)
class Abuse:
    name: str
    build: Callable[[Path], Path]
    errors: tuple[Expect, ...]
    # Limits must trip where they are crossed, not after reading everything: the message says so.
    stops_early: bool = False


def _writes(filename: str, write: Callable[..., Path], *args: Any, **kwargs: Any) -> Callable[[Path], Path]:
    """A case's builder: ``write(folder / filename, *args, **kwargs)``."""
    return lambda folder: write(folder / filename, *args, **kwargs)


def _entries_case(name: str, kind: str, entries: list[Entry], *errors: Expect) -> Abuse:
    return Abuse(
        f"{name}-{kind}",
        lambda folder: corpus.write_archive(
            folder / f"{name}.{kind}", kind, [Entry("data/ok.txt", b"fine\n"), *entries]
        ),
        errors,
    )


def _member_cases() -> Iterator[Abuse]:
    for kind in corpus.KINDS:
        yield _entries_case(
            "traversal", kind, [Entry("../../etc/cron.d/evil", b"* * * * * root sh\n"), Entry("data/../../up.txt")],
            Expect("unsafe_path", "../../etc/cron.d/evil", "contains '..', which would place it outside"),
            Expect("unsafe_path", "data/../../up.txt", "contains '..'"),
        )  # fmt: skip
        yield _entries_case(
            "absolute", kind, [Entry("/etc/passwd", b"root::0:0::/:/bin/sh\n"), Entry("C:/Windows/evil.dll")],
            Expect("unsafe_path", "/etc/passwd", "'/etc/passwd' is an absolute path"),
            Expect("unsafe_path", "C:/Windows/evil.dll", "'C:/Windows/evil.dll' is an absolute path"),
        )  # fmt: skip
        yield _entries_case(
            "symlink-outside", kind, [Entry("data/escape", type=tarfile.SYMTYPE, linkname="../../../etc/shadow")],
            Expect("link", "data/escape", "'data/escape' is a link"),
        )  # fmt: skip
        if kind != "zip":  # zip has neither extended tar headers nor hard links
            yield Abuse(
                f"extended-name-traversal-{kind}",
                _writes(f"extended.{kind}", corpus.write_extended_name_traversal, kind),
                tuple(
                    Expect("unsafe_path", path, f"'{path}' contains '..'")
                    for path in (corpus.LONG_TRAVERSAL, corpus.PAX_TRAVERSAL)
                ),
            )
        if kind != "zip":
            yield _entries_case(
                "hardlink-outside", kind, [Entry("data/hard", type=tarfile.LNKTYPE, linkname="/etc/shadow")],
                Expect("link", "data/hard", "'data/hard' is a link"),
            )  # fmt: skip
        yield _entries_case(
            "special-files",
            kind,
            [
                Entry("dev/tty", type=tarfile.CHRTYPE),
                Entry("dev/sda", type=tarfile.BLKTYPE),
                Entry("data/pipe", type=tarfile.FIFOTYPE),
            ],
            *(
                Expect("special_file", path, f"'{path}' is a device, FIFO or other special file")
                for path in ("dev/tty", "dev/sda", "data/pipe")
            ),
        )


def _whole_archive_cases() -> Iterator[Abuse]:
    for kind in corpus.KINDS:
        # One over the documented VALIDATION_MAX_ENTRIES (100,000): real, at the default limit.
        yield Abuse(
            f"100k-entries-{kind}",
            _writes(f"many.{kind}", corpus.write_many_entries, kind, 100_001),
            (Expect("too_many_entries", "", "The archive has more than 100000 entries"),),
            stops_early=True,
        )
    yield Abuse(
        "ratio-bomb-tar.gz",
        _writes("bomb.tar.gz", corpus.write_gzip_bomb, member_size=8 * GiB),
        (Expect("compression_ratio", "", "expands more than 100 times"),),
        stops_early=True,
    )
    for kind in ("tar", "tar.gz"):
        yield Abuse(
            f"declared-size-bomb-{kind}",
            _writes(f"huge.{kind}", corpus.write_declared_size_bomb, kind, declared=300 * GiB),
            (Expect("too_large", "", f"members add up to more than {200 * GiB} bytes"),),
            stops_early=True,
        )
    yield Abuse(
        "ratio-bomb-zip",
        _writes("bomb.zip", corpus.write_zip_ratio_bomb, member_size=3 * GiB),
        (Expect("compression_ratio", "data/zeros.bin", "'data/zeros.bin' expands more than 100 times"),),
        stops_early=True,
    )
    # Whole-archive ratio: many members each too small to be judged alone, and Fifield's
    # overlapping members, which unpack one shared kernel once per member.
    yield Abuse(
        "many-small-bombs-zip",
        _writes("small.zip", corpus.write_zip_many_small_bombs, members=200, member_size=16 * MiB),
        (Expect("compression_ratio", "", "expands more than 100 times"),),
        stops_early=True,
    )
    yield Abuse(
        "overlap-bomb-zip",
        _writes("overlap.zip", corpus.write_zip_overlap_bomb, members=200, kernel_size=20 * MiB),
        (Expect("compression_ratio", "", "expands more than 100 times"),),
        stops_early=True,
    )
    truncated = {
        "tar": Expect("truncated", "", "A member ends early: the archive is truncated"),
        "tar.gz": Expect("truncated", "", "The gzip stream ends before its end marker"),
        "zip": Expect("corrupt", "", "The zip archive is corrupt or truncated"),
    }
    for kind in corpus.KINDS:
        yield Abuse(f"truncated-{kind}", _writes(f"cut.{kind}", corpus.write_truncated, kind), (truncated[kind],))
    for kind in ("tar", "tar.gz"):
        yield Abuse(
            f"bad-header-checksum-{kind}",
            _writes(f"bad.{kind}", corpus.write_bad_header_checksum, kind),
            (Expect("corrupt", "", "The tar header at byte 1536 is damaged (bad checksum)"),),
        )
        yield Abuse(
            f"bad-first-header-{kind}",
            _writes(f"first.{kind}", corpus.write_bad_first_header, kind),
            (Expect("corrupt", "", "The tar header at byte 0 is damaged (bad checksum)"),),
        )
    yield Abuse(
        "gzip-of-one-file-tar.gz",
        _writes("table.csv.gz", corpus.write_gzip_of_one_file),
        (Expect("not_an_archive", "", "gzip-compressed, but what it holds is not a tar archive"),),
    )
    yield Abuse(
        "bad-crc-zip",
        _writes("crc.zip", corpus.write_zip_bad_crc),
        (Expect("corrupt", "data/b.txt", "'data/b.txt' cannot be read: Bad CRC-32"),),
    )


ARCHIVE_CASES = [*_member_cases(), *_whole_archive_cases()]


@pytest.fixture
def people(live_server: Any, monkeypatch: pytest.MonkeyPatch, bearer) -> Iterator[dict[str, Any]]:  # type: ignore[no-untyped-def]
    """A contributor (the SDK is pointed at the live server with their key) and a reviewer, both
    without passwords (hashing one costs a second here, and nobody signs in with it)."""
    org = approve_organization(organization=organization("speech-co"))
    contributor, key = bearer("upload", "read", user=verified_user("contributor", email="c@example.org"))
    Membership.objects.create(organization=org, user=contributor, role="member")
    reviewer = User.objects.create_user("reviewer", "r@example.org")
    Membership.objects.create(organization=org, user=reviewer, role="reviewer")
    monkeypatch.setenv("MDC_API_URL", f"{live_server.url}/api")
    monkeypatch.setenv("MDC_API_KEY", key)
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {key}"
    with api:
        yield {"api": api, "base": live_server.url, "reviewer": reviewer, "contributor": contributor}
    # Each kept-alive connection holds a live-server thread (Django's ThreadedWSGIServer runs one
    # per connection) and its database session, which ends only once the thread sees the
    # connection close: wait for them, or a session outlives the test database.
    wait_until(lambda: not _live_server_request_threads(), timeout=30)


def _live_server_request_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name.endswith("(process_request_thread)")]


def published_keys() -> set[str]:
    pages = storage.client().get_paginator("list_objects_v2").paginate(Bucket=storage.bucket(), Prefix=PUBLISHED)
    return {item["Key"] for page in pages for item in page.get("Contents", [])}


def sdk_refusal(call: Callable[[], object]) -> str:
    """The message of the HTTPError the SDK raises. Not pytest.raises: its ExceptionInfo and the
    frame form a cycle that keeps the response, its socket and the live server's thread (with a
    database session) alive until the garbage collector runs, past the test database's teardown."""
    try:
        call()
    except requests.HTTPError as exc:
        return str(exc)
    raise AssertionError("the SDK call was not refused")


def upload_with_sdk(archive: Path) -> Upload:
    """A new draft and its archive, through the SDK as a contributor uploads it (named .tar.gz:
    E11 takes no other name; validation reads what the bytes are)."""
    named = archive.with_name(archive.name.replace(".", "-") + ".tar.gz")
    shutil.move(archive, named)
    draft = datacollective.create_submission_draft(DatasetSubmission(name=f"Abuse {archive.name}"))
    state = datacollective.upload_dataset_file(str(named), draft["submission"]["id"], show_progress=False)
    return Upload.objects.get(id=state.fileUploadId)


def assert_refused_and_nothing_published(
    people: dict[str, Any], upload: Upload, expected: tuple[Expect, ...], published_before: set[str]
) -> Validation:
    """The checks every archive of the corpus must pass once validation has run."""
    found = Validation.objects.get(upload=upload)
    assert found.status == "failed", found.errors
    assert {(error["code"], error["path"]) for error in found.errors} == {(e.code, e.path) for e in expected}
    for want in expected:
        messages = [
            error["message"] for error in found.errors if (error["code"], error["path"]) == (want.code, want.path)
        ]
        assert any(want.says in message for message in messages), (want, messages)
    assert found.files == [] or all(row["path"] not in {e.path for e in expected} for row in found.files)

    submission_id = upload.submission_id
    report = people["api"].get(f"{people['base']}/api/v1/submissions/{submission_id}/validation")
    assert report.status_code == 200
    # the API answers each finding as {path, code, message}; the row also keeps its untranslated template
    shown = [{key: error[key] for key in ("path", "code", "message")} for error in found.errors]
    assert (report.json()["status"], report.json()["errors"]) == ("failed", shown)

    refused = sdk_refusal(
        lambda: datacollective.submit_submission(submission_id, DatasetSubmission(agreeToSubmit=True))
    )
    assert refused.startswith("400") and "the uploaded archive failed validation with" in refused
    assert found.errors[0]["message"][:60] in refused

    # A reviewer cannot approve it either, even once it sits in the queue (set directly: it
    # cannot get there through the API, as the refusal above shows).
    versions_before = DatasetVersion.objects.count()
    Submission.objects.filter(id=submission_id).update(status="submitted", submitted_at=upload.created_at)
    reviewer = Client()
    pass_second_factor(reviewer, people["reviewer"])  # deciding asks the reviewer's authenticator app
    answer = reviewer.post(f"/review/{submission_id}/", {"decision": "approve"})
    assert answer.status_code == 400
    assert b"It cannot be approved" in answer.content and b"failed validation" in answer.content
    submission = Submission.objects.get(id=submission_id)
    assert (submission.status, submission.version_id, submission.dataset_id) == ("submitted", None, None)
    assert DatasetVersion.objects.count() == versions_before

    # Nothing reached the published prefix; the archive waits in quarantine, untouched, for the
    # contributor to replace it (it goes when the submission is deleted).
    assert published_keys() == published_before
    upload.refresh_from_db()
    assert upload.status == "completed" and upload.object_key.startswith(f"quarantine/{submission_id}/")
    stored = storage.head(upload.object_key)
    assert stored is not None and stored["ContentLength"] == upload.size_bytes
    assert found.quarantine_key == ""
    return found


@pytest.mark.parametrize("abuse", ARCHIVE_CASES, ids=[case.name for case in ARCHIVE_CASES])
def test_hostile_archive_is_refused_and_nothing_is_published(
    abuse: Abuse, people: dict[str, Any], tmp_path: Path
) -> None:
    published_before = published_keys()
    upload = upload_with_sdk(abuse.build(tmp_path))
    outcome = validate_upload.apply(args=(upload.id,)).get()  # the task body, as a worker runs it
    assert outcome.startswith("failed with"), outcome
    found = assert_refused_and_nothing_published(people, upload, abuse.errors, published_before)
    if abuse.stops_early:
        assert_stopped_early(found, upload)
    assert validate_upload.apply(args=(upload.id,)).get() == "failed already"
    assert Validation.objects.get(upload=upload).attempts == found.attempts == 1

    datacollective.delete_submission(upload.submission_id)  # the contributor gives up: the quarantine copy goes
    assert storage.head(upload.object_key) is None
    assert published_keys() == published_before


def assert_stopped_early(found: Validation, upload: Upload) -> None:
    """A limit says that reading stopped there, or that nothing was unpacked (a zip's directory
    declares the sizes); the gzip ratio says how many of the archive's bytes it had read, which
    must be a small part of them."""
    message = found.errors[0]["message"]
    read = re.search(r"\((\d+) bytes from (\d+)\)", message)
    if read:
        assert int(read[2]) < upload.size_bytes / 4, (message, upload.size_bytes)
    else:
        assert "reading stopped" in message or "before unpacking" in message, message


def test_the_entry_limit_admits_exactly_its_number(people: dict[str, Any], tmp_path: Path, settings: Any) -> None:
    """VALIDATION_MAX_ENTRIES is the most entries an archive may hold (README): at the limit the
    archive passes and is published; one more is refused, in every format."""
    settings.VALIDATION_MAX_ENTRIES = 3
    for kind in corpus.KINDS:
        at_limit = upload_with_sdk(corpus.write_archive(tmp_path / f"three.{kind}", kind, corpus.tidy_entries()))
        assert validate_upload.apply(args=(at_limit.id,)).get().startswith("passed"), kind
        over = [*corpus.tidy_entries(), Entry("data/c.txt", b"c\n")]
        upload = upload_with_sdk(corpus.write_archive(tmp_path / f"four.{kind}", kind, over))
        validate_upload.apply(args=(upload.id,)).get()
        found = Validation.objects.get(upload=upload)
        assert [(error["code"], error["message"]) for error in found.errors] == [
            ("too_many_entries", "The archive has more than 3 entries, this instance's limit; reading stopped.")
        ], kind


@pytest.mark.slow
def test_a_real_worker_refuses_a_bomb_the_same_way(
    people: dict[str, Any], celery_worker_process: subprocess.Popen[bytes], tmp_path: Path
) -> None:
    """Completing the upload queues the validation after commit; a worker process on the broker
    picks it up, stops at the ratio limit and publishes nothing."""
    bomb = next(case for case in ARCHIVE_CASES if case.name == "ratio-bomb-tar.gz")
    published_before = published_keys()
    upload = upload_with_sdk(bomb.build(tmp_path))
    finished = wait_until(
        lambda: Validation.objects.filter(upload=upload, status__in=["passed", "failed"]).exists(), timeout=120
    )
    assert finished, Validation.objects.filter(upload=upload).values("status", "attempts", "last_error").first()
    found = assert_refused_and_nothing_published(people, upload, bomb.errors, published_before)
    assert_stopped_early(found, upload)
    assert found.attempts == 1


def test_the_corpus_bombs_are_well_formed_archives(tmp_path: Path) -> None:
    """At a small scale, the bombs extract with the standard library, CRCs and all: validation
    must refuse them for what they expand to, not for being broken."""
    with tarfile.open(corpus.write_gzip_bomb(tmp_path / "bomb.tar.gz", member_size=3 * MiB + 5)) as tar:
        member = tar.next()
        assert member is not None and (member.name, member.size) == ("data/zeros.bin", 3 * MiB + 5)
        extracted = tar.extractfile(member)
        assert extracted is not None and extracted.read() == bytes(3 * MiB + 5)
    with zipfile.ZipFile(corpus.write_zip_ratio_bomb(tmp_path / "one.zip", member_size=5 * MiB + 3)) as archive:
        assert archive.testzip() is None and archive.read("data/zeros.bin") == bytes(5 * MiB + 3)
    small = corpus.write_zip_many_small_bombs(tmp_path / "small.zip", members=3, member_size=2 * MiB)
    with zipfile.ZipFile(small) as archive:
        assert archive.testzip() is None and [info.file_size for info in archive.infolist()] == [2 * MiB] * 3
    overlap = corpus.write_zip_overlap_bomb(tmp_path / "overlap.zip", members=4, kernel_size=2 * MiB)
    with zipfile.ZipFile(overlap) as archive:
        assert archive.testzip() is None
        infos = archive.infolist()
        assert all(info.file_size < 100 * info.compress_size for info in infos)  # each under the member limit
        assert sum(info.file_size for info in infos) > 300 * overlap.stat().st_size  # the whole far over it
    with tarfile.open(corpus.write_many_entries(tmp_path / "many.tar.gz", "tar.gz", 1000)) as tar:
        assert [info.name for info in tar][-1] == "f/000999"
    with zipfile.ZipFile(corpus.write_many_entries(tmp_path / "many.zip", "zip", 70_000)) as archive:
        assert len(archive.infolist()) == 70_000  # past 65,535: the ZIP64 end records


# --- the upload protocol (E11-E14), as the SDK calls it ----------------------------------------


@dataclass
class OpenUpload:
    """A started upload whose parts are in storage, not yet completed."""

    file_upload_id: str
    upload_id: str
    parts: list[dict[str, Any]]
    data: bytes

    def body(self) -> dict[str, Any]:
        return {"uploadId": self.upload_id, "parts": [dict(part) for part in self.parts],
                "checksum": hashlib.sha256(self.data).hexdigest()}  # fmt: skip


def open_upload(people: dict[str, Any], *, part_sizes: tuple[int, ...] = (5 * MiB, MiB)) -> OpenUpload:
    """E7, E11, then E12 and E13 for each part, as the SDK sends them."""
    api, base = people["api"], f"{people['base']}/api"
    data = os.urandom(sum(part_sizes))
    draft = api.post(f"{base}/submissions", json={"name": "Protocol abuse"}).json()["submission"]["id"]
    declared = {"submissionId": draft, "filename": "x.tar.gz", "fileSize": len(data), "mimeType": "application/gzip"}
    started = api.post(f"{base}/uploads", json=declared).json()
    parts, offset = [], 0
    for number, size in enumerate(part_sizes, start=1):
        url = api.get(f"{base}/uploads/{started['fileUploadId']}/parts/{number}").json()["url"]
        put = requests.put(url, data=data[offset : offset + size], timeout=60)
        assert put.status_code == 200, put.text
        parts.append({"partNumber": number, "etag": put.headers["ETag"].strip('"')})
        offset += size
    return OpenUpload(started["fileUploadId"], started["uploadId"], parts, data)


def _forge(part: dict[str, Any]) -> None:
    part["etag"] = hashlib.md5(b"forged", usedforsecurity=False).hexdigest()


@dataclass(frozen=True)
class BadCompletion:
    name: str
    change: Callable[[dict[str, Any]], object]
    says: str
    part_sizes: tuple[int, ...] = (5 * MiB, MiB)
    status: int = 400


BAD_COMPLETIONS = [
    BadCompletion("parts-out-of-order", lambda body: body["parts"].reverse(), "part 2 is listed where part 1 belongs"),
    BadCompletion("forged-etag", lambda body: _forge(body["parts"][0]), "part 1 has ETag "),
    BadCompletion(
        "swapped-etags",
        lambda body: body.update(
            parts=[
                {"partNumber": 1, "etag": body["parts"][1]["etag"]},
                {"partNumber": 2, "etag": body["parts"][0]["etag"]},
            ]
        ),  # fmt: skip
        "part 2 has ETag ",
    ),
    BadCompletion(
        "duplicate-part-numbers",
        lambda body: body["parts"].insert(1, dict(body["parts"][0])),
        "part 1 is listed twice",
    ),
    BadCompletion(
        "part-number-beyond-10000",
        lambda body: body["parts"].append({"partNumber": 10_001, "etag": "0" * 32}),
        "part 10001 is outside 1 to 10000",
    ),
    BadCompletion(
        "part-number-zero",
        lambda body: body["parts"].insert(0, {"partNumber": 0, "etag": "0" * 32}),
        "part 0 is outside 1 to 10000",
    ),
    BadCompletion(
        "more-than-10000-parts",
        lambda body: body.update(parts=[{"partNumber": n, "etag": "0" * 32} for n in range(1, 10_002)]),
        "lists 10001 parts; at most 10000 are allowed",
    ),
    BadCompletion(
        "part-list-over-the-body-limit",  # about 10 MB of JSON: refused before it is parsed
        lambda body: body.update(parts=[{"partNumber": n, "etag": "0" * 32} for n in range(1, 200_001)]),
        f"The request body is over {django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes, this site's limit.",
    ),
    BadCompletion(
        "part-never-uploaded",
        lambda body: body["parts"].append({"partNumber": 3, "etag": "0" * 32}),
        "part 3 was never uploaded",
    ),
    BadCompletion("part-left-out", lambda body: body["parts"].pop(), f"the parts hold {5 * MiB} bytes, but the upload"),
    BadCompletion(
        "part-number-as-text",
        lambda body: body["parts"][0].update(partNumber="1"),
        "each part needs an integer partNumber and a non-empty etag",
    ),
    BadCompletion(
        "part-under-5-mib",
        lambda body: None,
        "part 1 has 1048576 bytes; every part but the last needs at least 5 MiB",
        part_sizes=(MiB, MiB),
    ),
]


@pytest.mark.parametrize("bad", BAD_COMPLETIONS, ids=[case.name for case in BAD_COMPLETIONS])
def test_a_bad_completion_is_refused_and_changes_nothing(bad: BadCompletion, people: dict[str, Any]) -> None:
    """E14 names what is wrong, joins nothing, and leaves the upload as it was: the client can
    still complete it correctly."""
    published_before = published_keys()
    upload = open_upload(people, part_sizes=bad.part_sizes)
    body = upload.body()
    bad.change(body)
    refused = people["api"].post(f"{people['base']}/api/uploads/{upload.file_upload_id}", json=body)
    assert refused.status_code == bad.status, refused.text
    assert bad.says in refused.json()["message"], refused.json()["message"]

    stored = Upload.objects.get(id=upload.file_upload_id)
    assert stored.status == "uploading" and stored.sha256 == ""
    assert storage.head(stored.object_key) is None  # no object was joined from the parts
    assert not Validation.objects.filter(upload=stored).exists()
    assert Submission.objects.get(id=stored.submission_id).archive_upload_id is None
    assert published_keys() == published_before
    refusal = sdk_refusal(
        lambda: datacollective.submit_submission(stored.submission_id, DatasetSubmission(agreeToSubmit=True))
    )
    assert "no archive upload has completed" in refusal
    listed = people["api"].get(f"{people['base']}/api/v1/uploads/{upload.file_upload_id}/parts").json()
    assert [(part["partNumber"], part["etag"]) for part in listed["parts"]] == [
        (part["partNumber"], part["etag"]) for part in upload.parts
    ]
    if bad.part_sizes == (5 * MiB, MiB):  # the parts were fine: the right list still completes
        done = people["api"].post(f"{people['base']}/api/uploads/{upload.file_upload_id}", json=upload.body())
        assert done.status_code == 200 and done.json()["status"] == "completed", done.text
    else:  # the parts themselves are wrong: the client gives up and the parts are freed
        assert people["api"].delete(f"{people['base']}/api/v1/uploads/{upload.file_upload_id}").status_code == 204
        unfinished = storage.client().list_multipart_uploads(Bucket=storage.bucket(), Prefix=stored.object_key)
        assert unfinished.get("Uploads", []) == []


def test_a_wrong_checksum_is_refused_by_validation_and_the_sdk_says_why(
    people: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The SDK declares the SHA-256 of the file as it reads it; resuming an interrupted upload of a
    file changed since (same name and size) declares the new file's SHA-256 over the old file's
    parts. The completion (E14) answers at once, reading nothing back; until the worker has read
    the archive it cannot be submitted, and the worker's read, which hashes every byte, fails it:
    the SDK's submit says which SHA-256 is in storage and which was declared, and nothing is
    published."""
    published_before = published_keys()
    archive = corpus.write_archive(tmp_path / "tidy.tar.gz", "tar.gz", corpus.tidy_entries())
    stored = archive.read_bytes()
    draft = datacollective.create_submission_draft(DatasetSubmission(name="Changed before resuming"))
    submission_id = draft["submission"]["id"]

    complete = datacollective.upload._complete_upload

    def connection_lost(*args: object, **kwargs: object) -> None:
        raise requests.ConnectionError("the connection was lost before the completion")

    monkeypatch.setattr(datacollective.upload, "_complete_upload", connection_lost)
    try:
        datacollective.upload_dataset_file(str(archive), submission_id, show_progress=False)
    except requests.ConnectionError:
        pass
    else:
        raise AssertionError("the interrupted upload completed")
    monkeypatch.setattr(datacollective.upload, "_complete_upload", complete)
    changed = stored[:-1] + bytes([stored[-1] ^ 0xFF])  # the same size, another SHA-256
    archive.write_bytes(changed)
    state = datacollective.upload_dataset_file(str(archive), submission_id, show_progress=False)

    size, actual, declared = len(stored), hashlib.sha256(stored).hexdigest(), hashlib.sha256(changed).hexdigest()
    upload = Upload.objects.get(id=state.fileUploadId)
    assert (upload.status, upload.sha256, upload.size_bytes) == ("completed", declared, size)
    assert storage.sha256_of(upload.object_key) == (actual, size)
    submit = lambda: datacollective.submit_submission(submission_id, DatasetSubmission(agreeToSubmit=True))  # noqa: E731
    assert "the uploaded archive is still being validated" in sdk_refusal(submit)

    assert validate_upload.apply(args=(upload.id,)).get() == "failed with 1 error(s)"
    says = (
        f"The archive in storage has SHA-256 {actual} and {size} bytes; the upload declared {declared} and {size} "
        "bytes. Upload the file again."
    )
    assert says in sdk_refusal(submit)
    assert_refused_and_nothing_published(people, upload, (Expect("archive_checksum", "", says),), published_before)


def test_part_numbers_and_sizes_outside_the_limits_are_refused_at_the_start(people: dict[str, Any]) -> None:
    """E11 refuses a file over the instance's limit; E12 signs no part outside 1 to 10,000 (S3's
    limits: parts of 5 MiB to 5 GiB, at most 10,000 of them)."""
    api, base = people["api"], f"{people['base']}/api"
    draft = api.post(f"{base}/submissions", json={"name": "Limits"}).json()["submission"]["id"]
    declared = {"submissionId": draft, "filename": "x.tar.gz", "mimeType": "application/gzip"}
    too_big = api.post(f"{base}/uploads", json={**declared, "fileSize": 50 * GiB + 1})
    assert too_big.status_code == 400
    assert (
        f"fileSize: {50 * GiB + 1} bytes is over this instance's limit of {50 * GiB} bytes" in too_big.json()["message"]
    )
    assert not Upload.objects.filter(submission_id=draft).exists()

    started = api.post(f"{base}/uploads", json={**declared, "fileSize": 6 * MiB}).json()
    for number in (0, 10_001):
        refused = api.get(f"{base}/uploads/{started['fileUploadId']}/parts/{number}")
        assert refused.status_code == 400
        assert f"partNumber must be between 1 and 10000, not {number}" in refused.json()["message"]
    assert api.get(f"{base}/uploads/{started['fileUploadId']}/parts/10000").status_code == 200
