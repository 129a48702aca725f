"""The API's JSON parser: DRF's, refusing text that PostgreSQL cannot store.

PostgreSQL text (and jsonb) cannot hold the NUL character, so a ``\\u0000`` anywhere in a body
would otherwise reach the database and fail there as a 500. It is refused up front, with a 400
that says so, whatever field it is in.
"""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions
from rest_framework.parsers import JSONParser

from config.middleware import NUL


def contains_nul(value: Any) -> bool:
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(contains_nul(key) or contains_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(contains_nul(item) for item in value)
    return False


def refuse_nul(value: Any) -> Any:
    if contains_nul(value):
        raise exceptions.ParseError("Text in the request cannot contain the NUL character (\\u0000).")
    return value


class NulFreeJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        return refuse_nul(super().parse(stream, media_type, parser_context))
