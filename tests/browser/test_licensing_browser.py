"""In chromium: accept a dataset's terms then download it; request access to a restricted
dataset, approve it as the owner, then download. The bytes come from real storage."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from licensing.models import AccessRequest, DownloadRecord, LicenseGrant
from tests.browser.conftest import open_menu
from tests.browser.test_submission_browser import log_in
from tests.factories import organization, stored_dataset, tar_gz, verified_user
from tests.second_factor import enroll_second_factor

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
ARCHIVE = tar_gz({"train.tsv": b"path\tsentence\na.wav\tBore da.\n"})


def _download(page: Any, tmp_path: Path) -> str:
    with page.expect_download() as info:
        page.get_by_role("button", name="Download").click()
    target = tmp_path / info.value.suggested_filename
    info.value.save_as(target)
    return hashlib.sha256(target.read_bytes()).hexdigest()


def test_accept_the_terms_then_download(page: Any, live_server: Any, tmp_path: Path) -> None:
    verified_user("licensee", email="l@example.org", password="licensee-password-1")
    dataset = stored_dataset("browser-free", ARCHIVE, restrictions="No voice cloning.")
    log_in(page, "licensee", "licensee-password-1")
    page.goto(f"/datasets/{dataset.slug}/")
    page.get_by_role("button", name="Accept the terms").click()
    expect(page.get_by_text("Tick the box to accept the license")).to_be_visible()
    page.get_by_label("I accept the license").check()
    page.get_by_label("I accept the restrictions").check()
    page.get_by_role("button", name="Accept the terms").click()
    expect(page.get_by_text("You accepted the terms of Browser-Free")).to_be_visible()

    assert _download(page, tmp_path) == hashlib.sha256(ARCHIVE).hexdigest()
    grant = LicenseGrant.objects.get(user__username="licensee")
    assert grant.source == "web" and "Chrome" in grant.user_agent
    assert DownloadRecord.objects.get(user__username="licensee").grant == grant


def test_request_access_owner_approves_then_download(page: Any, live_server: Any, tmp_path: Path) -> None:
    owner = verified_user("owner", email="o@example.org", password="owner-password-1")
    enroll_second_factor(owner)  # deciding on access asks the owner's authenticator app
    verified_user("researcher", email="r@example.org", password="researcher-password-1")
    org = organization("browser-clinic", owner=owner)
    dataset = stored_dataset("browser-restricted", ARCHIVE, org=org, visibility="restricted")

    log_in(page, "researcher", "researcher-password-1")
    page.goto(f"/datasets/{dataset.slug}/")
    page.get_by_label("Your name").fill("Rhi Researcher")
    page.get_by_label("Your organization").fill("Aber Uni")
    page.get_by_label("Intended use").fill("Evaluating clinical NER.")
    page.get_by_role("button", name="Request access").click()
    expect(page.get_by_text("Your access request")).to_contain_text("pending")
    open_menu(page)
    page.get_by_role("button", name="Log out").click()

    log_in(page, "owner", "owner-password-1")
    page.goto(f"/organizations/{org.slug}/access-requests/")
    expect(page.get_by_text("Evaluating clinical NER.")).to_be_visible()
    page.get_by_role("button", name="Approve researcher").click()
    expect(page.get_by_text("approved", exact=False).first).to_be_visible()
    assert AccessRequest.objects.get(user__username="researcher").status == "approved"
    open_menu(page)
    page.get_by_role("button", name="Log out").click()

    log_in(page, "researcher", "researcher-password-1")
    page.goto(f"/datasets/{dataset.slug}/")
    page.get_by_label("I accept the license").check()
    page.get_by_role("button", name="Accept the terms").click()
    assert _download(page, tmp_path) == hashlib.sha256(ARCHIVE).hexdigest()
    assert DownloadRecord.objects.filter(user__username="researcher", basis="grant").count() == 1
