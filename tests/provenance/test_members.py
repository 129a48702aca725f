"""A published version's files stored one by one under their SHA-256 (provenance/members.py): by a
real worker after publishing, once per distinct file across versions and datasets, checked against
the signed manifest, and safe to run again."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import pytest

from marketplace import storage
from marketplace.models import DatasetVersion
from provenance import members
from provenance.models import VersionMembers
from tests.archive_builders import wav_bytes, write_tar
from tests.conftest import wait_until
from tests.provenance.conftest import Published

pytestmark = pytest.mark.django_db(transaction=True)  # a live server for the SDK's upload


def _stored(data: bytes) -> bytes | None:
    key = members.member_key(hashlib.sha256(data).hexdigest())
    if storage.head(key) is None:
        return None
    return bytes(storage.open_stream(key).read())


def _row(version: DatasetVersion) -> VersionMembers:
    return VersionMembers.objects.get(version=version)


def test_each_file_is_stored_under_its_sha256_once_across_versions(publish_real: Any) -> None:
    shared, token = wav_bytes(frames=321), hashlib.sha256(str(id(publish_real)).encode()).hexdigest()
    first: Published = publish_real(
        "Hill Speech", members={"clips/a.wav": shared, "train.tsv": f"path\tsentence\na.wav\t{token}\n".encode(),
                                "README.md": f"# Hill {token}\n".encode()},
    )  # fmt: skip
    # Published, with no worker running: pending, nothing stored yet.
    assert _row(first.version).status == VersionMembers.Status.PENDING
    assert _stored(first.members["README.md"]) is None

    assert members.store_members(version_id=first.version.id).startswith("ready")
    row = _row(first.version)
    assert (row.status, row.files, row.ready_at is not None) == (VersionMembers.Status.READY, 3, True)
    for data in first.members.values():
        assert _stored(data) == data
    assert members.store_members(version_id=first.version.id) == "skipped: ready"

    # Another dataset sharing the clip and the index: only its own README is stored.
    second: Published = publish_real(
        "Dale Speech", members={**first.members, "README.md": f"# Dale {token}\n".encode()}
    )
    members.store_members(version_id=second.version.id)
    row = _row(second.version)
    assert (row.status, row.files, row.stored, row.reused) == (VersionMembers.Status.READY, 3, 1, 2)
    assert _stored(second.members["README.md"]) == second.members["README.md"]


def test_an_archive_that_does_not_match_its_manifest_is_recorded_as_failed(publish_real: Any) -> None:
    published: Published = publish_real("Marsh Speech")
    version = published.version
    # The stored archive is replaced behind the manifest's back (same paths, other bytes).
    other = write_tar(published.archive.with_suffix(".other.tar.gz"),
                      {**published.members, "README.md": b"# not what was signed\n"})  # fmt: skip
    with other.open("rb") as handle:
        storage.put_stream(version.archive_key, handle)

    outcome = members.store_members(version_id=version.id)

    row = _row(version)
    assert row.status == VersionMembers.Status.FAILED and outcome.startswith("failed")
    assert "README.md" in row.error
    assert _stored(b"# not what was signed\n") is None  # never stored under any address


def test_a_real_worker_stores_the_files_after_publishing(publish_real: Any, celery_worker_process: Any) -> None:
    published: Published = publish_real(
        "Fen Speech",
        members={
            "README.md": b"# Fen, stored by a worker\n",
            "clips/f.wav": wav_bytes(frames=777),
            "train.tsv": b"path\tsentence\nf.wav\tfen\n",
        },
    )
    assert wait_until(lambda: _row(published.version).status == VersionMembers.Status.READY, timeout=60)
    assert _stored(b"# Fen, stored by a worker\n") == b"# Fen, stored by a worker\n"


def test_the_sweeper_queues_versions_without_a_row_and_gives_up_after_the_attempts(publish_real: Any) -> None:
    published: Published = publish_real("Moor Speech")
    version = published.version
    VersionMembers.objects.filter(version=version).delete()  # as if published before the job existed
    assert members.requeue_pending(older_than=timedelta(minutes=5)) >= 1
    assert _row(version).status == VersionMembers.Status.PENDING

    VersionMembers.objects.filter(version=version).update(attempts=members.MAX_ATTEMPTS)
    members.requeue_pending(older_than=timedelta(seconds=-1))
    row = _row(version)
    assert row.status == VersionMembers.Status.FAILED and "attempts" in row.error
