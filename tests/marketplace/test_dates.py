"""Dates as each language writes them (marketplace.dates): Korean puts the year first."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.test import override_settings
from django.utils import translation

from marketplace import dates

MOMENT = datetime(2026, 12, 4, 23, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("language", "short", "moment", "day", "long"),
    [
        ("en", "4 Dec 2026", "4 Dec 2026 23:30", "4 Dec", "4 December 2026"),
        ("ko", "2026. 12. 4.", "2026. 12. 4. 23:30", "12월 4일", "2026년 12월 4일"),
        ("es", "4 Dic 2026", "4 Dic 2026 23:30", "4 Dic", "4 de diciembre de 2026"),
    ],
)
def test_each_language_writes_a_day_its_own_way(language: str, short: str, moment: str, day: str, long: str) -> None:
    with translation.override(language):
        assert dates.short_date(MOMENT) == short
        assert dates.short_datetime(MOMENT) == moment
        assert dates.day_month(date(2026, 12, 4)) == day
        assert dates.long_date(MOMENT) == long


@override_settings(TIME_ZONE="Asia/Seoul")
def test_an_aware_moment_is_shown_in_the_instance_time_zone() -> None:
    # 23:30 UTC on the 4th is 08:30 on the 5th in Seoul: the day changes with the time zone.
    with translation.override("ko"):
        assert dates.short_datetime(MOMENT) == "2026. 12. 5. 08:30"
        assert dates.short_date(MOMENT) == "2026. 12. 5."


def test_no_date_is_an_empty_string() -> None:
    assert dates.short_date(None) == "" and dates.short_datetime(None) == ""
