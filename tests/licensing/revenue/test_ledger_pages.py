"""The ledger's pages and API: a contributor's earnings page, CSV statement and
``GET /api/v1/me/earnings`` agree; organization admins see revenue per dataset; staff create
payout batches (never above a balance) and mark them paid; nobody sees another's figures."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from licensing.models import LedgerAccount, PayoutBatch
from licensing.revenue import ledger, refunds
from marketplace.models import Membership, User
from tests.licensing.revenue.test_ledger import approved_submission, paid_dataset, pay, staff
from tests.second_factor import pass_second_factor

pytestmark = pytest.mark.django_db


@pytest.fixture
def sold() -> dict[str, Any]:
    """Ana holds 75% of a 20.00 USD dataset bought three times, one payment refunded."""
    ana = User.objects.create_user(username="ana", email="ana@example.org", password="ana-password-123")
    dataset = paid_dataset(price_cents=2_000, slug="welsh-speech")
    approved_submission(
        dataset,
        [{"username": "ana", "basisPoints": 7_500}, {"name": "Bo", "email": "bo@example.org", "basisPoints": 2_500}],
    )
    first, _, _ = pay(dataset), pay(dataset), pay(dataset)
    refunds.refund_payment(invoice_id=first.invoice_id, refunded_by=None, reason="=HYPERLINK('evil')")
    return {"ana": ana, "dataset": dataset, "payable": LedgerAccount.objects.get(code=f"payable:user:{ana.id}")}


def test_earnings_page_api_and_statement_agree(
    sold: dict[str, Any], client: Client, bearer: Callable[..., tuple[User, str]], django_assert_max_num_queries: Any
) -> None:
    client.force_login(sold["ana"])
    with django_assert_max_num_queries(8):
        page = client.get("/account/earnings/")
    assert page.status_code == 200
    body = page.content.decode()
    # 3 x 1,500 earned, one 1,500 refunded: 3,000 net, all still owed.
    assert "45.00 USD" in body and "15.00 USD" in body and "<strong>30.00 USD</strong>" in body
    assert 'id="earnings-chart"' in body and "build/earnings.js" in body
    assert page.context["chart"]["series"][0]["values"] == [30.0]

    _, key = bearer("read", user=sold["ana"])
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    figures = api.get("/api/v1/me/earnings").json()
    assert figures["totals"] == [
        {"currency": "usd", "earnedCents": 4_500, "refundedCents": 1_500, "paidOutCents": 0, "balanceCents": 3_000}
    ]
    (item,) = figures["datasets"]
    assert (item["datasetId"], item["payments"], item["netCents"]) == (sold["dataset"].id, 3, 3_000)
    assert item["periods"][0]["netCents"] == 3_000 and figures["payouts"] == []

    statement = client.get("/account/earnings/statement.csv")
    assert statement["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(statement.content.decode())))
    assert [(r["kind"], r["amount"], r["balance"]) for r in rows] == [
        ("payment", "15.00", "15.00"), ("payment", "15.00", "30.00"), ("payment", "15.00", "45.00"),
        ("refund", "-15.00", "30.00"),
    ]  # fmt: skip
    assert rows[-1]["memo"] == "'=HYPERLINK('evil')"  # a spreadsheet shows it, never runs it
    month = item["periods"][0]["period"]
    assert len(list(csv.DictReader(io.StringIO(client.get(f"/account/earnings/statement.csv?period={month}")
                                                   .content.decode())))) == 4  # fmt: skip
    assert client.get("/account/earnings/statement.csv?period=2020-01").content.decode().count("\n") == 1
    refused = client.get("/account/earnings/statement.csv?period=May")
    assert refused.status_code == 400 and "YYYY-MM" in refused.content.decode()


def test_nobody_sees_another_contributors_earnings(sold: dict[str, Any], client: Client, make_user: Any) -> None:
    client.force_login(make_user())
    page = client.get("/account/earnings/")
    assert "No earnings yet" in page.content.decode() and "45.00" not in page.content.decode()
    assert client.get("/account/earnings/statement.csv").content.decode().count("\n") == 1
    assert client.get("/api/v1/me/earnings").json()["totals"] == []
    assert Client().get("/account/earnings/").status_code == 302  # to the login page
    assert APIClient().get("/api/v1/me/earnings").status_code == 401


def test_organization_admins_see_revenue_per_dataset(sold: dict[str, Any], client: Client, make_user: Any) -> None:
    org = sold["dataset"].organization
    member = make_user()
    Membership.objects.create(organization=org, user=member, role="member")
    client.force_login(member)
    assert client.get(f"/organizations/{org.slug}/revenue/").status_code == 403

    client.force_login(org.memberships.get(role="owner").user)
    page = client.get(f"/organizations/{org.slug}/revenue/")
    assert page.status_code == 200
    (row,) = page.context["rows"]
    # Three payments of 21.00 (a 1.00 fee each), one refunded in full.
    assert (row.payments, row.refunds, row.gross, row.fees, row.contributors) == (3, 1, 4_200, 200, 4_000)
    assert "42.00 USD" in page.content.decode()


def test_staff_pay_out_at_most_a_balance_then_mark_the_batch_paid(sold: dict[str, Any], client: Client) -> None:
    client.force_login(sold["ana"])
    assert client.get("/staff/payouts/").status_code == 403
    admin = staff()
    pass_second_factor(client, admin)
    page = client.get("/staff/payouts/")
    field = f"amount-{sold['payable'].id}"
    assert page.status_code == 200 and f'name="{field}"' in page.content.decode()

    too_much = client.post("/staff/payouts/", {"currency": "usd", field: "30.01"})
    assert too_much.status_code == 400
    assert "ana is owed 30.00 USD: 30.01 USD would pay out more than their balance." in too_much.content.decode()
    assert 'value="30.01"' in too_much.content.decode()  # kept beside the field, to correct it
    assert client.post("/staff/payouts/", {"currency": "usd", field: "12.345"}).status_code == 400
    assert client.post("/staff/payouts/", {"currency": "usd"}).status_code == 400
    assert not PayoutBatch.objects.exists()

    created = client.post("/staff/payouts/", {"currency": "usd", field: "25"})
    batch = PayoutBatch.objects.get()
    assert created.status_code == 302 and created["Location"] == f"/staff/payouts/{batch.id}/"
    assert ledger.owed(sold["payable"], "usd") == 500
    missing = client.post(f"/staff/payouts/{batch.id}/", {"reference": ""})
    assert missing.status_code == 400 and "reference" in missing.content.decode()
    assert client.post(f"/staff/payouts/{batch.id}/", {"reference": "SEPA-7"}).status_code == 302
    batch.refresh_from_db()
    assert (batch.status, batch.reference) == ("paid", "SEPA-7")
    # A paid batch reads as paid out in Korean, not as "paid" the price ("유료").
    client.cookies["django_language"] = "ko"
    batches = client.get("/staff/payouts/").content.decode().split('id="payout-batches"')[1]
    assert "지급 완료" in batches and "유료" not in batches
    # The batch's day as Korean writes it, year first (it read "4 12월 2026").
    created_at = timezone.localtime(batch.created_at)
    korean_day = f"{created_at.year}. {created_at.month}. {created_at.day}. {created_at:%H:%M}"
    assert korean_day in batches and f"{created_at.day} {created_at.month}월" not in batches
    del client.cookies["django_language"]

    client.force_login(sold["ana"])
    figures = client.get("/api/v1/me/earnings").json()
    assert figures["totals"][0]["paidOutCents"] == 2_500 and figures["totals"][0]["balanceCents"] == 500
    assert figures["payouts"][0] | {"createdAt": None, "paidAt": None} == {
        "batchId": batch.id, "amountCents": 2_500, "currency": "usd", "status": "paid", "reference": "SEPA-7",
        "createdAt": None, "paidAt": None,
    }  # fmt: skip
    assert "SEPA-7" in client.get("/account/earnings/").content.decode()
