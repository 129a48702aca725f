"""A person's payout details (licensing/contributors/payouts.py): the service checks their shape
in people's words, the page and ``/api/v1/me/payout-details`` read and write the same row, and the
staff payout pages show each payee's details next to their balance."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from licensing.contributors.payouts import PayoutDetailsInput, iban_is_valid, set_payout_details
from licensing.models import ContributorClaim, LedgerAccount, PayoutDetails
from licensing.revenue import ledger
from marketplace.models import User
from tests.licensing.revenue.test_ledger import approved_submission, paid_dataset, pay, staff

pytestmark = pytest.mark.django_db

BANK = {
    "method": "bank",
    "account_holder": "Ana Lima",
    "account": "de89 3704 0044 0532 0130 00",
    "bank_name": "Commerzbank",
}


def bank(**changes: str) -> PayoutDetailsInput:
    return PayoutDetailsInput(**{**BANK, **changes})


def test_iban_check_digits() -> None:
    assert iban_is_valid("DE89 3704 0044 0532 0130 00")
    assert iban_is_valid("GB82WEST12345698765432")
    assert not iban_is_valid("DE89 3704 0044 0532 0130 01")  # one digit off
    assert not iban_is_valid("DE89 3704")  # too short


def test_a_bank_account_is_saved_in_a_readable_form_and_replaced_on_change(make_user: Callable[..., User]) -> None:
    ana = make_user("ana")
    saved = set_payout_details(user=ana, details=bank())
    assert (saved.account, saved.bank_name) == ("DE89 3704 0044 0532 0130 00", "Commerzbank")
    set_payout_details(user=ana, details=bank(account="123-456 789", bank_name="Local Bank"))
    assert PayoutDetails.objects.filter(user=ana).count() == 1
    assert PayoutDetails.objects.get(user=ana).account == "123-456 789"


@pytest.mark.parametrize(
    ("details", "field", "words"),
    [
        (bank(account="DE00 3704 0044 0532 0130 00"), "account", "looks like an IBAN but is not a valid one"),
        (bank(account="my bank, ask me"), "account", "Give an IBAN, or an account number"),
        (bank(account_holder="  "), "account_holder", "name the account is held in"),
        (PayoutDetailsInput(method="paypal", account_holder="Ana", account="ana-at-example"), "account",
         "A PayPal account is an email address"),
        (PayoutDetailsInput(method="other", account_holder="Ana", account="Wise: ana"), "notes", "how we should pay"),
        (PayoutDetailsInput(method="cheque", account_holder="Ana", account="x"), "method", "Choose bank transfer"),
        (bank(notes="x" * 2001), "notes", "Keep it to 2000 characters"),
    ],
)  # fmt: skip
def test_wrong_details_are_refused_with_what_to_fix(
    make_user: Callable[..., User], details: PayoutDetailsInput, field: str, words: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        set_payout_details(user=make_user(), details=details)
    assert any(words in message for message in refused.value.message_dict[field]), refused.value.message_dict
    assert not PayoutDetails.objects.exists()


def test_the_page_shows_what_is_saved_and_saves_a_change(make_user: Callable[..., User], client: Client) -> None:
    ana = make_user("ana")
    client.force_login(ana)
    page = client.get("/account/payout-details/")
    assert page.status_code == 200 and "No payout details yet" in page.content.decode()
    assert 'href="/account/payout-details/"' in client.get("/account/").content.decode()

    refused = client.post("/account/payout-details/", {**BANK, "account": "DE00370400440532013000"})
    assert refused.status_code == 400 and "not a valid one" in refused.content.decode()
    assert not PayoutDetails.objects.exists()

    saved = client.post("/account/payout-details/", {"method": "paypal", "account_holder": "Ana Lima",
                                                      "account": "Ana@Example.org"})  # fmt: skip
    assert saved.status_code == 302 and saved["Location"] == "/account/payout-details/"
    row = PayoutDetails.objects.get(user=ana)
    assert (row.method, row.account) == ("paypal", "ana@example.org")
    shown = client.get("/account/payout-details/").content.decode()
    assert "ana@example.org" in shown and "PayPal" in shown and "No payout details yet" not in shown


def test_the_api_reads_and_replaces_them_in_camel_case(bearer: Callable[..., tuple[User, str]]) -> None:
    ana, key = bearer("read", "upload")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    missing = api.get("/api/v1/me/payout-details")
    assert missing.status_code == 404 and "no payout details yet" in missing.json()["message"]

    body = {"method": "bank", "accountHolder": "Ana Lima", "account": "GB82WEST12345698765432", "bankName": "West"}
    created = api.put("/api/v1/me/payout-details", body, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["account"] == "GB82 WEST 1234 5698 7654 32"
    changed = api.put("/api/v1/me/payout-details", {**body, "notes": "BIC WESTGB22"}, format="json")
    assert changed.status_code == 200
    got = api.get("/api/v1/me/payout-details").json()
    assert {k: got[k] for k in ("method", "accountHolder", "bankName", "notes")} == {
        "method": "bank", "accountHolder": "Ana Lima", "bankName": "West", "notes": "BIC WESTGB22"
    }  # fmt: skip

    refused = api.put("/api/v1/me/payout-details", {"method": "paypal", "accountHolder": "", "account": "nope"},
                      format="json")  # fmt: skip
    assert refused.status_code == 400
    assert set(refused.json()["errors"]) == {"accountHolder", "account"}
    assert PayoutDetails.objects.get(user=ana).notes == "BIC WESTGB22"  # unchanged

    wrong_type = api.put("/api/v1/me/payout-details", {**body, "notes": 5}, format="json")
    assert wrong_type.status_code == 400 and "notes" in wrong_type.json()["errors"]


def test_a_read_only_key_reads_them_but_cannot_redirect_payouts(bearer: Callable[..., tuple[User, str]]) -> None:
    _, key = bearer("read")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert api.get("/api/v1/me/payout-details").status_code == 404  # read: allowed, none yet
    put = api.put("/api/v1/me/payout-details", {"method": "paypal", "accountHolder": "A", "account": "a@b.org"},
                  format="json")  # fmt: skip
    assert put.status_code == 403 and "lacks the 'upload' scope" in put.json()["message"]
    assert not PayoutDetails.objects.exists()


def test_a_key_without_the_read_scope_is_refused(bearer: Callable[..., tuple[User, str]]) -> None:
    _, key = bearer("download")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert api.get("/api/v1/me/payout-details").status_code == 403
    put = api.put("/api/v1/me/payout-details", {"method": "paypal", "accountHolder": "A", "account": "a@b.org"},
                  format="json")  # fmt: skip
    assert put.status_code == 403 and not PayoutDetails.objects.exists()


@pytest.fixture
def owed() -> dict[str, Any]:
    """Ana (a user) and Bo (a payee address Bo claimed) share a dataset bought twice; Cy, an address
    nobody claimed, holds the rest."""
    ana = User.objects.create_user(username="ana", email="ana@example.org")
    bo = User.objects.create_user(username="bo", email="bo.account@example.org")
    dataset = paid_dataset(price_cents=2_000)
    approved_submission(dataset, [
        {"username": "ana", "basisPoints": 5_000},
        {"name": "Bo", "email": "Bo@Example.org", "basisPoints": 3_000},
        {"name": "Cy", "email": "cy@example.org", "basisPoints": 2_000},
    ])  # fmt: skip
    pay(dataset)
    pay(dataset)
    now = timezone.now()
    ContributorClaim.objects.create(
        organization=dataset.organization, payee_email="bo@example.org", token_hash="b" * 64,
        created_by=dataset.organization.memberships.get().user, expires_at=now + timedelta(days=7),
        claimed_at=now, claimed_by=bo,
    )  # fmt: skip
    set_payout_details(user=ana, details=bank())
    set_payout_details(
        user=bo, details=PayoutDetailsInput(method="paypal", account_holder="Bo", account="bo@pay.example")
    )
    return {"ana": ana, "bo": bo, "dataset": dataset}


def test_staff_see_each_payees_details_next_to_the_balance(
    owed: dict[str, Any], client: Client, django_assert_max_num_queries: Any
) -> None:
    client.force_login(staff())
    with django_assert_max_num_queries(12):
        page = client.get("/staff/payouts/")
    assert page.status_code == 200
    rows = {row["item"].account.code: row for row in page.context["rows"]}
    ana_code, bo_code = f"payable:user:{owed['ana'].id}", "payable:payee:bo@example.org"
    assert rows[ana_code]["details"].account == "DE89 3704 0044 0532 0130 00"
    assert rows[bo_code]["details"].account == "bo@pay.example"
    assert rows["payable:payee:cy@example.org"]["details"] is None
    body = page.content.decode()
    assert "DE89 3704 0044 0532 0130 00" in body and "bo@pay.example" in body and "No payout details yet" in body

    accounts = LedgerAccount.objects.in_bulk([ana_code], field_name="code")
    batch = ledger.create_payout_batch(amounts={accounts[ana_code].id: 500}, currency="usd", created_by=staff())
    batch_page = client.get(f"/staff/payouts/{batch.id}/").content.decode()
    assert "DE89 3704 0044 0532 0130 00" in batch_page and "Commerzbank" in batch_page
