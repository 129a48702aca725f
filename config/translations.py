"""The pages' translations: ``locale/<language>/LC_MESSAGES/django.po``, compiled to ``.mo``.

Django reads ``.mo`` files. They are built from the ``.po`` files that are kept in git, with polib,
so that neither ``make run`` nor a deployment needs GNU gettext installed (only extracting new
messages, ``manage.py makemessages``, does). A catalog is compiled again only when its ``.po`` is
newer than its ``.mo``.

    python -m config.translations          # compile what changed
"""

from __future__ import annotations

import sys
from pathlib import Path

import polib

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"


def compile_all(locale_dir: Path = LOCALE_DIR) -> list[Path]:
    """Compile every ``.po`` under ``locale_dir`` whose ``.mo`` is missing or older; returns those written."""
    written = []
    for po_path in sorted(locale_dir.glob("*/LC_MESSAGES/*.po")):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        catalog = polib.pofile(str(po_path))
        partial = mo_path.with_suffix(".mo.partial")
        catalog.save_as_mofile(str(partial))
        partial.replace(mo_path)  # whole or not at all: a server never reads half a catalog
        written.append(mo_path)
    return written


if __name__ == "__main__":
    for path in compile_all():
        print(f"compiled {path.relative_to(LOCALE_DIR.parent)}", file=sys.stderr)
