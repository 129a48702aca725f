"""Notifications in the realistic world (tests/world.py), built through the real services: each
state change told the right people, once each, however many members, grants and versions there are."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.test import Client

from licensing.models import LicenseGrant
from marketplace.models import Membership, Notification, Submission
from tests.world import World


def test_every_review_told_its_submitter_and_the_admins_once(world: World) -> None:
    Kind = Notification.Kind
    for submission in Submission.objects.filter(status__in=["approved", "rejected"]).select_related("reviewed_by"):
        kind = Kind.REVIEW_APPROVED if submission.status == "approved" else Kind.REVIEW_REJECTED
        told = Counter(
            Notification.objects.filter(kind=kind, params__submission=submission.name).values_list("user_id", flat=True)
        )
        admins = set(
            Membership.objects.filter(organization=submission.organization_id, role__in=["owner", "admin"]).values_list(
                "user_id", flat=True
            )
        )
        expected = ({submission.created_by_id} | admins) - {submission.reviewed_by_id}
        assert expected <= set(told), submission.name
        assert submission.reviewed_by_id not in told


def test_the_takedown_and_the_withdrawal_told_each_licensee_once(world: World) -> None:
    for handle, kind in (("north-removed", Notification.Kind.TAKEN_DOWN),
                         ("valley-speech", Notification.Kind.CONSENT_WITHDRAWN)):  # fmt: skip
        dataset = world.datasets[handle]
        licensees = set(LicenseGrant.objects.filter(dataset=dataset).values_list("user_id", flat=True))
        told = Counter(
            Notification.objects.filter(kind=kind, params__dataset=dataset.name).values_list("user_id", flat=True)
        )
        assert set(told) == licensees, handle
        assert set(told.values()) <= {1}, handle


def test_access_decisions_reached_their_requesters(world: World) -> None:
    refused = world.access_requests["refused@valley-gated"]
    notification = Notification.objects.get(user=refused.user, kind=Notification.Kind.ACCESS_REJECTED)
    assert notification.params["reason"] == "No research purpose."
    approved = world.access_requests["licensee@valley-gated"]
    assert Notification.objects.filter(user=approved.user, kind=Notification.Kind.ACCESS_APPROVED).exists()


def test_pages_of_a_busy_licensee_and_a_busy_organization_stay_within_their_queries(
    world: World, django_assert_max_num_queries: Any
) -> None:
    licensee = world.people["licensee"]
    client = Client()
    client.force_login(licensee)
    for url in ("/account/invoices/", "/account/access-requests/", "/notifications/"):
        with django_assert_max_num_queries(8):
            assert client.get(url).status_code == 200, url
    owner = world.member("valley", "owner")
    client.force_login(owner)
    with django_assert_max_num_queries(20):
        page = client.get(f"/organizations/{world.orgs['valley'].slug}/dashboard/").content.decode()
    members = Membership.objects.filter(organization=world.orgs["valley"]).count()
    assert f"{members} members" in page
