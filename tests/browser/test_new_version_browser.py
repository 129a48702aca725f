"""In chromium: a member of the dataset's organization presses "New version" on the dataset page
and lands on the prefilled draft; the version list shows each version's changelog, at a laptop's
width and a phone's, with nothing of the section wider than the screen.

Set ``SCREENSHOT_DIR`` to keep the screenshots (the README's are made this way)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from marketplace.models import Submission
from marketplace.organizations.services import add_member, approve_organization
from marketplace.publishing import publish_version
from tests import factories
from tests.browser.test_submission_browser import log_in
from tests.factories import verified_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = [(1366, 900), (390, 844)]  # a laptop, a phone


def test_new_version_button_and_changelog(page: Any, live_server: Any, tmp_path: Path) -> None:
    organization = approve_organization(organization=factories.organization("voices"))
    member = verified_user("contrib", email="contrib@example.org", password="contrib-password-1")
    add_member(organization=organization, user=member, role="member")
    dataset = factories.published_dataset(
        "valley-speech", org=organization, name="Valley Speech", short_description="Read speech in Welsh."
    )
    publish_version(
        dataset=dataset, archive_key=f"published/{dataset.id}/v2.tar.gz", size_bytes=2_048_000, sha256="b" * 64,
        license=factories.license_for("CC-BY-4.0"),
        changelog="Removed the clips of speaker c-002, who withdrew consent.\nFixed 14 transcripts.",
    )  # fmt: skip

    log_in(page, "contrib", "contrib-password-1")
    shots: list[Path] = []
    for width, height in WIDTHS:
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"/datasets/{dataset.slug}/")
        page.locator("nav.tabs").get_by_role("link", name="Versions").click()  # the page opens on the card
        versions = page.locator("section#versions")
        assert "Fixed 14 transcripts." in versions.inner_text()
        assert page.get_by_role("button", name="New version").is_visible()
        # Nothing of the section reaches past the screen (the table scrolls inside itself).
        overflowing = page.evaluate(
            """(width) => [...document.querySelectorAll('section#versions *')]
                .filter((el) => !el.closest('table') && el.getBoundingClientRect().right > width + 1)
                .map((el) => el.tagName + '.' + el.className)""",
            width,
        )
        assert overflowing == []
        versions.scroll_into_view_if_needed()
        shot = tmp_path / f"dataset-versions-{width}.png"
        versions.screenshot(path=str(shot))
        shots.append(shot)

    page.get_by_role("button", name="New version").click()
    page.wait_for_url("**/submissions/*/")
    draft = Submission.objects.get(dataset=dataset)
    assert page.url.endswith(f"/submissions/{draft.id}/")
    assert page.get_by_label("What changed in this version").is_visible()
    assert page.locator("#id_name").input_value() == "Valley Speech"

    target = os.environ.get("SCREENSHOT_DIR")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        for shot in shots:
            shutil.copy(shot, Path(target) / shot.name)
