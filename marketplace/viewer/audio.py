"""Audio files a viewer page may play: a cell that names an audio member of the archive (an index's
``path`` column, ``clips/x.wav``), resolved as validation resolves index paths, gets a short-lived
presigned GET of that member's stored copy.

Members are stored content-addressed after publishing (``provenance.members``), for the files the
version's signed manifest lists. The archive's rows play the members of that manifest. The sample's
rows play the sample's files whose bytes are stored: its validation recorded their SHA-256, and a
sample clip cut from the archive has the bytes (so the key) of an archive member. Sample files
found nowhere else are not stored, and their cells stay text.
"""

from __future__ import annotations

from posixpath import basename, dirname
from typing import Any

from marketplace import storage
from marketplace.inspection.contents import resolve_index_path
from marketplace.models import Validation
from marketplace.viewer.access import Viewable
from marketplace.viewer.exports import version_uploads
from provenance import members
from provenance.models import VersionMembers

AUDIO_SUFFIXES = (".wav", ".mp3", ".flac", ".ogg", ".oga", ".opus", ".m4a", ".webm")
AUDIO_LINK_SECONDS = 300


def _stored_archive_files(viewable: Viewable) -> dict[str, str]:
    """Path -> SHA-256 of the version's signed files, once they are all stored; empty before."""
    ready = VersionMembers.objects.filter(version=viewable.version, status=VersionMembers.Status.READY).exists()
    if not ready:
        return {}
    try:
        signed = members.signed_files(viewable.version)
    except members.ArchiveMismatch:
        return {}
    return {path: sha256 for path, (_, sha256) in signed.items()}


def _playable_files(viewable: Viewable) -> dict[str, str]:
    """Path -> SHA-256 of the files whose stored bytes the caller's rows may play."""
    archive_files = _stored_archive_files(viewable)
    if viewable.source == "archive":
        return archive_files
    _, sample = version_uploads(viewable.version)
    files = (
        Validation.objects.filter(upload=sample, status=Validation.Status.PASSED)
        .values_list("files", flat=True)
        .first()
    ) or []
    stored = set(archive_files.values())
    return {row["path"]: row["sha256"] for row in files if row.get("sha256") in stored}


def audio_links(viewable: Viewable, split: str, rows: list[dict[str, Any]]) -> dict[tuple[int, str], str]:
    """(row_idx, column) -> a presigned GET of the audio member the cell names, for the cells of
    ``rows`` (a page the caller may see) that name one."""
    wanted = [
        (row["row_idx"], column, value)
        for row in rows
        for column, value in row["row"].items()
        if isinstance(value, str) and value.lower().endswith(AUDIO_SUFFIXES)
    ]
    if not wanted:
        return {}
    files = _playable_files(viewable)
    folders = list(dict.fromkeys(dirname(table["path"]) for table in viewable.tables_of(split)))
    links = {}
    for row_idx, column, value in wanted:
        path = next(
            (found for folder in folders if (found := resolve_index_path(value, folder=folder, bases=[], paths=files))),
            None,
        )
        if path is not None:
            links[(row_idx, column)] = storage.presigned_get(
                members.member_key(files[path]), filename=basename(path), expires_in=AUDIO_LINK_SECONDS
            )
    return links
