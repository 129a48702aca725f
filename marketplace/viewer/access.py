"""Which tables of a published version a caller may read in the viewer, by the license.

Free public datasets: the archive's tables to everyone. Gated (restricted, approval) and paid ones:
the sample's tables to everyone who can see the dataset, the archive's only to those who may
download the version (``licensing.access.downloads.decide``, the one function that says so).
Private datasets stay unknown to outsiders (``visible_datasets``); a taken-down dataset or a
withdrawn version is gone for everyone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext as _

from config.refusals import Gone, NotReady
from licensing.access.downloads import Refusal, decide
from licensing.consent.withdrawals import gone_message, withdrawn_versions
from marketplace.catalog.search import kept
from marketplace.catalog.visibility import visible_datasets
from marketplace.models import Dataset, DatasetVersion, ParquetExport, Submission, User
from marketplace.publishing import takedown_sentence

NOT_READY_RETRY_SECONDS = 30


@dataclass(frozen=True)
class Viewable:
    dataset: Dataset
    version: DatasetVersion
    export: ParquetExport
    source: str  # "archive" or "sample"

    def splits(self) -> list[str]:
        return list(dict.fromkeys(table["split"] for table in self.export.tables))

    def tables_of(self, split: str) -> list[dict[str, Any]]:
        found = [table for table in self.export.tables if table["split"] == split]
        if not found:
            raise ObjectDoesNotExist(
                _("No split '%(split)s': this version has %(splits)s.")
                % {"split": split, "splits": ", ".join(self.splits()) or _("none")}
            )
        return found


@dataclass(frozen=True)
class _Published:
    """A published version as the viewer reads it: the version with its dataset, whether it is
    withdrawn, and its submission with the uploads' exports (None: no submission)."""

    version: DatasetVersion
    withdrawn: bool
    submission: Submission | None


def viewable(*, user: object, dataset_id: str, number: int, page_url: Callable[[Dataset], str]) -> Viewable:
    """Every rows, search and filter request asks this first. What it reads of a version that
    everyone may see is the same for every caller, so it is kept until the catalog changes
    (``_published_to_everyone``); a private dataset's is read for the caller, in two queries. Who
    may read which tables (``decide``) is decided on every request, for this caller."""
    published = _published_to_everyone(dataset_id, number)
    if published is None and isinstance(user, User) and user.is_authenticated:
        published = _published(user=user, dataset_id=dataset_id, number=number)
    if published is None:
        _explain_missing(user=user, dataset_id=dataset_id, number=number)
    version, submission = published.version, published.submission
    dataset = version.dataset
    if published.withdrawn:
        raise Gone(gone_message(version))
    verdict = decide(user=user, dataset=dataset, version=version, kind="archive", page_url=page_url(dataset))
    if verdict.refusal in (Refusal.TAKEN_DOWN, Refusal.WITHDRAWN):
        raise Gone(verdict.message)
    free_public = dataset.visibility == Dataset.Visibility.PUBLIC and not dataset.is_paid
    # Viewing a free public dataset's rows needs neither an account nor accepted terms.
    full = verdict.allowed or (free_public and verdict.refusal in (Refusal.SIGN_IN, Refusal.TERMS_NOT_ACCEPTED))
    archive, sample = (submission.archive_upload, submission.sample_upload) if submission else (None, None)
    upload, source = (archive, "archive") if full else (sample, "sample")
    if upload is None:
        if not full:
            meanwhile = _("Version %(number)s has no sample to show meanwhile.") % {"number": number}
            raise PermissionDenied(f"{verdict.message} {meanwhile}")
        raise ObjectDoesNotExist(
            _("Version %(number)s of %(name)s has no tables the viewer can show.")
            % {"number": number, "name": dataset.name}
        )
    try:
        export: ParquetExport | None = upload.parquet_export
    except ParquetExport.DoesNotExist:
        export = None
    if export is None or export.status == ParquetExport.Status.PENDING:
        raise NotReady(
            _("The tables of %(name)s version %(number)s are being converted; ask again in a moment.")
            % {"name": dataset.name, "number": number},
            retry_after=NOT_READY_RETRY_SECONDS,
        )
    if export.status == ParquetExport.Status.FAILED:
        raise ObjectDoesNotExist(
            _("The tables of version %(number)s could not be converted: %(error)s")
            % {"number": number, "error": export.error}
        )
    return Viewable(dataset=dataset, version=version, export=export, source=source)


def _published_to_everyone(dataset_id: str, number: int) -> _Published | None:
    """``_published`` for a visitor who is not signed in, kept for the catalog's generation
    (``catalog.search.kept``): a takedown, a change of visibility, a withdrawal, a re-release
    that found withdrawn records and a new or remade export all move it on once they commit. Who
    may see what everyone sees is anyone (``visible_datasets`` only adds to it for a signed-in
    member), so one reading serves every caller; None when not everyone may see it."""
    name = "viewer-published:" + hashlib.sha256(repr((dataset_id, number)).encode()).hexdigest()[:32]
    found = kept(
        name, lambda: _published(user=None, dataset_id=dataset_id, number=number) or NOT_PUBLISHED, keep=_settled
    )
    return None if found == NOT_PUBLISHED else found


def _settled(found: _Published | str) -> bool:
    """Whether a reading is worth keeping: not while an export of the version is being made or has
    failed (a passing state, read again until the export is ready)."""
    if not isinstance(found, _Published) or found.submission is None:
        return True
    for upload in (found.submission.archive_upload, found.submission.sample_upload):
        export = getattr(upload, "parquet_export", None) if upload is not None else None
        if export is not None and export.status != ParquetExport.Status.READY:
            return False
    return True


NOT_PUBLISHED = "not published to everyone"  # kept as an answer too: the cache cannot hold None


def _published(*, user: object, dataset_id: str, number: int) -> _Published | None:
    """The published version ``number`` of a dataset ``user`` may see (None: there is none), in
    two queries: the version with its dataset and whether it is withdrawn, then its submission's
    uploads with their exports."""
    version = (
        DatasetVersion.objects.select_related("dataset")
        .filter(dataset__in=visible_datasets(user=user), dataset_id=dataset_id, number=number)
        .filter(published_at__isnull=False)
        .annotate(withdrawn=Exists(withdrawn_versions(dataset_id).filter(id=OuterRef("id"))))
        .order_by()
        .first()
    )
    if version is None:
        return None
    submission = (
        Submission.objects.filter(version=version)
        .select_related("archive_upload__parquet_export", "sample_upload__parquet_export")
        .only(*UPLOAD_FIELDS)
        .order_by()
        .first()
    )
    return _Published(version=version, withdrawn=version.withdrawn, submission=submission)


UPLOAD_FIELDS = [
    f"{upload}__{field}"
    for upload in ("archive_upload", "sample_upload")
    for field in ("id", "parquet_export__id", "parquet_export__status", "parquet_export__tables",
                  "parquet_export__problems", "parquet_export__error")
]  # fmt: skip


def _explain_missing(*, user: object, dataset_id: str, number: int) -> NoReturn:
    """Raise what a caller who found no such published version should hear: the dataset was taken
    down, is unknown to them, or has no such version."""
    dataset = visible_datasets(user=user).filter(id=dataset_id).first()
    if dataset is None:
        removed = Dataset.objects.filter(id=dataset_id, status=Dataset.Status.REMOVED).first()
        if removed is not None and removed.visibility != Dataset.Visibility.PRIVATE:
            raise Gone(takedown_sentence(_("Dataset '%(slug)s'") % {"slug": removed.slug}, removed.removal_reason))
        raise ObjectDoesNotExist(_("No dataset with id '%(id)s'.") % {"id": dataset_id})
    raise ObjectDoesNotExist(
        _("%(name)s has no published version %(number)s.") % {"name": dataset.name, "number": number}
    )
