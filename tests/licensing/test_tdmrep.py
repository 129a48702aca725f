"""TDMRep: the dataset page and the E4/E5 download answers say whether text and data mining is
reserved, in headers and (on the page) in ``<meta>``."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from licensing.licenses import Permissions, create_license
from marketplace.models import Membership
from tests import factories

pytestmark = pytest.mark.django_db


def test_page_reserves_mining_when_the_license_forbids_commercial_use() -> None:
    factories.license_for("CC-BY-NC-4.0", commercial_use=False)
    reserved = factories.published_dataset("nc-speech", license="CC-BY-NC-4.0")
    open_data = factories.published_dataset("open-speech")

    page = Client().get(f"/datasets/{reserved.slug}/")
    assert page.status_code == 200
    policy = "https://licenses.example.org/CC-BY-NC-4.0"
    assert (page["tdm-reservation"], page["tdm-policy"]) == ("1", policy)
    html = page.content.decode()
    assert '<meta name="tdm-reservation" content="1">' in html
    assert f'<meta name="tdm-policy" content="{policy}">' in html

    flags = {"commercial_use": True, "ai_training": False, "derivatives": True, "redistribution": True,
             "attribution": True, "share_alike": False}  # fmt: skip
    create_license(spdx_id="LicenseRef-no-url", name="No URL", url="", text="Ours.", permissions=Permissions(**flags))
    custom = factories.published_dataset("custom-terms", license="LicenseRef-no-url")
    page = Client().get(f"/datasets/{custom.slug}/")
    assert page["tdm-policy"] == f"http://testserver/datasets/{custom.slug}/#license"

    free = Client().get(f"/datasets/{open_data.slug}/")
    assert free["tdm-reservation"] == "0" and "tdm-policy" not in free
    assert '<meta name="tdm-reservation" content="0">' in free.content.decode()
    assert 'name="tdm-policy"' not in free.content.decode()


def test_downloads_carry_the_same_headers(bearer: Any) -> None:
    factories.license_for("CC-BY-NC-4.0", ai_training=False)
    reserved = factories.published_dataset("no-training", license="CC-BY-NC-4.0", sample=True)
    open_data = factories.published_dataset("open-text", org=reserved.organization)
    user, key = bearer("download")
    Membership.objects.create(organization=reserved.organization, user=user, role="member")
    client = APIClient(HTTP_AUTHORIZATION=f"Bearer {key}")

    archive = client.post(f"/api/datasets/{reserved.id}/download")
    sample = client.post(f"/api/datasets/{reserved.id}/sample-download")
    for response in (archive, sample):
        assert response.status_code == 200, response.content
        assert response["tdm-reservation"] == "1"
        assert response["tdm-policy"] == "https://licenses.example.org/CC-BY-NC-4.0"
    allowed = client.post(f"/api/datasets/{open_data.id}/download")
    assert allowed.status_code == 200 and allowed["tdm-reservation"] == "0" and "tdm-policy" not in allowed
