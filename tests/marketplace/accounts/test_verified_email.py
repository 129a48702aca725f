"""Money, access, submissions and API keys wait for a verified primary email address
(marketplace/accounts/verified_email.py): the page says so with a button that mails the link
again, the API answers 403 saying where to verify, and both work once the mailed link is followed."""

from __future__ import annotations

import re
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client, override_settings
from rest_framework.test import APIClient

from licensing.models import ApiKey, Invoice
from marketplace.models import MembershipRole, Submission
from marketplace.organizations.services import add_member, approve_organization
from tests.factories import organization
from tests.licensing.revenue.test_ledger import paid_dataset

pytestmark = pytest.mark.django_db

REFUSAL = (
    "Verify your email address first: buying, accepting license terms, requesting access, and creating "
    "submissions and API keys need it. Open the link we mailed you, or send it again at "
    "http://testserver/accounts/email/."
)


def _unverified(make_user: Any) -> Any:
    """A member of an organization approved to upload, whose address is not verified yet."""
    user = make_user("newcomer", verified=False)
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=False)
    add_member(organization=approve_organization(organization=organization()), user=user, role=MembershipRole.MEMBER)
    return user


def _follow_the_mailed_link(client: Client) -> None:
    """Ask for the link again (the refusal page's button), then confirm on the page it opens."""
    sent = client.post("/accounts/email/", {"email": "newcomer@example.org", "action_send": ""})
    assert sent.status_code == 302
    [message] = mail.outbox
    link = re.search(r"https?://[^/\s]+(/accounts/confirm-email/\S+)", str(message.body)).group(1)  # type: ignore[union-attr]
    assert client.post(link).status_code == 302


def test_the_pages_refuse_an_unverified_address_saying_so_and_work_after_the_mailed_link(make_user: Any) -> None:
    user = _unverified(make_user)
    dataset = paid_dataset(price_cents=1_500)
    client = Client()
    client.force_login(user)

    for refused in (
        client.post(f"/datasets/{dataset.slug}/buy/"),
        client.get("/submissions/new/"),
        client.post("/submissions/new/", {"name": "Valley speech"}),
        client.post("/account/keys/", {"name": "notebook", "scopes": ["read"], "expires_in_days": 30}),
    ):
        assert refused.status_code == 403
        page = refused.content.decode()
        assert "Verify your email address first" in page
        assert "We mailed a link to <strong>newcomer@example.org</strong>" in page
        assert 'name="action_send"' in page  # the button that mails it again
    assert not Invoice.objects.filter(user=user).exists()
    assert not Submission.objects.filter(created_by=user).exists()
    assert not ApiKey.objects.filter(user=user).exists()

    _follow_the_mailed_link(client)
    assert client.post(f"/datasets/{dataset.slug}/buy/").status_code == 302
    assert Invoice.objects.filter(user=user).count() == 1
    assert client.post("/submissions/new/", {"name": "Valley speech"}).status_code == 302
    assert Submission.objects.filter(created_by=user).count() == 1


def test_the_api_refuses_an_unverified_address_with_403_and_works_after_the_mailed_link(
    make_user: Any, bearer: Any
) -> None:
    user = _unverified(make_user)
    dataset = paid_dataset(price_cents=1_500)
    _, key = bearer("read", "download", "upload", user=user)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")

    for refused in (
        api.post(f"/api/v1/datasets/{dataset.id}/purchases", {}, format="json"),
        api.post("/api/submissions", {"name": "Valley speech"}, format="json"),
    ):
        assert refused.status_code == 403
        assert refused.json()["message"] == REFUSAL
    assert not Invoice.objects.filter(user=user).exists()
    assert api.get("/api/v1/me").status_code == 200  # reading is not refused

    client = Client()
    client.force_login(user)
    _follow_the_mailed_link(client)
    assert api.post(f"/api/v1/datasets/{dataset.id}/purchases", {}, format="json").status_code == 201
    assert api.post("/api/submissions", {"name": "Valley speech"}, format="json").status_code == 200


def test_an_address_a_single_sign_on_provider_verified_counts(make_user: Any) -> None:
    """allauth records a provider-verified address as verified (tests/marketplace/accounts/test_oidc.py
    signs in through a real provider); that record is what is checked."""
    user = make_user("newcomer", verified=False)
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
    client = Client()
    client.force_login(user)
    assert client.get("/submissions/new/").status_code == 200


@override_settings(REQUIRE_VERIFIED_EMAIL=False)
def test_the_requirement_can_be_switched_off(make_user: Any) -> None:
    user = _unverified(make_user)
    client = Client()
    client.force_login(user)
    assert client.get("/submissions/new/").status_code == 200
