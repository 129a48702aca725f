"""Organizations in the browser's paths: create, invite by email, accept, leave, remove, approve."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.core import mail
from django.test import Client

from marketplace.models import Invitation, Membership, Organization, User
from tests.second_factor import pass_second_factor

INVITE_LINK = re.compile(r"http://testserver/invitations/([A-Za-z0-9_-]+)/")


@pytest.fixture
def owner(make_user: Callable[..., User]) -> User:
    return make_user("founder")


@pytest.fixture
def org(client: Client, owner: User) -> Organization:
    client.force_login(owner)
    response = client.post(
        "/organizations/new/",
        {"name": "Voices of Wales", "slug": "voices-of-wales", "description": "Welsh speech.", "website": ""},
    )
    assert response.status_code == 302 and response["Location"] == "/organizations/voices-of-wales/members/"
    return Organization.objects.get(slug="voices-of-wales")


@pytest.fixture
def invite(client: Client, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    """Invite through the members page; returns the token from the email (sent after commit)."""

    def send(org: Organization, email: str, role: str = "member") -> str:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(f"/organizations/{org.slug}/members/", {"email": email, "role": role})
        assert response.status_code == 302, response.content.decode()[:2000]
        match = INVITE_LINK.search(str(mail.outbox[-1].body))
        assert match is not None
        return match.group(1)

    return send


def test_creator_owns_a_new_unapproved_organization(org: Organization, owner: User, client: Client) -> None:
    assert not org.approved_to_upload
    assert Membership.objects.get(organization=org).user == owner
    assert Membership.objects.get(organization=org).role == "owner"
    page = client.get("/organizations/voices-of-wales/members/").content.decode()
    assert "not yet approved to upload" in page


def test_create_errors_show_beside_fields(client: Client, org: Organization) -> None:
    response = client.post("/organizations/new/", {"name": "", "slug": "not valid!"})
    assert response.status_code == 400
    text = response.content.decode()
    assert "This field is required." in text
    assert "Enter a valid “slug”" in text
    taken = client.post("/organizations/new/", {"name": "Copycat", "slug": "voices-of-wales"})
    assert taken.status_code == 400
    assert "The address &#x27;voices-of-wales&#x27; is taken by another organization." in taken.content.decode()
    assert Organization.objects.count() == 1


def test_invite_accept_and_leave(client: Client, org: Organization, make_user: Callable[..., User], invite) -> None:
    token = invite(org, "new.member@example.org", "reviewer")
    invitation = Invitation.objects.get(organization=org)
    assert invitation.token_hash != token and len(invitation.token_hash) == 64
    assert mail.outbox[-1].to == ["new.member@example.org"]
    assert "Voices of Wales" in mail.outbox[-1].subject

    someone_else = make_user("someone-else")
    other = Client()
    other.force_login(someone_else)
    refused = other.post(f"/invitations/{token}/")
    assert refused.status_code == 400
    assert "This invitation is for new.member@example.org, but you are logged in as" in refused.content.decode()

    invitee = User.objects.create_user(username="newbie", email="New.Member@example.org", password="x" * 12)
    joined = Client()
    joined.force_login(invitee)
    assert "Accept invitation" in joined.get(f"/invitations/{token}/").content.decode()
    response = joined.post(f"/invitations/{token}/")
    assert response.status_code == 302 and response["Location"] == "/organizations/voices-of-wales/"
    assert Membership.objects.get(organization=org, user=invitee).role == "reviewer"
    again = joined.post(f"/invitations/{token}/")
    assert "This invitation was accepted" in again.content.decode()

    asked = joined.post("/organizations/voices-of-wales/leave/")
    assert asked.status_code == 200 and "Leave Voices of Wales?" in asked.content.decode()
    assert Membership.objects.filter(organization=org, user=invitee).exists()
    left = joined.post("/organizations/voices-of-wales/leave/", {"confirm": "yes"})
    assert left.status_code == 302 and left["Location"] == "/account/"
    assert not Membership.objects.filter(organization=org, user=invitee).exists()


def test_last_owner_cannot_leave(client: Client, org: Organization, owner: User) -> None:
    response = client.post("/organizations/voices-of-wales/leave/", follow=True)
    assert "You are the last owner of Voices of Wales" in response.content.decode()
    assert Membership.objects.filter(organization=org, user=owner, role="owner").exists()


def test_duplicate_and_bad_invitations(client: Client, org: Organization, owner: User, invite) -> None:
    invite(org, "twice@example.org")
    response = client.post("/organizations/voices-of-wales/members/", {"email": "TWICE@example.org", "role": "member"})
    assert response.status_code == 400
    assert "has an open invitation already" in response.content.decode()
    response = client.post("/organizations/voices-of-wales/members/", {"email": owner.email, "role": "member"})
    assert "is already a member of Voices of Wales" in response.content.decode()
    response = client.post("/organizations/voices-of-wales/members/", {"email": "x@example.org", "role": "king"})
    assert "Select a valid choice" in response.content.decode()
    assert Invitation.objects.filter(organization=org).count() == 1


def test_revoked_invitation_cannot_be_accepted(client: Client, org: Organization, invite) -> None:
    token = invite(org, "late@example.org")
    invitation = Invitation.objects.get(email="late@example.org")
    asked = client.post(f"/organizations/voices-of-wales/invitations/{invitation.id}/revoke/")
    assert "Revoke the invitation to late@example.org?" in asked.content.decode()
    assert Invitation.objects.get(id=invitation.id).revoked_at is None
    client.post(f"/organizations/voices-of-wales/invitations/{invitation.id}/revoke/", {"confirm": "yes"})
    late = User.objects.create_user(username="late", email="late@example.org")
    late_client = Client()
    late_client.force_login(late)
    response = late_client.post(f"/invitations/{token}/")
    assert response.status_code == 400 and "This invitation was revoked" in response.content.decode()
    assert late_client.post("/invitations/not-a-token/").status_code == 400


def test_only_managers_manage_members(client: Client, org: Organization, make_user: Callable[..., User]) -> None:
    member = make_user("plain-member")
    Membership.objects.create(organization=org, user=member, role="member")
    member_client = Client()
    member_client.force_login(member)
    assert member_client.get("/organizations/voices-of-wales/members/").status_code == 403
    assert member_client.post("/organizations/voices-of-wales/members/", {"email": "a@b.org"}).status_code == 403
    owner_membership = Membership.objects.get(organization=org, role="owner")
    assert (
        member_client.post(f"/organizations/voices-of-wales/members/{owner_membership.id}/remove/").status_code == 403
    )

    # The owner removes the member, once confirmed; the last owner cannot be removed by an admin.
    remove = f"/organizations/voices-of-wales/members/{Membership.objects.get(user=member).id}/remove/"
    asked = client.post(remove)
    assert asked.status_code == 200 and "Remove plain-member from Voices of Wales?" in asked.content.decode()
    assert Membership.objects.filter(user=member).exists()
    assert client.post(remove, {"confirm": "yes"}).status_code == 302
    assert not Membership.objects.filter(user=member).exists()
    admin = make_user("an-admin")
    Membership.objects.create(organization=org, user=admin, role="admin")
    admin_client = Client()
    admin_client.force_login(admin)
    response = admin_client.post(
        f"/organizations/voices-of-wales/members/{owner_membership.id}/remove/", {"confirm": "yes"}, follow=True
    )
    assert "Only an owner can remove an owner." in response.content.decode()
    assert Membership.objects.filter(id=owner_membership.id).exists()


def test_only_staff_approve(client: Client, org: Organization, make_user: Callable[..., User]) -> None:
    assert client.post("/organizations/voices-of-wales/approve/").status_code == 403
    staff = make_user("staffer", is_staff=True)
    staff_client = Client()
    pass_second_factor(staff_client, staff)
    page = staff_client.get("/organizations/voices-of-wales/").content.decode()
    assert "Approve to upload" in page
    response = staff_client.post("/organizations/voices-of-wales/approve/", follow=True)
    assert "Voices of Wales is approved to upload." in response.content.decode()
    org.refresh_from_db()
    assert org.approved_to_upload and org.approved_at is not None
