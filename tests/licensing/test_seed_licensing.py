"""``manage.py seed_demo`` shows the licensing flows, once, however often it runs."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from licensing.models import AccessRequest, Invoice, LicenseGrant

pytestmark = pytest.mark.django_db


def test_seed_demo_opens_a_grant_an_invoice_and_a_request_once() -> None:
    call_command("seed_demo", verbosity=0)
    call_command("seed_demo", verbosity=0)
    assert list(LicenseGrant.objects.values_list("user__username", "dataset__slug")) == [
        ("demo-licensee", "tiny-welsh-speech")
    ]
    invoice = Invoice.objects.get()
    assert (invoice.dataset.slug, invoice.status, invoice.amount_cents) == ("support-dialogues", "open", 26_250)
    assert AccessRequest.objects.get().status == "pending"
    call_command("mark_invoice_paid", invoice.id)
    assert LicenseGrant.objects.filter(dataset__slug="support-dialogues", source="payment").count() == 1
