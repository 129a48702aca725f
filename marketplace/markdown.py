"""Markdown written by organizations, turned into HTML that is safe to put in our pages.

Datasheet text comes from uploaders, so it is untrusted: Markdown passes raw HTML through,
and only the nh3 (ammonia) pass after it decides what reaches the page. The allowlist keeps
text structure and links, nothing that runs, loads or styles: no script, style, iframe, img
(a tracking pixel), form or attribute other than a link's address and title.
"""

from __future__ import annotations

import markdown  # type: ignore[import-untyped]
import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown.extensions.toc import TocExtension  # type: ignore[import-untyped]

ALLOWED_TAGS = frozenset(
    {
        "p", "br", "hr", "strong", "em", "b", "i", "code", "pre", "blockquote", "ul", "ol", "li",
        "a", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "abbr", "del",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": frozenset({"href", "title"}), "abbr": frozenset({"title"})}
URL_SCHEMES = frozenset({"http", "https", "mailto"})


def render_markdown(text: str, *, heading_level: int = 3) -> str:
    """HTML for ``text``, sanitized; marked safe only after nh3 has cleaned it.

    A "# Heading" in the text becomes ``heading_level`` (the level below the page heading
    the text sits under), so the page's heading order stays intact whatever the author wrote."""
    if not text.strip():
        return ""
    html = markdown.markdown(
        text,
        extensions=["fenced_code", "tables", "sane_lists", TocExtension(baselevel=heading_level)],
        output_format="html",
    )
    cleaned = nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel="nofollow noopener noreferrer",
    )
    result: SafeString = mark_safe(cleaned)  # noqa: S308 - nh3 has just sanitized it
    return result
