"""In chromium, the contributor's journey of issue 19: they open the claim link the organization
emailed them, sign up, see the dataset, the consent they gave and, after a sale, their earnings;
withdraw; and see version 2 published without their records, while the licensee's download of
version 1 answers 410 naming version 2."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import datacollective
import pytest
from playwright.sync_api import expect

from licensing.models import Invoice
from licensing.revenue import earnings, payments
from licensing.templatetags.ledger_money import money
from marketplace.models import Dataset, User
from tests.licensing.consent.test_rereleases import (
    _rerelease_done,
    world,  # noqa: F401 (the fixture)
)
from tests.licensing.contributors.test_self_withdrawal import publish

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_a_contributor_claims_sees_earns_and_withdraws(
    page: Any,
    world: dict[str, Any],  # noqa: F811 (the fixture, imported above)
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    mailoutbox: list[Any],
) -> None:
    owner = world["owner"]
    dataset_id = publish(
        world,
        tmp_path,
        datasheet={"isPaid": True, "basePriceCents": 10_000},
        split=[
            {"username": world["owner_user"].username, "basisPoints": 5_000},
            {"name": "Gwen", "email": "gwen@example.org", "basisPoints": 5_000},
        ],
    )
    made = owner(
        "POST",
        f"/api/v1/organizations/{world['org'].slug}/claims",
        json={"contributorId": "c-2", "payeeEmail": "gwen@example.org", "sendTo": "gwen@example.org"},
    )
    assert made.status_code == 201, made.text
    [mail] = [m for m in mailoutbox if m.to == ["gwen@example.org"]]
    link = re.search(r"https?://\S+/claim/\S+/", mail.body)
    assert link is not None, mail.body

    # The contributor opens the link, signs up from it and comes back to claim.
    page.goto(link.group(0))
    expect(page.get_by_role("heading", name="Claim your contributions")).to_be_visible()
    page.get_by_role("link", name="Sign up to claim").click()
    page.get_by_label("Username").fill("gwen")
    page.get_by_label("Email").fill("gwen@example.org")
    page.get_by_label("Password", exact=True).fill("gwen-password-123")
    page.get_by_label("Password again").fill("gwen-password-123")
    page.get_by_role("button", name="Sign up").click()
    page.get_by_role("button", name="Claim as gwen").click()
    expect(page.get_by_role("heading", name="My contributions")).to_be_visible()
    section = page.locator("#dataset-valley-voices")
    expect(section.get_by_role("heading", name="Valley Voices")).to_be_visible()
    expect(section).to_contain_text("c-2")
    expect(section.locator(".consent-text")).to_have_text("My recordings may train speech models.")
    expect(section).to_contain_text("Downloadable by licensees")

    # A sale: the licensee buys and downloads version 1; the contributor's half shows as earned.
    licensee = User.objects.get(username="licensee")
    invoice, _ = payments.open_invoice(user=licensee, dataset=Dataset.objects.get(id=dataset_id))
    payments.record_payment(invoice_id=invoice.id, recorded_by=None, reference="bank 42")
    assert Invoice.objects.get(id=invoice.id).status == "paid"
    monkeypatch.setenv("MDC_API_KEY", world["licensee_key"])
    datacollective.download_dataset(dataset_id, download_directory=str(tmp_path / "v1"), show_progress=False)
    [total] = earnings.earnings_for(earnings.accounts_of(User.objects.get(username="gwen"))).totals
    assert total.earned == 5_000
    page.reload()
    expect(page.locator("#earned")).to_be_visible()
    expect(page.get_by_role("table", name="Your earnings per currency")).to_contain_text(money(5_000, "usd"))
    expect(section.get_by_role("table", name=re.compile("per month"))).to_contain_text("1")

    # Withdrawing asks for confirmation; without it nothing happens and the reason stays.
    section.get_by_role("link", name="Withdraw from Valley Voices…").click()
    page.get_by_label("Why (optional)").fill("I moved away.")
    page.get_by_role("button", name="Withdraw my consent").click()
    # Said beside the box, and in the summary at the top, whose link leads to the box.
    expect(page.locator("#id_confirm_error")).to_have_text("Tick the box to confirm that you want to withdraw.")
    expect(page.locator(".error-summary a[href='#id_confirm']")).to_be_visible()
    expect(page.get_by_label("Why (optional)")).to_have_value("I moved away.")
    page.get_by_label(re.compile("^I understand")).check()
    page.get_by_role("button", name="Withdraw my consent").click()
    expect(page.get_by_text("Your consent is withdrawn from Valley Voices.")).to_be_visible()

    _rerelease_done(world, dataset_id, "published")
    page.reload()
    expect(section).to_contain_text("Withdrawn: no new downloads. Replaced by version 2.")
    expect(section).to_contain_text("version 2 published without your records")
    expect(section).to_contain_text("Licensees told to delete your records: 1")
    expect(section.get_by_role("link", name="Withdraw from Valley Voices…")).to_have_count(0)

    gone = world["licensee"]("POST", f"/api/v1/datasets/{dataset_id}/versions/1/files/archive/download")
    assert gone.status_code == 410 and "Use version 2" in gone.text
