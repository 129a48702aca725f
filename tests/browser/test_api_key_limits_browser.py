"""In chromium, on the account page: a key limited to chosen datasets (one ticked among the
person's own, one named by its short name), then a key limited to their organization; the new
key's page and the key list say what each reaches, and neither page scrolls sideways at 1366 or 390
pixels, even with a long dataset name."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from licensing.models import ApiKey
from marketplace.models import Membership
from tests.browser.test_ways_back_browser import fits, person, sign_in
from tests.factories import organization, published_dataset

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_keys_limited_to_datasets_and_to_an_organization(page: Any) -> None:
    member = person("pipeline-owner")
    lab = organization("listening-lab")
    Membership.objects.create(organization=lab, user=member, role="member")
    long_name = "Field recordings of " + "very " * 30 + "quiet rooms"
    own = published_dataset("quiet-rooms-" + "x" * 80, name=long_name, org=lab)
    published_dataset("other-rooms", name="Other Rooms", org=lab)
    public = published_dataset("open-birdsong", name="Open Birdsong", org=organization("birders"))

    sign_in(page, member)
    page.goto("/account/")
    page.get_by_label("Name", exact=True).fill("birds and rooms")
    page.get_by_label("Only these datasets").check()
    page.get_by_label(f"{long_name} ({own.slug}, {lab.name})").check()
    page.get_by_label("Other datasets").fill(public.slug)
    fits(page, "account-key-form")
    page.get_by_role("button", name="Create key").click()

    limit = page.get_by_test_id("key-limit")
    expect(limit).to_contain_text("Only the datasets")
    expect(limit).to_contain_text(own.slug)
    expect(limit).to_contain_text(public.slug)
    fits(page, "api-key-created")
    key = ApiKey.objects.get(user=member, name="birds and rooms")
    assert {d.slug for d in key.datasets.all()} == {own.slug, public.slug}

    page.get_by_role("link", name="Done").click()
    page.get_by_label("Name", exact=True).fill("the lab")
    page.get_by_label("One organization").check()
    page.get_by_label("Organization", exact=True).select_option(label=lab.name)
    page.get_by_role("button", name="Create key").click()
    expect(page.get_by_test_id("key-limit")).to_contain_text(f"Only the organization {lab.name}")

    page.get_by_role("link", name="Done").click()
    rows = page.locator(".keys-table tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator(f"#key-{key.id} [data-testid=key-limit]")).to_contain_text(public.slug)
    fits(page, "account-keys")
