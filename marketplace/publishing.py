"""Publishing: a dataset's record, its immutable versions, and taking it down.

A version is published once a reviewer approves a submission (``marketplace.submissions.review``) or
an operator imports one; its signed manifest and transparency-log entry commit in the same
transaction (``provenance.manifests``).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from licensing.models import License
from marketplace.catalog.search import forget_facets
from marketplace.models import Dataset, DatasetVersion, Notification, Organization, Submission, User
from marketplace.notifications.services import notify_licensees
from provenance import members
from provenance.events import dataset_taken_down
from provenance.manifests import record_publication


@transaction.atomic
def create_dataset(*, organization: Organization, slug: str, name: str, **fields: Any) -> Dataset:
    if Dataset.objects.filter(slug=slug).exists():
        raise ValidationError({"slug": _("The address '%(slug)s' is taken by another dataset.") % {"slug": slug}})
    dataset = Dataset(organization=organization, slug=slug, name=name, **fields)
    dataset.full_clean()
    dataset.save()
    return dataset


def version_filename(*, dataset: Dataset, number: int) -> str:
    """A name unique to the version: the SDK skips a download when the file already exists."""
    return f"{dataset.slug}-v{number}.tar.gz"


@transaction.atomic
def publish_version(
    *,
    dataset: Dataset,
    archive_key: str,
    size_bytes: int,
    sha256: str,
    license: License,
    sample_key: str = "",
    sample_size_bytes: int | None = None,
    submission: Submission | None = None,
    changelog: str = "",
) -> DatasetVersion:
    """Append a published, immutable version and make it the dataset's current one. ``submission``
    is the approved submission it comes from (none for an import); its signed manifest names it.
    ``changelog`` says what changed from the previous version (written now: the row is immutable)."""
    locked = Dataset.objects.select_for_update().get(id=dataset.id)
    if locked.status == Dataset.Status.REMOVED:
        raise ValidationError(_("A removed dataset cannot get new versions."))
    number = (locked.versions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    now = timezone.now()
    version = DatasetVersion.objects.create(
        dataset=locked,
        number=number,
        archive_key=archive_key,
        filename=version_filename(dataset=locked, number=number),
        size_bytes=size_bytes,
        sha256=sha256,
        license=license,
        license_text_sha256=license.text_sha256,
        sample_key=sample_key,
        sample_filename=f"{locked.slug}-v{number}-sample.tar.gz" if sample_key else "",
        sample_size_bytes=sample_size_bytes if sample_key else None,
        changelog=changelog.strip(),
        published_at=now,
    )
    Dataset.objects.filter(id=locked.id).update(
        status=Dataset.Status.PUBLISHED,
        published_at=locked.published_at or now,
        updated_at=now,
        license=license,
        current_version=version,
        size_bytes=size_bytes,
        has_sample=bool(sample_key),
    )
    transaction.on_commit(forget_facets)
    record_publication(version=version, submission=submission)  # signed manifest and log entry commit with it
    members.schedule(version)  # its files, content-addressed for delta downloads, once this commits
    dataset.refresh_from_db()
    return version


def takedown_sentence(subject: str, reason: str) -> str:
    """What every answer about a taken-down dataset says: ``subject`` names it (its name, or
    "Dataset 'slug'"), then the reason staff gave (its page shows the same reason)."""
    if reason:
        return _("%(subject)s was taken down: %(reason)s") % {"subject": subject, "reason": reason}
    return _("%(subject)s was taken down.") % {"subject": subject}


@transaction.atomic
def takedown_dataset(*, dataset: Dataset, reason: str, by: User) -> Dataset:
    """Staff remove a published dataset (a legal claim, a consent problem): it leaves the catalog,
    its page and every download answer 410 with the reason, and the public transparency log gets a
    takedown entry in the same transaction (its payload holds the id and status only, never the
    reason, which may name people). Versions and manifests stay: they are evidence."""
    if not by.is_staff:
        raise PermissionDenied(_("Only staff can take a dataset down."))
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the dataset is taken down: its page shows the reason.")})
    now = timezone.now()
    # Conditional update: of two staff taking the same dataset down, one acts and logs.
    changed = Dataset.objects.filter(id=dataset.id, status=Dataset.Status.PUBLISHED).update(
        status=Dataset.Status.REMOVED, removed_at=now, removal_reason=reason, updated_at=now
    )
    if changed != 1:
        raise ValidationError(
            _("%(dataset)s is not published (it is %(status)s): nothing to take down.")
            % {"dataset": dataset.name, "status": dataset.get_status_display().lower()}
        )
    dataset.refresh_from_db()
    dataset_taken_down(dataset)
    notify_licensees(dataset=dataset, kind=Notification.Kind.TAKEN_DOWN, params={"reason": reason})
    transaction.on_commit(forget_facets)
    return dataset
