"""In chromium, on a laptop and a phone: a dataset's page shows the contributors' consent beside
its license, and a permission the consent does not cover reads as not allowed."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from licensing.consent import terms as consent
from licensing.consent.inputs import ConsentTermsInput
from tests.world import CONSENT, World

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(("width", "height"), [(1366, 900), (390, 844)], ids=["laptop", "phone"])
def test_the_consent_stands_beside_the_license(
    page: Any, world: World, width: int, height: int, tmp_path: Path
) -> None:
    # Terms recorded before a license had to stay within the consent: no redistribution.
    terms = consent.set_consent_terms(
        submission=world.submissions["valley-speech-v3"],
        user=world.member("valley", "member"),
        terms=ConsentTermsInput.from_json({**CONSENT, "redistribution": False}),
    )
    page.set_viewport_size({"width": width, "height": height})
    page.goto(f"/datasets/{world.datasets['valley-speech'].slug}/#license")

    table = page.get_by_test_id("license-and-consent")
    expect(table).to_be_visible()
    redistribution = table.get_by_role("row", name="Redistribution")
    expect(redistribution).to_contain_text("allows it, but the contributors did not consent: not allowed")
    expect(redistribution).to_contain_text("not consented")
    expect(table.get_by_role("row", name="AI training")).to_contain_text("consented")
    expect(page.locator(".permission-badges")).to_contain_text("Redistribution: no: not consented")
    facts = page.get_by_test_id("consent-terms")
    expect(facts.locator(f'code[title="{terms.consent_text_sha256}"]')).to_have_text(
        f"{terms.consent_text_sha256[:12]}…"
    )
    expect(facts).to_contain_text("from 1 January 2025 to 30 June 2025")
    expect(page.get_by_text("Write to us with your id.")).to_be_visible()
    # The page itself fits the screen: nothing scrolls sideways.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shots = Path(os.environ.get("DC_SCREENSHOTS", tmp_path))
    page.locator("#license").scroll_into_view_if_needed()
    page.screenshot(path=str(shots / f"consent-{width}.png"), full_page=True)
