"""The realistic world holds what it promises (tests/world.py), and survives a flush."""

from __future__ import annotations

from collections import Counter

import pytest
from django.core.management import call_command
from django.db.models import Count
from rest_framework.test import APIClient

from licensing.keys.services import create_api_key
from licensing.models import AccessRequest, ConsentWithdrawal, DownloadRecord, Invoice, LicenseGrant
from marketplace.models import Dataset, Membership, Organization, Submission, Upload
from provenance.models import LogEntry
from tests.world import World, is_present, restore, world_models


def test_the_world_holds_every_kind_of_thing_a_real_instance_does(world: World) -> None:
    assert Organization.objects.count() >= 3
    roles = Counter(Membership.objects.values_list("organization__slug", "role"))
    for org in world.orgs.values():
        for role in ("owner", "admin", "member", "reviewer"):
            assert roles[(org.slug, role)] >= 1, (org.slug, role)
        assert Membership.objects.filter(organization=org).count() >= 5
    live = Dataset.objects.filter(status=Dataset.Status.PUBLISHED)
    assert set(live.values_list("visibility", flat=True)) == set(Dataset.Visibility.values)
    assert live.filter(is_paid=True).exists() and live.filter(is_paid=False).exists()
    assert live.filter(is_paid=True, visibility=Dataset.Visibility.RESTRICTED).exists()
    assert Dataset.objects.filter(status=Dataset.Status.REMOVED).count() == 1
    assert Dataset.objects.annotate(n=Count("versions")).filter(n__gte=3).exists()
    # Every published version went through a submission, an upload to storage and validation.
    for dataset in Dataset.objects.all():
        for version in dataset.versions.all():
            submission = Submission.objects.get(version=version)
            assert submission.status == Submission.Status.APPROVED
            assert submission.archive_upload.status == Upload.Status.COMPLETED
    assert set(Submission.objects.values_list("status", flat=True)) == set(Submission.Status.values) - {"deleted"}
    assert set(AccessRequest.objects.values_list("status", flat=True)) == set(AccessRequest.Status.values)
    assert set(Invoice.objects.values_list("status", flat=True)) >= {Invoice.Status.OPEN, Invoice.Status.PAID}
    assert set(LicenseGrant.objects.values_list("source", flat=True)) >= {"api", "payment"}
    assert ConsentWithdrawal.objects.exists() and DownloadRecord.objects.exists()
    assert LogEntry.objects.filter(kind=LogEntry.Kind.GRANT).count() == LicenseGrant.objects.count()


@pytest.mark.django_db(transaction=True)
def test_the_world_comes_back_whole_after_a_flush(world: World, _world_built: tuple[World, str]) -> None:
    before = {model.__name__: model._base_manager.count() for model in world_models()}
    call_command("flush", interactive=False)
    assert not is_present()
    restore(_world_built[1])
    assert {model.__name__: model._base_manager.count() for model in world_models()} == before
    # The sequences moved past the restored ids: new rows do not collide with them.
    _, raw = create_api_key(user=world.people["newcomer"], name="after the restore", scopes=["read"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get("/api/v1/me").status_code == 200
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {world.key('licensee')}")
    assert len(client.get("/api/v1/grants").json()["items"]) == 2
