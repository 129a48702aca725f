"""The organization's withdrawals page: who was told of a withdrawal and who acknowledged deleting
the records, what the re-release did, and the choice between publishing re-releases at once or
holding them for a reviewer (owners and admins only)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from licensing.consent import withdrawals
from licensing.models import DownloadRecord, RemovalNotice, Rerelease
from marketplace.models import Membership, Organization
from tests.factories import organization, published_dataset

pytestmark = pytest.mark.django_db


@pytest.fixture
def told(make_user: Any) -> dict[str, Any]:
    org = organization("voices")
    dataset = published_dataset("valley-voices", org=org)
    version = dataset.current_version
    assert version is not None
    keen, slow = make_user("keen-lab"), make_user("slow-lab")
    for user in (keen, slow):
        DownloadRecord.objects.create(user=user, dataset=dataset, version=version, kind="archive", basis="member")
    owner = org.memberships.get(role="owner").user
    withdrawal = withdrawals.withdraw_consent(
        by=owner, dataset=dataset, version_number=version.number, record_ids=["clips/c-2-1.wav"]
    )
    withdrawals.acknowledge_removal(user=keen, dataset=dataset, withdrawal_id=withdrawal.id)
    return {"org": org, "owner": owner, "withdrawal": withdrawal, "keen": keen, "slow": slow}


def test_the_page_shows_who_acknowledged_and_who_did_not(told: dict[str, Any], client: Client) -> None:
    client.force_login(told["owner"])
    page = client.get("/organizations/voices/withdrawals/")
    assert page.status_code == 200
    text = page.content.decode()
    row = text[text.index(f'id="withdrawal-{told["withdrawal"].id}"') :]
    assert "1 of 2 acknowledged" in row
    assert "keen-lab: deleted" in row and "slow-lab: <strong>not yet</strong>" in row
    assert str(Rerelease.Status(Rerelease.objects.get().status).label) in row  # the job's state, as words
    assert RemovalNotice.objects.filter(acknowledged_at__isnull=True).get().user == told["slow"]


def test_owners_choose_to_hold_re_releases_for_review(told: dict[str, Any], client: Client) -> None:
    client.force_login(told["owner"])
    saved = client.post("/organizations/voices/withdrawals/", {"withdrawal_releases": "review"}, follow=True)
    assert saved.status_code == 200 and "Saved: held for a reviewer." in saved.content.decode()
    assert Organization.objects.get(slug="voices").withdrawal_releases == "review"
    refused = client.post("/organizations/voices/withdrawals/", {"withdrawal_releases": "whenever"})
    assert refused.status_code == 400 and "Select a valid choice" in refused.content.decode()
    assert Organization.objects.get(slug="voices").withdrawal_releases == "review"


def test_members_and_licensees_do_not_see_it(told: dict[str, Any], client: Client, make_user: Any) -> None:
    member = make_user("member")
    Membership.objects.create(organization=told["org"], user=member, role="member")
    for user in (member, told["keen"]):
        client.force_login(user)
        assert client.get("/organizations/voices/withdrawals/").status_code in (403, 404)
