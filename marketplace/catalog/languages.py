"""Locale codes as language names, in the viewer's language: ``cy`` reads "Welsh", "웨일스어" or
"galés". The names come from the Unicode CLDR through Babel; a tag Babel does not know keeps what
it can name (``xx-RU``: "xx (Russia)") and shows the rest as written."""

from __future__ import annotations

from functools import lru_cache

from babel import Locale, UnknownLocaleError
from django.utils import translation


def _babel(code: str) -> Locale | None:
    try:
        return Locale.parse(code.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return None


@lru_cache(maxsize=4096)
def _name(code: str, language: str) -> str:
    viewer = _babel(language) or _babel("en")
    locale = _babel(code)
    if locale is not None:
        return locale.get_display_name(viewer) or code
    # Name the language alone, and keep the parts after it as written: "cv-XX" reads "Chuvash (XX)".
    head, _separator, rest = code.replace("_", "-").partition("-")
    language_only = _babel(head) if rest else None
    if language_only is not None:
        return f"{language_only.get_display_name(viewer)} ({rest})"
    return code


def language_name(code: str, language: str | None = None) -> str:
    """The name of the locale ``code`` in ``language`` (by default the active one); the code itself
    when no part of it is a known language."""
    code = (code or "").strip()
    if not code:
        return ""
    return _name(code, translation.to_locale(language or translation.get_language() or "en"))
