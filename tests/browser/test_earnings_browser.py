"""In chromium: a contributor opens their earnings page, Chart.js draws the same figures the
table holds, and the CSV statement downloads with every movement."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from licensing.revenue import refunds
from marketplace.models import User
from tests.browser.conftest import open_menu
from tests.browser.test_submission_browser import log_in
from tests.licensing.revenue.test_ledger import approved_submission, paid_dataset, pay

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_contributor_sees_the_chart_table_and_statement(page: Any, live_server: Any, tmp_path: Path) -> None:
    User.objects.create_user(username="ana", email="ana@example.org", password="ana-password-123")
    dataset = paid_dataset(price_cents=2_000, slug="browser-paid")
    approved_submission(
        dataset,
        [{"username": "ana", "basisPoints": 6_000}, {"name": "Bo", "email": "bo@example.org", "basisPoints": 4_000}],
    )
    refunded = pay(dataset)
    pay(dataset)
    refunds.refund_payment(invoice_id=refunded.invoice_id, refunded_by=None, reason="Bought twice by mistake.")

    log_in(page, "ana", "ana-password-123")
    open_menu(page)
    page.get_by_role("link", name="Earnings").click()
    expect(page.get_by_role("heading", name="My earnings")).to_be_visible()
    # The chart drew one series (the dataset) from the page's own figures.
    expect(page.locator("#earnings-chart")).to_have_attribute("data-chart-ready", "1")
    size = page.locator("#earnings-chart").bounding_box()
    assert size is not None and size["width"] > 100 and size["height"] > 50
    expect(page.locator("#earnings-totals")).to_contain_text("24.00 USD")  # 2 x 12.00 earned
    expect(page.locator("#earnings-totals")).to_contain_text("12.00 USD")  # balance after the refund
    expect(page.locator("#earnings-by-dataset")).to_contain_text("Browser-Paid")

    with page.expect_download() as info:
        page.get_by_role("button", name="Download CSV").click()
    target = tmp_path / info.value.suggested_filename
    info.value.save_as(target)
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert [(r["kind"], r["amount"], r["balance"]) for r in rows] == [
        ("payment", "12.00", "12.00"),
        ("payment", "12.00", "24.00"),
        ("refund", "-12.00", "12.00"),
    ]
