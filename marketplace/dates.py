"""Dates as each language writes them, for pages and for the messages that name a day:
"3 December 2026", "2026년 12월 3일", "3 de diciembre de 2026"; in a table "3 Dec 2026" and
"2026. 12. 3." (Korean puts the year first, never "3 12월 2026"). Django's own English
DATE_FORMAT, "Dec. 3, 2026", is not how these pages write English. An aware datetime is shown in
the current time zone, as Django's ``date`` filter shows it."""

from __future__ import annotations

from datetime import date, datetime

from django.utils import timezone, translation
from django.utils.formats import date_format

LONG_DATES = {"en": "j F Y", "ko": "Y년 n월 j일", "es": r"j \d\e F \d\e Y"}
SHORT_DATES = {"en": "j M Y", "ko": "Y. n. j.", "es": "j M Y"}
SHORT_DATETIMES = {language: f"{form} H:i" for language, form in SHORT_DATES.items()}
DAYS_OF_MONTH = {"en": "j M", "ko": "n월 j일", "es": "j M"}


def _formatted(value: date | datetime | None, formats: dict[str, str]) -> str:
    if not value:
        return ""
    if isinstance(value, datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    language = (translation.get_language() or "en").split("-")[0]
    return date_format(value, formats.get(language, formats["en"]))


def long_date(value: date | datetime | None) -> str:
    """The date in words: "3 December 2026", "2026년 12월 3일"."""
    return _formatted(value, LONG_DATES)


def short_date(value: date | datetime | None) -> str:
    """The date in a table or a sentence: "3 Dec 2026", "2026. 12. 3."."""
    return _formatted(value, SHORT_DATES)


def short_datetime(value: datetime | None) -> str:
    """The date and the time (24-hour): "3 Dec 2026 09:30", "2026. 12. 3. 09:30"."""
    return _formatted(value, SHORT_DATETIMES)


def day_month(value: date | datetime | None) -> str:
    """A day of the year without the year: "3 Dec", "12월 3일"."""
    return _formatted(value, DAYS_OF_MONTH)
