"""The licensing pages with Django's test client: the dataset page's access panel and its forms,
the licensee's receipts, and the organization's invoices, access requests and analytics."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

import pytest
from django.test import Client

from licensing.models import AccessRequest, DownloadRecord, Invoice, LicenseGrant
from marketplace.models import Membership, User
from tests.factories import organization, stored_dataset
from tests.second_factor import pass_second_factor

pytestmark = pytest.mark.django_db
ARCHIVE = b"\x1f\x8b page archive"


def signed_in(user: User) -> Client:
    client = Client()
    pass_second_factor(client, user)  # owners decide on requests and mark invoices paid with one
    return client


def test_accepting_needs_every_box_then_records_a_web_grant_and_downloads(make_user: Callable[..., User]) -> None:
    user = make_user()
    dataset = stored_dataset("page-terms", ARCHIVE, restrictions="No voice cloning.", forbidden_usage="No ads.")
    client = signed_in(user)
    page = client.get(f"/datasets/{dataset.slug}/").content.decode()
    assert "I accept the restrictions" in page and "I accept the forbidden usage" in page
    digest = page.split('name="terms_sha256" value="')[1][:64]

    partial = client.post(f"/datasets/{dataset.slug}/accept/", {"terms_sha256": digest, "accept_license": "on"})
    assert partial.status_code == 400
    assert "Tick the box to accept the restrictions." in partial.content.decode()
    assert not LicenseGrant.objects.exists()

    boxes = {"accept_license": "on", "accept_restriction_0": "on", "accept_restriction_1": "on"}
    stale = client.post(f"/datasets/{dataset.slug}/accept/", {"terms_sha256": "0" * 64, **boxes})
    assert stale.status_code == 400 and "The terms changed while you read them" in stale.content.decode()

    accepted = client.post(
        f"/datasets/{dataset.slug}/accept/", {"terms_sha256": digest, **boxes}, HTTP_USER_AGENT="Browser/1"
    )
    assert accepted.status_code == 302
    grant = LicenseGrant.objects.get(user=user)
    assert (grant.source, grant.terms_sha256, grant.user_agent) == ("web", digest, "Browser/1")
    assert hashlib.sha256(grant.terms_text.encode()).hexdigest() == digest

    download = client.post(f"/datasets/{dataset.slug}/download/")
    assert download.status_code == 302 and "X-Amz-Signature" in download["Location"]
    assert DownloadRecord.objects.get(user=user).grant == grant

    receipt = client.get(f"/account/licenses/{grant.id}/receipt.json")
    body = json.loads(receipt.content)
    assert receipt["Content-Disposition"] == f'attachment; filename="license-receipt-{grant.id}.json"'
    assert hashlib.sha256(body["termsText"].encode()).hexdigest() == body["termsSha256"] == digest
    assert signed_in(make_user()).get(f"/account/licenses/{grant.id}/receipt.json").status_code == 404
    assert "page-terms" in client.get("/account/licenses/").content.decode()


def test_access_request_form_errors_sit_beside_fields_and_owner_rejects(make_user: Callable[..., User]) -> None:
    owner, user = make_user(), make_user()
    org = organization("page-clinic", owner=owner)
    dataset = stored_dataset("page-restricted", ARCHIVE, org=org, visibility="restricted")
    client = signed_in(user)
    empty = client.post(f"/datasets/{dataset.slug}/request-access/", {"full_name": "Ann"})
    assert empty.status_code == 400 and "This field is required." in empty.content.decode()
    client.post(
        f"/datasets/{dataset.slug}/request-access/",
        {"full_name": "Ann", "organization_name": "Uni", "intended_use": "Research"},
    )
    item = AccessRequest.objects.get(user=user)
    assert "pending" in client.get(f"/datasets/{dataset.slug}/").content.decode()

    # Only the organization's owners and admins see or decide requests.
    assert client.get(f"/organizations/{org.slug}/access-requests/").status_code == 403
    owner_client = signed_in(owner)
    url = f"/organizations/{org.slug}/access-requests/{item.id}/reject/"
    asked = owner_client.post(url, {"reason": "Not a research use."})  # the row's button: a confirmation first
    assert asked.status_code == 200 and "Yes, reject the request" in asked.content.decode()
    assert AccessRequest.objects.get(id=item.id).status == "pending"
    no_reason = owner_client.post(url, {"reason": "", "confirm": "yes"})
    assert no_reason.status_code == 400 and "Give a reason" in no_reason.content.decode()
    owner_client.post(url, {"reason": "Not a research use.", "confirm": "yes"})
    item.refresh_from_db()
    assert (item.status, item.reason, item.decided_by) == ("rejected", "Not a research use.", owner)
    assert "Not a research use." in client.get(f"/datasets/{dataset.slug}/").content.decode()


def test_invoice_marked_paid_in_the_browser_and_analytics(make_user: Callable[..., User]) -> None:
    owner, user, admin = make_user(), make_user(), make_user()
    org = organization("page-shop", owner=owner)
    Membership.objects.create(organization=org, user=admin, role="admin")
    dataset = stored_dataset("page-paid", ARCHIVE, org=org, is_paid=True, base_price_cents=1999)
    client = signed_in(user)
    client.post(f"/datasets/{dataset.slug}/buy/")
    invoice = Invoice.objects.get(user=user)
    assert invoice.amount_cents == 1999 + 100
    assert invoice.id in client.get(f"/datasets/{dataset.slug}/").content.decode()
    assert client.post(f"/datasets/{dataset.slug}/download/").status_code == 302
    assert not DownloadRecord.objects.exists()  # refused: back to the page with the 402 message

    assert client.post(f"/organizations/{org.slug}/invoices/{invoice.id}/paid/").status_code == 403
    signed_in(admin).post(f"/organizations/{org.slug}/invoices/{invoice.id}/paid/", {"reference": "TX-9"})
    invoice.refresh_from_db()
    assert invoice.status == "paid" and invoice.payment.recorded_by == admin
    assert "X-Amz-Signature" in client.post(f"/datasets/{dataset.slug}/download/")["Location"]

    analytics = signed_in(owner).get(f"/organizations/{org.slug}/downloads/").content.decode()
    assert "1 download issued" in analytics and "<svg" in analytics and "<rect" in analytics
    assert (
        'href="/datasets/page-paid/">Page-Paid</a></td><td data-label="Downloads">1</td>'
        '<td data-label="Licensees">1</td>'
    ) in analytics
    assert client.get(f"/organizations/{org.slug}/downloads/").status_code == 403
