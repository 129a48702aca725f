"""Staff take a dataset down: it is removed, the transparency log records it, downloads answer 410."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from rest_framework.test import APIClient

from marketplace.models import Dataset, Membership
from marketplace.publishing import takedown_dataset
from provenance.models import LogEntry
from tests import factories

pytestmark = pytest.mark.django_db


def test_takedown_removes_logs_and_makes_downloads_gone(bearer: Any, make_user: Any) -> None:
    dataset = factories.published_dataset("claimed-speech")
    user, key = bearer("download")
    Membership.objects.create(organization=dataset.organization, user=user, role="member")
    client = APIClient(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert client.post(f"/api/datasets/{dataset.id}/download").status_code == 200
    staff = make_user("staff", is_staff=True)

    with pytest.raises(PermissionDenied):
        takedown_dataset(dataset=dataset, reason="Copyright claim.", by=user)
    with pytest.raises(ValidationError):
        takedown_dataset(dataset=dataset, reason="  ", by=staff)
    taken = takedown_dataset(dataset=dataset, reason="Copyright claim 42.", by=staff)

    assert (taken.status, taken.removal_reason) == (Dataset.Status.REMOVED, "Copyright claim 42.")
    assert taken.removed_at is not None
    [entry] = LogEntry.objects.filter(kind=LogEntry.Kind.TAKEDOWN, subject=f"dataset:{dataset.id}")
    assert "Copyright" not in str(entry.payload)  # the public log holds ids and status, not the reason
    for response in (
        client.post(f"/api/datasets/{dataset.id}/download"),
        client.post(f"/api/v1/datasets/{dataset.id}/versions/1/files/archive/download"),
    ):
        assert response.status_code == 410
        assert "Copyright claim 42." in response.json()["message"]
    assert Client().get(f"/datasets/{dataset.slug}/").status_code == 410
    with pytest.raises(ValidationError, match="not published"):
        takedown_dataset(dataset=taken, reason="Again.", by=staff)
    assert LogEntry.objects.filter(kind=LogEntry.Kind.TAKEDOWN).count() == 1
