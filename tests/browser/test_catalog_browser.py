"""In chromium: search and filter the catalog live, open a dataset, come back to the same search."""

from __future__ import annotations

import hashlib
import re
from typing import Any

import pytest
from django.core.cache import cache
from playwright.sync_api import expect

from licensing.licenses import Permissions, create_license
from marketplace.models import User
from marketplace.organizations.services import create_organization
from marketplace.publishing import create_dataset, publish_version

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def datasets(transactional_db: None) -> None:
    cache.clear()
    owner = User.objects.create_user(username="owner", email="owner@example.org", password="a-long-password-1")
    org = create_organization(name="Speech Co", slug="speech-co", owner=owner)
    terms = create_license(
        spdx_id="CC-BY-4.0",
        name="CC BY 4.0",
        text="Attribution terms.",
        permissions=Permissions(True, True, True, True, True, False),
    )
    specs = [
        ("welsh-speech", "Welsh Speech Recordings", "ASR", "cy"),
        ("welsh-text", "Welsh Text Corpus", "NLP", "cy"),
        ("english-speech", "English Speech Recordings", "ASR", "en"),
    ]
    for slug, name, task, locale in specs:
        dataset = create_dataset(
            organization=org, slug=slug, name=name, task=task, locale=locale, format="TSV",
            short_description=f"{name} for tests.",
        )  # fmt: skip
        publish_version(
            dataset=dataset,
            archive_key=f"published/{dataset.id}/a.tar.gz",
            size_bytes=1000,
            sha256=hashlib.sha256(slug.encode()).hexdigest(),
            license=terms,
        )
    cache.clear()


def _results(page: Any) -> Any:
    return page.locator("#results h3 a")


def test_live_search_and_filters_survive_a_visit_to_a_dataset(page: Any, datasets: None) -> None:
    page.goto("/datasets/")
    expect(page.get_by_role("heading", name="3 datasets")).to_be_visible()
    # A marker on the window: it survives only if the page is updated in place, not reloaded.
    page.evaluate("window.stillTheSamePage = true")

    search = page.get_by_role("searchbox", name="Search", exact=True)
    search.fill("welsh")
    expect(page.get_by_role("heading", name="2 datasets")).to_be_visible()
    expect(_results(page)).to_have_text(["Welsh Text Corpus", "Welsh Speech Recordings"])  # equal rank: newest first
    expect(page).to_have_url(re.compile(r"/datasets/\?q=welsh$"))  # empty fields stay out of the URL

    asr = page.get_by_role("checkbox", name="Automatic speech recognition (ASR)")
    asr.check()
    expect(page.get_by_role("heading", name="1 dataset", exact=True)).to_be_visible()
    expect(_results(page)).to_have_text(["Welsh Speech Recordings"])
    expect(page).to_have_url(re.compile(r"/datasets/\?q=welsh&task=ASR$"))
    assert page.evaluate("window.stillTheSamePage") is True
    expect(page.get_by_role("status")).to_have_text("1 dataset")  # announced to screen readers

    _results(page).first.click()
    page.wait_for_url("**/datasets/welsh-speech/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Welsh Speech Recordings")

    page.go_back()
    expect(page).to_have_url(re.compile(r"/datasets/\?q=welsh&task=ASR$"))
    expect(page.get_by_role("searchbox", name="Search", exact=True)).to_have_value("welsh")
    expect(page.get_by_role("checkbox", name="Automatic speech recognition (ASR)")).to_be_checked()
    expect(page.get_by_role("checkbox", name="Natural language processing (NLP)")).not_to_be_checked()
    expect(_results(page)).to_have_text(["Welsh Speech Recordings"])

    # Back once more, inside the catalog: the state before the tick, form and results alike.
    page.go_back()
    expect(page).to_have_url(re.compile(r"/datasets/\?q=welsh$"))
    expect(page.get_by_role("checkbox", name="Automatic speech recognition (ASR)")).not_to_be_checked()
    expect(page.get_by_role("searchbox", name="Search", exact=True)).to_have_value("welsh")
    expect(_results(page)).to_have_text(["Welsh Text Corpus", "Welsh Speech Recordings"])


def test_the_form_works_without_javascript(browser: Any, live_server: Any, datasets: None) -> None:
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto("/datasets/")
        page.get_by_role("searchbox", name="Search", exact=True).fill("speech")
        page.get_by_role("checkbox", name="English").check()
        page.get_by_role("button", name="Show datasets").click()
        expect(page).to_have_url(re.compile(r"q=speech.*locale=en"))
        expect(_results(page)).to_have_text(["English Speech Recordings"])
        expect(page.get_by_role("checkbox", name="English")).to_be_checked()
    finally:
        context.close()
