"""How people name a dataset in a form: its page's address (``https://host/datasets/valley-speech/``
or any page under it), its slug, or its id. Pure text handling; the lookups are the caller's."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_DATASET_PATH = re.compile(r"/datasets/([^/?#]+)")


def dataset_key(text: str) -> str:
    """The slug or id a reference names: the path segment after ``/datasets/`` of an address,
    else the text itself, trimmed."""
    text = text.strip()
    path = urlsplit(text).path if "://" in text else text
    found = _DATASET_PATH.search(path if path.startswith("/") else "/" + path)
    return found.group(1) if found else text.strip("/")
