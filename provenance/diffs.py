"""What changed between two published versions of a dataset, read from their signed manifests.

Reads only. Each side's file list (path, size, SHA-256) comes from its manifest after the signature
and digest are checked (``manifests.verified_statement``), so a diff never reports a file list
that was altered in the database. Files are matched by path: only in the new version, added; only
in the old one, removed; in both with other bytes, changed. The direction is the caller's: the
diff of version 3 against version 1 lists as added what version 3 dropped.

Row counts are not signed (the manifest lists path, size and SHA-256): they come from the
validation that read every byte of each version's archive, and are given only for the exact bytes
the manifest names (same path and SHA-256). Versions without such a report (imports, archives
validated before tables were counted) and files that are not tables have ``rows`` None.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from marketplace.models import DatasetVersion, Submission, Validation
from provenance import manifests

# Raised when a side's manifest cannot be read (kept here too: callers catch diffs.ManifestMissing).
ManifestMissing = manifests.ManifestMissing
ManifestInvalid = manifests.ManifestInvalid


@dataclass(frozen=True)
class FileState:
    size: int
    sha256: str
    rows: int | None  # data rows of a table (CSV, TSV, JSON Lines, Parquet), from the validation


@dataclass(frozen=True)
class FileChange:
    path: str
    old: FileState | None  # None: added
    new: FileState | None  # None: removed


@dataclass(frozen=True)
class Side:
    """One version of the comparison, named by what its manifest signs."""

    number: int
    archive_sha256: str
    manifest_sha256: str
    files: int


@dataclass(frozen=True)
class VersionDiff:
    dataset_id: str
    old: Side
    new: Side
    added: list[FileChange]
    removed: list[FileChange]
    changed: list[FileChange]
    unchanged: int


def diff(old: DatasetVersion, new: DatasetVersion) -> VersionDiff:
    """The files added, removed and changed from ``old`` to ``new`` (two versions of one dataset,
    either order). Raises ``ValidationError`` for the same version twice or versions of two
    datasets, ``ManifestMissing`` and ``ManifestInvalid`` when a side's manifest cannot be read."""
    if old.dataset_id != new.dataset_id:
        raise ValidationError(_("The two versions belong to different datasets."))
    if old.number == new.number:
        raise ValidationError(
            _("Compare two different versions: both are version %(number)s.") % {"number": old.number}
        )
    signed = {version.number: _signed_files(version) for version in (old, new)}
    rows = _row_counts([old, new])
    before = _states(signed[old.number][1], rows.get(old.number, {}))
    after = _states(signed[new.number][1], rows.get(new.number, {}))
    changes = [FileChange(path, before.get(path), after.get(path)) for path in sorted(before.keys() | after.keys())]
    return VersionDiff(
        dataset_id=old.dataset_id,
        old=signed[old.number][0],
        new=signed[new.number][0],
        added=[change for change in changes if change.old is None],
        removed=[change for change in changes if change.new is None],
        changed=[change for change in changes if change.old and change.new and _differ(change.old, change.new)],
        unchanged=sum(1 for change in changes if change.old and change.new and not _differ(change.old, change.new)),
    )


def _differ(old: FileState, new: FileState) -> bool:
    return (old.sha256, old.size) != (new.sha256, new.size)


def _signed_files(version: DatasetVersion) -> tuple[Side, list[dict[str, Any]]]:
    signed = manifests.signed_files(version)
    side = Side(version.number, version.sha256, signed.manifest.statement_sha256, len(signed.files))
    return side, signed.files


def _row_counts(versions: list[DatasetVersion]) -> dict[int, dict[tuple[str, str], int]]:
    """Per version number, the rows of each table its passed validation counted, by (path, SHA-256)."""
    numbers = {version.pk: version.number for version in versions}
    submissions = Submission.objects.filter(
        version_id__in=numbers, archive_upload__validation__status=Validation.Status.PASSED
    ).select_related("archive_upload__validation")
    counts: dict[int, dict[tuple[str, str], int]] = {}
    for submission in submissions:
        upload = submission.archive_upload
        if upload is None or submission.version_id is None:  # excluded by the filter; for the type checker
            continue
        counts[numbers[submission.version_id]] = {
            (row["path"], row["sha256"]): row["rows"]
            for row in upload.validation.files
            if isinstance(row.get("rows"), int)
        }
    return counts


def _states(files: list[dict[str, Any]], rows: dict[tuple[str, str], int]) -> dict[str, FileState]:
    return {
        row["path"]: FileState(size=row["size"], sha256=row["sha256"], rows=rows.get((row["path"], row["sha256"])))
        for row in files
    }
