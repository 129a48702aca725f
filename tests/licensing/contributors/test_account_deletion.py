"""Deleting one's account (licensing/contributors/portability.py ``delete_account`` and
/account/delete/): refused, with what to do, while the person is an organization's only owner,
is owed money or has a payout on its way; otherwise the person is anonymized and signed out
everywhere in one transaction, and the pseudonymous evidence stays, pointing at the anonymous user."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client
from rest_framework.test import APIClient

from licensing.contributors.portability import DeletionRefused, Refusal, delete_account, export_for
from licensing.keys.services import create_api_key
from licensing.models import (
    AccessRequest,
    ApiKey,
    ConsentRecord,
    ConsentWithdrawal,
    ContributorClaim,
    DownloadRecord,
    Invoice,
    LedgerAccount,
    LedgerEntry,
    LicenseGrant,
    Payment,
    PayoutDetails,
)
from licensing.revenue import ledger
from marketplace.models import Invitation, Membership, User
from marketplace.organizations.services import invite_member
from tests.factories import organization
from tests.licensing.contributors.test_portability import busy_person
from tests.licensing.revenue.test_ledger import staff

pytestmark = pytest.mark.django_db

PASSWORD = "ana-password-123"


def evidence_of(user: User, contributor_prefix: str) -> dict[str, int]:
    accounts = LedgerAccount.objects.filter(user=user)
    return {
        "grants": LicenseGrant.objects.filter(user=user).count(),
        "payments": Payment.objects.filter(invoice__user=user).count(),
        "ledger entries": LedgerEntry.objects.filter(account__in=accounts).count(),
        "claims": ContributorClaim.objects.filter(claimed_by=user).exclude(contributor_id="").count(),
        "consent records": ConsentRecord.objects.filter(contributor_id__startswith=contributor_prefix).count(),
        "withdrawals": ConsentWithdrawal.objects.filter(recorded_by=user).count(),
        "downloads": DownloadRecord.objects.filter(user=user).count(),
    }


def test_deleting_on_the_page_anonymizes_signs_out_everywhere_and_keeps_the_evidence(client: Client) -> None:
    world = busy_person("ana")
    ana = world["user"]
    before = evidence_of(ana, "ana-")
    lab = organization("inviting-lab")
    owner = lab.memberships.get().user
    invite_member(organization=lab, email="ANA@example.org", role="admin", invited_by=owner, accept_url=str)
    invite_member(organization=lab, email="someone@example.org", role="member", invited_by=owner, accept_url=str)
    assert all(before.values()), before
    elsewhere = Client()
    elsewhere.force_login(ana)
    _, raw_key = create_api_key(user=ana, name="laptop", scopes=["read"])
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    assert api.get("/api/v1/me").status_code == 200

    client.force_login(ana)
    page = client.get("/account/delete/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "What is deleted" in text and "What is kept" in text and "cannot be deleted yet" not in text
    assert 'href="/account/delete/"' in client.get("/account/").content.decode()

    unconfirmed = client.post("/account/delete/", {"password": PASSWORD})
    assert unconfirmed.status_code == 400 and "Tick the box" in unconfirmed.content.decode()
    wrong = client.post("/account/delete/", {"password": "not-it", "confirm": "on"})
    assert wrong.status_code == 400 and "That is not your password." in wrong.content.decode()
    ana.refresh_from_db()
    assert ana.is_active and ana.username == "ana"

    done = client.post("/account/delete/", {"password": PASSWORD, "confirm": "on"})
    assert done.status_code == 302 and done["Location"] == "/"
    ana.refresh_from_db()
    assert ana.username == f"deleted-{ana.public_id}"
    assert (ana.email, ana.first_name, ana.last_name, ana.is_active) == ("", "", "", False)
    assert not ana.has_usable_password()

    # Signed out here and in every other browser; no key works; nobody signs in as Ana again.
    assert client.get("/account/")["Location"].startswith("/login/")
    assert elsewhere.get("/account/")["Location"].startswith("/login/")
    assert api.get("/api/v1/me").status_code == 401
    assert not ApiKey.objects.filter(user=ana, revoked_at__isnull=True).exists()
    assert not Client().login(username="ana", password=PASSWORD)
    assert not Client().login(username=ana.username, password=PASSWORD)
    assert Client().post("/login/", {"username": "ana", "password": PASSWORD}).status_code == 200

    assert not Membership.objects.filter(user=ana).exists()
    assert list(Invitation.objects.values_list("email", flat=True)) == ["someone@example.org"]
    assert not PayoutDetails.objects.filter(user=ana).exists()
    assert Invoice.objects.get(id=world["open_invoice"].id).status == Invoice.Status.VOID
    withdrawn = AccessRequest.objects.get(id=world["pending"].id)
    assert withdrawn.status == AccessRequest.Status.REJECTED and "deleted their account" in withdrawn.reason
    assert set(AccessRequest.objects.filter(user=ana).values_list("full_name", flat=True)) == {"Deleted account"}
    for account in LedgerAccount.objects.filter(user=ana) | LedgerAccount.objects.filter(
        payee_email="ana.payee@example.org"
    ):
        assert "Ana" not in account.name and "Lima" not in account.name, account.name

    assert evidence_of(ana, "ana-") == before  # the pseudonymous evidence stays, pointing at the anonymous user
    document = export_for(ana)
    text = json.dumps(document)
    for personal in ('"ana"', "ana@example.org", "Ana Lima", '"Lima"', "DE89"):
        assert personal not in text, personal
    assert document["account"]["username"] == f"deleted-{ana.public_id}"
    assert document["memberships"] == [] and document["payoutDetails"] is None


def test_an_only_owner_is_told_which_organization_to_hand_over(client: Client) -> None:
    ana = User.objects.create_user(username="ana", email="ana@example.org", password=PASSWORD)
    organization("ana-lab", owner=ana)
    client.force_login(ana)
    page = client.get("/account/delete/")
    assert "You are the only owner of Ana Lab" in page.content.decode()
    refused = client.post("/account/delete/", {"password": PASSWORD, "confirm": "on"})
    assert refused.status_code == 400 and "You are the only owner of Ana Lab" in refused.content.decode()
    ana.refresh_from_db()
    assert ana.is_active and ana.username == "ana" and Membership.objects.filter(user=ana).exists()


def test_someone_still_owed_money_is_told_how_much_and_what_to_do() -> None:
    world = busy_person("bo", paid_out=False)
    bo = world["user"]
    with pytest.raises(DeletionRefused) as refused:
        delete_account(user=bo, password=PASSWORD)
    assert refused.value.refusals == {Refusal.STILL_OWED}
    # 3 x 20.00 of speech, 60% of 2 x 10.00 of notes and the claimed payee address's 40%.
    (reason,) = refused.value.reasons
    assert reason.message.startswith("You are still owed 80.00 USD: set your payout details and wait for the payout")
    bo.refresh_from_db()
    assert bo.is_active and PayoutDetails.objects.filter(user=bo).exists()


def test_a_payout_on_its_way_holds_the_deletion_until_it_is_confirmed() -> None:
    world = busy_person("cy", paid_out=False)
    cy = world["user"]
    clerk = staff()
    accounts = LedgerAccount.objects.filter(code__in=[f"payable:user:{cy.id}", "payable:payee:cy.payee@example.org"])
    batch = ledger.create_payout_batch(
        amounts={a.id: ledger.owed(a, "usd") for a in accounts}, currency="usd", created_by=clerk
    )
    with pytest.raises(DeletionRefused) as refused:
        delete_account(user=cy, password=PASSWORD)
    assert refused.value.refusals == {Refusal.PAYOUT_PENDING}
    ledger.mark_payout_batch_paid(batch_id=batch.id, reference="SEPA-9", paid_by=clerk)
    assert not delete_account(user=cy, password=PASSWORD).is_active


def test_a_wrong_password_changes_nothing(make_user: Any) -> None:
    dee = make_user("dee")
    with pytest.raises(DeletionRefused) as refused:
        delete_account(user=dee, password="guess")
    assert refused.value.refusals == {Refusal.UNCONFIRMED}
    dee.refresh_from_db()
    assert dee.is_active and dee.username == "dee"


def test_the_database_lets_only_an_anonymizing_transaction_rename_a_payable_account() -> None:
    world = busy_person("eve")
    payable = LedgerAccount.objects.get(user=world["user"])

    def anonymizing(on: bool) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('datacollective.anonymizing', %s, true)", ["on" if on else "off"])

    for on, change in (
        (False, lambda: LedgerAccount.objects.filter(id=payable.id).update(name="x")),
        (True, lambda: LedgerAccount.objects.filter(id=payable.id).update(code="payable:user:0")),
        (True, lambda: LedgerAccount.objects.filter(code="platform:fees").update(name="mine")),
        (True, lambda: connection.cursor().execute("DELETE FROM licensing_ledgeraccount WHERE id = %s", [payable.id])),
    ):
        with pytest.raises(DatabaseError, match="evidence"), transaction.atomic():
            anonymizing(on)
            change()
    with transaction.atomic():
        anonymizing(True)
        assert LedgerAccount.objects.filter(id=payable.id).update(name="Deleted account") == 1
