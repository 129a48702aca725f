"""Builders for test data, through the same services the app uses."""

from __future__ import annotations

import gzip
import hashlib
import io
import secrets
import tarfile
from datetime import datetime
from typing import Any

from allauth.account.models import EmailAddress

from licensing.licenses import Permissions, create_license
from licensing.models import License
from marketplace import storage
from marketplace.models import Dataset, DatasetVersion, Organization, User
from marketplace.organizations.services import create_organization
from marketplace.publishing import create_dataset, publish_version


def license_for(spdx_id: str = "CC-BY-4.0", **permissions: bool) -> License:
    found = License.objects.filter(spdx_id=spdx_id).first()
    if found:
        return found
    flags = {"commercial_use": True, "ai_training": True, "derivatives": True, "redistribution": True,
             "attribution": True, "share_alike": False, **permissions}  # fmt: skip
    return create_license(
        spdx_id=spdx_id,
        name=f"{spdx_id} terms",
        url=f"https://licenses.example.org/{spdx_id}",
        text=f"The {spdx_id} terms.",
        permissions=Permissions(**flags),
    )


def verified_user(username: str, *, email: str | None = None, password: str | None = None, **extra: Any) -> User:
    """A person whose primary email address is verified (buying, requesting access, submissions and
    API keys need one: marketplace/accounts/verified_email.py), as the mailed link leaves it."""
    user = User.objects.create_user(
        username=username, email=email or f"{username}@example.org", password=password, **extra
    )
    verify_email(user)
    return user


def verify_email(user: User) -> None:
    """Mark ``user``'s address verified and primary, as following the mailed link does."""
    EmailAddress.objects.update_or_create(user=user, email=user.email, defaults={"verified": True, "primary": True})


def organization(slug: str = "speech-co", owner: User | None = None) -> Organization:
    found = Organization.objects.filter(slug=slug).first()
    if found:
        return found
    if owner is None:
        owner = verified_user(f"owner-of-{slug}", email=f"owner@{slug}.example.org")
    return create_organization(name=slug.replace("-", " ").title(), slug=slug, owner=owner)


def published_dataset(
    slug: str,
    *,
    org: Organization | None = None,
    license: str = "CC-BY-4.0",
    size_bytes: int = 1000,
    sample: bool = False,
    published_at: datetime | None = None,
    **fields: Any,
) -> Dataset:
    owner_org = org or organization()
    terms = license_for(license)
    dataset = create_dataset(organization=owner_org, slug=slug, name=fields.pop("name", slug.title()), **fields)
    publish_version(
        dataset=dataset,
        archive_key=f"published/{dataset.id}/archive.tar.gz",
        size_bytes=size_bytes,
        sha256=hashlib.sha256(slug.encode()).hexdigest(),
        license=terms,
        sample_key=f"published/{dataset.id}/sample.tar.gz" if sample else "",
        sample_size_bytes=100 if sample else None,
    )
    if published_at is not None:
        Dataset.objects.filter(id=dataset.id).update(published_at=published_at)
    dataset.refresh_from_db()
    return dataset


def tar_gz(files: dict[str, bytes]) -> bytes:
    """A real gzip tar of ``files`` (path -> bytes)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as archive:
        for path, data in sorted(files.items()):
            info = tarfile.TarInfo(path)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return gzip.compress(raw.getvalue(), mtime=0)


def store_version(
    dataset: Dataset, data: bytes, *, sample: bytes | None = None, license: str = "CC-BY-4.0"
) -> DatasetVersion:
    """Put real bytes in storage under a generated key and publish them as the next version."""
    token = secrets.token_hex(8)
    key = f"published/{dataset.id}/{token}.tar.gz"
    storage.put_stream(key, io.BytesIO(data), content_type="application/gzip")
    sample_key = ""
    if sample is not None:
        sample_key = f"published/{dataset.id}/{token}-sample.tar.gz"
        storage.put_stream(sample_key, io.BytesIO(sample), content_type="application/gzip")
    return publish_version(
        dataset=dataset,
        archive_key=key,
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        license=license_for(license),
        sample_key=sample_key,
        sample_size_bytes=len(sample) if sample is not None else None,
    )


def stored_dataset(
    slug: str,
    data: bytes,
    *,
    sample: bytes | None = None,
    org: Organization | None = None,
    license: str = "CC-BY-4.0",
    **fields: Any,
) -> Dataset:
    """A published dataset whose archive (and sample) are real objects in storage."""
    dataset = create_dataset(
        organization=org or organization(), slug=slug, name=fields.pop("name", slug.title()),
        license=license_for(license), **fields,
    )  # fmt: skip
    store_version(dataset, data, sample=sample, license=license)
    dataset.refresh_from_db()
    return dataset
