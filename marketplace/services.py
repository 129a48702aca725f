"""Writes of the marketplace domain: accounts, organizations, datasets and published versions."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from licensing.models import License
from marketplace.catalog import forget_facets
from marketplace.models import Dataset, DatasetVersion, Membership, Organization, User


@transaction.atomic
def register_user(*, username: str, email: str, password: str) -> User:
    username, email = username.strip(), email.strip()
    errors: dict[str, list[str]] = {}
    if User.objects.filter(username__iexact=username).exists():
        errors["username"] = ["That username is taken."]
    if email and User.objects.filter(email__iexact=email).exists():
        errors["email"] = ["An account with that email exists already: log in instead."]
    candidate = User(username=username, email=email)
    try:
        validate_password(password, user=candidate)
    except ValidationError as exc:
        errors["password"] = list(exc.messages)
    if errors:
        raise ValidationError(errors)
    return User.objects.create_user(username=username, email=email, password=password)


@transaction.atomic
def create_organization(*, name: str, slug: str, owner: User, description: str = "") -> Organization:
    if Organization.objects.filter(slug=slug).exists():
        raise ValidationError({"slug": f"The address '{slug}' is taken by another organization."})
    organization = Organization.objects.create(name=name.strip(), slug=slug, description=description)
    Membership.objects.create(organization=organization, user=owner, role=Membership.Role.OWNER)
    return organization


def add_member(*, organization: Organization, user: User, role: str) -> Membership:
    membership, _ = Membership.objects.update_or_create(organization=organization, user=user, defaults={"role": role})
    return membership


def approve_organization(*, organization: Organization) -> Organization:
    Organization.objects.filter(id=organization.id, approved_to_upload=False).update(
        approved_to_upload=True, approved_at=timezone.now()
    )
    organization.refresh_from_db()
    return organization


@transaction.atomic
def create_dataset(*, organization: Organization, slug: str, name: str, **fields: Any) -> Dataset:
    if Dataset.objects.filter(slug=slug).exists():
        raise ValidationError({"slug": f"The address '{slug}' is taken by another dataset."})
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
) -> DatasetVersion:
    """Append a published, immutable version and make it the dataset's current one."""
    locked = Dataset.objects.select_for_update().get(id=dataset.id)
    if locked.status == Dataset.Status.REMOVED:
        raise ValidationError("A removed dataset cannot get new versions.")
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
    dataset.refresh_from_db()
    return version
