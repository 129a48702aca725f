"""The API's one JSON parser: DRF's, refusing what PostgreSQL cannot store or a parser cannot bound.

Each refusal is a 400 that says what is wrong, instead of a 500 further in:
- the NUL character: PostgreSQL text (and jsonb) cannot hold ``\\u0000``;
- a lone surrogate (``"\\ud800"``): it is not a Unicode character, so it cannot be encoded as
  UTF-8 and fails at the INSERT (RFC 8259 section 8.2 leaves such strings' meaning undefined);
- nesting deeper than ``MAX_DEPTH``: no request of this API nests more than a few levels, and the
  standard library's decoder recurses once per level, so ``[`` a thousand times would end in a
  RecursionError. The depth is measured on the text, before anything is decoded.
"""

from __future__ import annotations

import io
import re
from typing import Any

from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.parsers import JSONParser

from config.middleware import NUL

MAX_DEPTH = 32
# A JSON string (skipped whole, escapes included) or one bracket; everything else is ignored.
_STRING_OR_BRACKET = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)
_SURROGATE = re.compile("[\ud800-\udfff]")


def nesting_depth(text: str, *, limit: int) -> int:
    """How deeply ``text``'s arrays and objects nest, counting up to ``limit + 1`` at most."""
    depth = deepest = 0
    for match in _STRING_OR_BRACKET.finditer(text):
        bracket = match.group()
        if bracket in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    break
        elif bracket in "]}":
            depth -= 1
    return deepest


def _strings(value: Any) -> Any:
    """Every string in a parsed JSON value, keys included, without recursion."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            for key, inner in item.items():
                yield key
                pending.append(inner)
        elif isinstance(item, list):
            pending.extend(item)


def refuse_unstorable_text(value: Any) -> Any:
    """``value`` unchanged, or a 400 naming the first character PostgreSQL cannot store."""
    for text in _strings(value):
        if NUL in text:
            raise exceptions.ParseError(_("Text in the request cannot contain the NUL character (\\u0000)."))
        surrogate = _SURROGATE.search(text)
        if surrogate:
            raise exceptions.ParseError(
                _(
                    "Text in the request contains \\u%(ord)s, half of a UTF-16 surrogate pair without "
                    "its other half, which is not a character. Send the whole character."
                )
                % {"ord": format(ord(surrogate.group()), "04x")}
            )
    return value


class StrictJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        raw = stream.read() if stream is not None else b""
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise exceptions.ParseError(
                _("The request body is not valid UTF-8 (byte %(start)s cannot be read); send JSON as UTF-8.")
                % {"start": exc.start}
            ) from None
        if nesting_depth(text, limit=MAX_DEPTH) > MAX_DEPTH:
            raise exceptions.ParseError(
                _(
                    "The JSON in the request nests arrays and objects more than %(max_depth)s levels "
                    "deep; no request of this API needs more."
                )
                % {"max_depth": MAX_DEPTH}
            )
        return refuse_unstorable_text(super().parse(io.BytesIO(raw), media_type, parser_context))
