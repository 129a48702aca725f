"""The database itself refuses states the domain forbids."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import IntegrityError, transaction

from licensing.licenses import Permissions, create_license
from licensing.models import License
from marketplace.models import Dataset, DatasetVersion, Membership, Organization, User
from marketplace.organizations.services import create_organization
from marketplace.publishing import create_dataset, publish_version

SHA = "a" * 64


@pytest.fixture
def org(make_user: Callable[..., User]) -> Organization:
    return create_organization(name="Speech Co", slug="speech-co", owner=make_user())


@pytest.fixture
def cc_by(db: None) -> License:
    return create_license(
        spdx_id="CC-BY-4.0",
        name="CC BY 4.0",
        text="Attribution 4.0 terms.",
        permissions=Permissions(True, True, True, True, True, False),
    )


def _refused(action: Callable[[], object]) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        action()


def test_paid_dataset_needs_a_price(org: Organization) -> None:
    _refused(lambda: Dataset.objects.create(organization=org, slug="paid", name="Paid", is_paid=True))
    Dataset.objects.create(organization=org, slug="paid", name="Paid", is_paid=True, base_price_cents=100)


def test_reserved_slug_is_refused(org: Organization) -> None:
    _refused(lambda: Dataset.objects.create(organization=org, slug="filters", name="Filters"))


def test_published_dataset_needs_time(org: Organization) -> None:
    _refused(lambda: Dataset.objects.create(organization=org, slug="x", name="X", status="published"))


def test_one_membership_per_user_and_known_roles(org: Organization, make_user: Callable[..., User]) -> None:
    owner = org.memberships.get().user
    _refused(lambda: Membership.objects.create(organization=org, user=owner, role="member"))
    _refused(lambda: Membership.objects.create(organization=org, user=make_user(), role="emperor"))


def test_email_unique_case_insensitive(make_user: Callable[..., User]) -> None:
    make_user("ann")
    _refused(lambda: User.objects.create_user(username="ann2", email="ANN@example.org"))


def test_published_version_is_immutable(org: Organization, cc_by: License) -> None:
    dataset = create_dataset(organization=org, slug="voices", name="Voices")
    version = publish_version(
        dataset=dataset, archive_key="published/k.tar.gz", size_bytes=10, sha256=SHA, license=cc_by
    )
    assert version.filename == "voices-v1.tar.gz"
    assert version.license_text_sha256 == cc_by.text_sha256
    dataset.refresh_from_db()
    assert dataset.status == Dataset.Status.PUBLISHED and dataset.published_at is not None
    _refused(lambda: DatasetVersion.objects.filter(id=version.id).update(size_bytes=11))
    _refused(lambda: DatasetVersion.objects.filter(id=version.id).delete())
    second = publish_version(
        dataset=dataset, archive_key="published/k2.tar.gz", size_bytes=12, sha256=SHA, license=cc_by
    )
    assert (second.number, second.filename) == (2, "voices-v2.tar.gz")
    assert DatasetVersion.objects.get(id=version.id).size_bytes == 10


def test_version_fields_are_checked(org: Organization, cc_by: License) -> None:
    dataset = create_dataset(organization=org, slug="voices", name="Voices")
    base = {"dataset": dataset, "archive_key": "k", "size_bytes": 1, "sha256": SHA, "license": cc_by,
            "license_text_sha256": cc_by.text_sha256, "filename": "voices-v1.tar.gz", "number": 1}  # fmt: skip
    _refused(lambda: DatasetVersion.objects.create(**{**base, "sha256": "XYZ"}))
    _refused(lambda: DatasetVersion.objects.create(**{**base, "size_bytes": 0}))
    _refused(lambda: DatasetVersion.objects.create(**{**base, "filename": "../evil.tar.gz"}))
    _refused(lambda: DatasetVersion.objects.create(**{**base, "filename": "archive.zip"}))
    _refused(lambda: DatasetVersion.objects.create(**{**base, "number": 0}))
    DatasetVersion.objects.create(**base)
    _refused(lambda: DatasetVersion.objects.create(**{**base, "filename": "voices-again.tar.gz"}))


def test_license_hash_must_match_its_text(cc_by: License, org: Organization) -> None:
    _refused(
        lambda: License.objects.create(
            name="Bad", text="Terms", text_sha256="0" * 64, organization=org, commercial_use=False,
            ai_training=False, derivatives=False, redistribution=False, attribution=True, share_alike=False,
        )
    )  # fmt: skip
    _refused(lambda: License.objects.filter(id=cc_by.id).update(text="Edited terms."))
    License.objects.filter(id=cc_by.id).update(name="CC BY 4.0 International")  # metadata may change


def test_custom_license_needs_an_owner(db: None) -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="Custom terms belong to an organization"):
        create_license(name="Ours", text="Our terms.", permissions=Permissions(*[False] * 6))
