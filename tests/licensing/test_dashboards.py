"""A licensee's invoices and access requests, an organization's dashboard (licensing/dashboards.py)
and the staff admin (marketplace/admin.py and its siblings), through the Django test client."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib import admin
from django.test import Client
from rest_framework.test import APIClient

from licensing.access import access_requests
from licensing.models import DownloadRecord, LedgerEntry, LicenseGrant
from licensing.revenue import payments
from marketplace.models import Membership, User
from tests.factories import organization, published_dataset
from tests.licensing.revenue.test_ledger import licensee, paid_dataset, pay

pytestmark = pytest.mark.django_db


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_my_invoices_lists_each_invoice_with_its_state_and_amount_in_units(
    django_assert_max_num_queries: Any,
) -> None:
    buyer = licensee()
    paid = paid_dataset(price_cents=15_000)
    pay(paid, buyer)
    for _ in range(5):
        payments.open_invoice(user=buyer, dataset=paid_dataset(price_cents=2_000))
    other = licensee()
    payments.open_invoice(user=other, dataset=paid_dataset(price_cents=9_900, slug="not-mine"))
    client = signed_in(buyer)
    with django_assert_max_num_queries(8):
        response = client.get("/account/invoices/")
    page = response.content.decode()
    assert page.count('id="invoice-') == 6
    assert "157.50 USD" in page
    assert "Paid" in page and "Payment instructions" in page
    assert "not-mine" not in page
    assert "cents" not in page


def test_my_access_requests_show_the_decision_and_its_reason(make_user: Callable[..., User]) -> None:
    owner = make_user("keeper")
    org = organization("keep-co", owner=owner)
    requester = make_user("curious")
    reasons = {}
    for number in range(3):
        dataset = published_dataset(f"restricted-{number}", org=org, visibility="restricted")
        item = access_requests.request_access(
            user=requester,
            dataset=dataset,
            full_name="Ada Lovelace " * 15,
            organization_name="Lab",
            intended_use="Study",
        )
        if number == 1:
            access_requests.reject(request_id=item.id, by=owner, reason="Only for partners.")
            reasons[item.id] = "Only for partners."
        if number == 2:
            access_requests.approve(request_id=item.id, by=owner)
    page = signed_in(requester).get("/account/access-requests/").content.decode()
    assert page.count('id="access-request-') == 3
    assert "Only for partners." in page
    assert "Waiting for a decision" in page and "Approved" in page and "Refused" in page
    assert 'href="/datasets/restricted-0/"' in page


def test_the_api_lists_the_callers_invoices_and_access_requests(make_user: Callable[..., User], bearer: Any) -> None:
    buyer = licensee()
    paid = paid_dataset(price_cents=15_000)
    pay(paid, buyer)
    waiting, _ = payments.open_invoice(user=buyer, dataset=paid_dataset(price_cents=2_000))
    payments.open_invoice(user=licensee(), dataset=paid_dataset(price_cents=3_000))
    owner = make_user("gate")
    gated = published_dataset("gated-api", org=organization("gate-api", owner=owner), visibility="restricted")
    item = access_requests.request_access(
        user=buyer, dataset=gated, full_name="Ada", organization_name="Lab", intended_use="Study"
    )
    access_requests.reject(request_id=item.id, by=owner, reason="Partners only.")
    _, key = bearer("read", user=buyer)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    invoices = client.get("/api/v1/me/invoices").json()["items"]
    assert [(i["invoiceId"], i["status"]) for i in invoices][0] == (waiting.id, "open")
    assert {i["status"] for i in invoices} == {"open", "paid"} and len(invoices) == 2
    assert invoices[0]["instructions"]
    requests = client.get("/api/v1/me/access-requests").json()["items"]
    assert [(r["datasetId"], r["status"], r["reason"]) for r in requests] == [(gated.id, "rejected", "Partners only.")]
    assert APIClient().get("/api/v1/me/invoices").status_code in (401, 403)


def test_the_pages_of_a_person_need_sign_in() -> None:
    for url in ("/account/invoices/", "/account/access-requests/"):
        assert Client().get(url).status_code == 302


def test_the_dashboard_counts_what_waits_and_links_every_admin_page(
    make_user: Callable[..., User], django_assert_max_num_queries: Any
) -> None:
    owner = make_user("chief")
    org = organization("dash-co", owner=owner)
    for number in range(3):
        dataset = published_dataset(f"dash-{number}", org=org, visibility="restricted")
        access_requests.request_access(
            user=make_user(), dataset=dataset, full_name="A", organization_name="B", intended_use="C"
        )
    paid = published_dataset("dash-paid", org=org, is_paid=True, base_price_cents=1_000)
    payments.open_invoice(user=licensee(), dataset=paid)
    client = signed_in(owner)
    with django_assert_max_num_queries(20):
        response = client.get("/organizations/dash-co/dashboard/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "3 waiting for a decision" in page
    assert "1 not yet paid" in page
    for link in ("access-requests/", "invoices/", "revenue/", "downloads/", "withdrawals/", "contributors/",
                 "members/", "move/"):  # fmt: skip
        assert f'href="/organizations/dash-co/{link}"' in page, link
    organization_page = client.get("/organizations/dash-co/").content.decode()
    assert 'href="/organizations/dash-co/dashboard/"' in organization_page


def test_the_dashboard_is_for_owners_admins_and_staff_only(make_user: Callable[..., User]) -> None:
    org = organization("closed-co", owner=make_user("boss"))
    member, admin_user = make_user("plain"), make_user("second")
    Membership.objects.create(organization=org, user=member, role="member")
    Membership.objects.create(organization=org, user=admin_user, role="admin")
    assert signed_in(member).get("/organizations/closed-co/dashboard/").status_code == 403
    assert signed_in(make_user("stranger")).get("/organizations/closed-co/dashboard/").status_code == 403
    assert signed_in(admin_user).get("/organizations/closed-co/dashboard/").status_code == 200
    assert signed_in(make_user("ops", is_staff=True)).get("/organizations/closed-co/dashboard/").status_code == 200
    assert "dashboard/" not in signed_in(member).get("/organizations/closed-co/").content.decode()


# --- The admin ------------------------------------------------------------------------------------


@pytest.fixture
def superuser_client(make_user: Callable[..., User]) -> Client:
    return signed_in(make_user("root", is_staff=True, is_superuser=True))


@pytest.mark.parametrize(
    "model", list(admin.site._registry), ids=lambda model: f"{model._meta.app_label}.{model.__name__}"
)
def test_staff_open_the_list_of_every_registered_model(model: Any, superuser_client: Client) -> None:
    buyer = licensee()
    pay(paid_dataset(price_cents=1_000), buyer)  # rows for the money and evidence lists
    url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
    response = superuser_client.get(url)
    assert response.status_code == 200, url


def test_the_admin_is_branded(superuser_client: Client) -> None:
    from django.conf import settings

    assert f"{settings.SITE_NAME} administration" in superuser_client.get("/admin/").content.decode()


@pytest.mark.parametrize("model", [LicenseGrant, LedgerEntry, DownloadRecord])
def test_evidence_cannot_be_changed_or_deleted_in_the_admin(model: Any, superuser_client: Client) -> None:
    buyer = licensee()
    pay(paid_dataset(price_cents=1_000), buyer)
    row = model.objects.first()
    if row is None:  # no download yet: record one the way a download does
        grant = LicenseGrant.objects.get(user=buyer)
        row = DownloadRecord.objects.create(
            user=buyer, dataset=grant.dataset, version=grant.version, grant=grant, kind="archive", basis="grant"
        )
    base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/{row.pk}"
    change = superuser_client.post(f"{base}/change/", {})
    assert change.status_code == 403
    assert superuser_client.post(f"{base}/delete/", {"post": "yes"}).status_code == 403
    assert model.objects.filter(pk=row.pk).exists()
    assert superuser_client.get(f"/admin/{model._meta.app_label}/{model._meta.model_name}/add/").status_code == 403
