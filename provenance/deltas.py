"""Delta downloads: a signed list of the files that changed from one version to another, and a
short-lived link to each file to fetch, so that a pipeline holding version N updates to N+1
without fetching the whole archive.

The list comes from ``provenance.diffs`` (the two signed manifests, checked). It is signed with the
instance key in a DSSE envelope of its own payload type, so that the offline verifier
(``provenance.verify``) can check both the list and the files fetched with it. The links are not in
the envelope: they expire, the list does not. Each file to fetch is stored under its SHA-256
(``provenance.members``) once the version's files are stored; until then the delta is refused
with ``NotReady`` (the API's 409 with Retry-After), never served half.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from posixpath import basename
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext

from config.refusals import Conflict, NotReady
from marketplace import storage
from marketplace.models import Dataset, DatasetVersion
from provenance import diffs, dsse, members, signing
from provenance.models import VersionMembers

DELTA_PAYLOAD_TYPE = "application/vnd.datacollective.delta+json"
DELTA_TYPE = "https://datacollective.example/provenance/delta/v1"
RETRY_SECONDS = 30


@dataclass(frozen=True)
class Delta:
    statement: dict[str, Any]  # the signed payload, as JSON
    envelope: dict[str, Any]
    to_fetch: dict[str, str]  # sha256 -> a path of the new version with those bytes


def _side(side: diffs.Side) -> dict[str, Any]:
    return {"version": side.number, "archiveSha256": side.archive_sha256, "manifestSha256": side.manifest_sha256}


def _file(path: str, state: diffs.FileState) -> dict[str, Any]:
    return {"path": path, "size": state.size, "sha256": state.sha256}


def statement_of(dataset: Dataset, result: diffs.VersionDiff, *, issued_at: datetime) -> dict[str, Any]:
    """What the envelope signs: the dataset, both versions as their manifests name them, and the
    files added, changed (old and new bytes) and removed. Row counts are left out: they are not
    signed in the manifests either."""
    return {
        "_type": DELTA_TYPE,
        "dataset": {"id": dataset.id, "slug": dataset.slug, "name": dataset.name},
        "from": _side(result.old),
        "to": _side(result.new),
        "added": [_file(change.path, change.new) for change in result.added if change.new],
        "changed": [
            {
                "path": change.path,
                "old": {"size": change.old.size, "sha256": change.old.sha256},
                "new": {"size": change.new.size, "sha256": change.new.sha256},
            }
            for change in result.changed
            if change.old and change.new
        ],  # fmt: skip
        "removed": [_file(change.path, change.old) for change in result.removed if change.old],
        "unchanged": result.unchanged,
        "issuedAt": issued_at.isoformat(),
    }


def require_members(version: DatasetVersion) -> None:
    """Raise unless the files of ``version`` are stored one by one. A version published before
    the files were stored gets its job queued now."""
    row = VersionMembers.objects.filter(version=version).first()
    if row is not None and row.status == VersionMembers.Status.READY:
        return
    if row is not None and row.status == VersionMembers.Status.FAILED:
        raise Conflict(
            gettext(
                "The files of version %(number)s cannot be served one by one (%(error)s) Download"
                " the whole archive of version %(number)s instead."
            )
            % {"number": version.number, "error": row.error}
        )
    if row is None:  # published before files were stored one by one: store them now
        members.schedule(version)
    raise NotReady(
        gettext(
            "The files of version %(number)s are still being prepared for delta downloads; "
            "retry in %(retry_seconds)s seconds."
        )
        % {"number": version.number, "retry_seconds": RETRY_SECONDS},
        retry_after=RETRY_SECONDS,
    )


def build(*, dataset: Dataset, old: DatasetVersion, new: DatasetVersion) -> Delta:
    """The signed delta from ``old`` to ``new``. Raises ``NotReady`` or ``Conflict`` when files
    are to be fetched and the files of ``new`` are not stored one by one; and what
    ``diffs.diff`` raises."""
    result = diffs.diff(old, new)
    to_fetch = {change.new.sha256: change.path for change in result.added + result.changed if change.new}
    if to_fetch:
        require_members(new)
    statement = statement_of(dataset, result, issued_at=timezone.now())
    envelope, _ = signing.sign(DELTA_PAYLOAD_TYPE, dsse.canonical_json(statement))
    return Delta(statement, envelope, to_fetch)


def links(delta: Delta) -> tuple[dict[str, str], datetime]:
    """A presigned GET per file to fetch, keyed by its SHA-256 (the file's base name signed in as
    its Content-Disposition), and when they stop working."""
    seconds = settings.DOWNLOAD_URL_SECONDS
    expires_at = timezone.now() + timedelta(seconds=seconds)
    urls = {
        sha256: storage.presigned_get(members.member_key(sha256), filename=basename(path), expires_in=seconds)
        for sha256, path in delta.to_fetch.items()
    }
    return urls, expires_at
