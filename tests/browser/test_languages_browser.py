"""In chromium: the language switcher. Korean on the catalog (language names and counts in the
filters, the counts following a ticked filter), the dataset page in Korean, then Spanish and back
to English, each time on the same page; the header and the catalog looked at 1366 and 390 pixels
wide (screenshots go to $SCREENSHOT_DIR when set)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.test_catalog_browser import datasets  # noqa: F401 (the fixture)
from tests.browser.test_ways_back_browser import fits

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def switch_to(page: Any, language: str, button: str) -> None:
    page.locator("#language-switcher").select_option(language)
    page.get_by_role("button", name=button, exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", language)


def expect_count(page: Any, checkbox_name: str, count: int) -> None:
    """The count beside a filter option: the number shown, read out as ", 2 datasets"."""
    checkbox = page.get_by_role("checkbox", name=checkbox_name)
    expect(page.locator(f"#{checkbox.get_attribute('id')}-count")).to_have_text(re.compile(rf"^, {count}\D"))


def test_switch_to_korean_on_the_catalog_then_spanish_and_back(page: Any, datasets: None) -> None:  # noqa: F811
    page.goto("/datasets/?task=ASR")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect_count(page, "Welsh", 1)

    switch_to(page, "ko", "Change")
    # Back on the same page, with the same search.
    expect(page).to_have_url(re.compile(r"/datasets/\?task=ASR$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("데이터셋")
    expect(page.get_by_role("heading", name="데이터셋 2개")).to_be_visible()
    expect(page.get_by_role("group", name="언어")).to_be_visible()
    # Language names in Korean, each with how many datasets it would list beside the task chosen.
    expect_count(page, "웨일스어", 1)
    expect_count(page, "영어", 1)
    expect(page.get_by_role("checkbox", name="자동 음성 인식 (ASR)")).to_be_checked()
    expect_count(page, "자연어 처리 (NLP)", 1)  # the task facet ignores its own choice
    fits(page, "catalog-ko")

    # Ticking Welsh updates the results and the other facets' counts in place.
    page.evaluate("window.stillTheSamePage = true")
    page.get_by_role("checkbox", name="웨일스어").check()
    expect(page.get_by_role("heading", name="데이터셋 1개")).to_be_visible()
    expect_count(page, "자연어 처리 (NLP)", 1)
    expect_count(page, "자동 음성 인식 (ASR)", 1)
    page.get_by_role("checkbox", name="자동 음성 인식 (ASR)").uncheck()
    expect(page.get_by_role("heading", name="데이터셋 2개")).to_be_visible()
    expect_count(page, "영어", 1)  # English speech, beside no task chosen
    assert page.evaluate("window.stillTheSamePage") is True

    # The dataset page, in Korean.
    page.get_by_role("link", name="Welsh Speech Recordings").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Welsh Speech Recordings")
    expect(page.get_by_role("navigation", name="데이터셋 섹션")).to_be_visible()
    expect(page.get_by_role("link", name="카드")).to_be_visible()
    expect(page.locator("#card")).to_contain_text("웨일스어 (cy)")
    expect(page.locator("#card")).to_contain_text("설명")
    fits(page, "dataset-ko")

    switch_to(page, "es", "변경")
    expect(page).to_have_url(re.compile(r"/datasets/welsh-speech/$"))
    expect(page.locator("#card")).to_contain_text("galés (cy)")
    expect(page.get_by_role("link", name="Conjuntos de datos").first).to_be_visible()
    page.goto("/datasets/")
    expect(page.get_by_role("heading", name="3 conjuntos de datos")).to_be_visible()
    expect_count(page, "galés", 2)
    fits(page, "catalog-es")

    switch_to(page, "en", "Cambiar")
    expect(page).to_have_url(re.compile(r"/datasets/$"))
    expect(page.get_by_role("heading", name="3 datasets")).to_be_visible()
    expect_count(page, "Welsh", 2)
