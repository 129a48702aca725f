"""A finding's sentence in the reader's language.

The validation worker has no reader: it stores each finding with its sentence as a template
(marked with ``gettext_noop``, named ``%(name)s`` placeholders) and the template's params, beside
``message``, the sentence in English. Pages (and API answers, under the request's language) render
the template in the language active then, as ``marketplace.notifications.messages`` does for
notifications. Findings stored before templates existed have only ``message``: it is shown as is."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext

Params = dict[str, str | int]


def english(template: str, params: Mapping[str, Any] | None = None) -> str:
    """The sentence as stored in ``message``: the template filled in, untranslated."""
    return template % dict(params or {})


def finding(path: str, code: str, template: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A finding as the database keeps it: ``{path, code, message, template, params}``."""
    values = dict(params or {})
    return {"path": path, "code": code, "message": english(template, values), "template": template, "params": values}


def finding_text(item: Mapping[str, Any]) -> str:
    """The finding's sentence in the active language; its stored message when it has no template
    (an old row) or its template no longer fits its params."""
    message = str(item.get("message") or "")
    template = item.get("template")
    if not template or not isinstance(template, str):
        return message
    try:
        return gettext(template) % dict(item.get("params") or {})
    except (KeyError, ValueError, TypeError):
        return message


def public(item: Mapping[str, Any]) -> dict[str, Any]:
    """A finding as the API shows it: ``{path, code, message}``, the message in the active language."""
    return {"path": item.get("path", ""), "code": item.get("code", ""), "message": finding_text(item)}
