"""``{{ dataset.locale|language_name }}``: a locale code as the name of its language, in the viewer's;
``long_date`` and ``short_date``: a date as the viewer's language writes it; ``{% uppy_strings %}``:
the upload widget's own words (Uppy's dashboard) in the viewer's language, as the JSON it reads."""

import json
from collections.abc import Callable
from datetime import date, datetime

from django import template
from django.template import defaultfilters
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from marketplace.catalog.languages import language_name as _language_name

register = template.Library()


@register.filter
def language_name(code: str) -> str:
    return _language_name(code)


# Dates as each language writes them: "3 December 2026", "2026년 12월 3일", "3 de diciembre de 2026".
# (Django's own English DATE_FORMAT, "Dec. 3, 2026", is not how these pages write English.)
LONG_DATES = {"en": "j F Y", "ko": "Y년 n월 j일", "es": r"j \d\e F \d\e Y"}
SHORT_DATES = {"en": "j M Y", "ko": "Y. n. j.", "es": "j M Y"}


def _formatted(value: date | datetime | None, formats: dict[str, str]) -> str:
    if not value:
        return ""
    language = (translation.get_language() or "en").split("-")[0]
    return defaultfilters.date(value, formats.get(language, formats["en"]))


@register.filter
def long_date(value: date | datetime | None) -> str:
    """``{{ day|long_date }}``: the date in words, in the viewer's language."""
    return _formatted(value, LONG_DATES)


@register.filter
def short_date(value: date | datetime | None) -> str:
    """``{{ day|short_date }}``: the date in a table, in the viewer's language."""
    return _formatted(value, SHORT_DATES)


def _uppy_plural(say: Callable[[int], str]) -> dict[int, str]:
    return {0: say(1), 1: say(2)}


@register.simple_tag
def uppy_strings() -> str:
    """Uppy's locale keys (frontend/upload.js reads them from ``data-uppy-strings``); ``%{...}`` are
    Uppy's own placeholders and stay as they are in every language."""
    return json.dumps(
        {
            "dropPasteFiles": _("Drop files here or %{browseFiles}"),
            "browseFiles": _("browse files"),
            "dropHint": _("Drop your files here"),
            "myDevice": _("My device"),
            "removeFile": _("Remove file"),
            "done": _("Done"),
            "cancel": _("Cancel"),
            "retry": _("Retry"),
            "complete": _("Complete"),
            "uploadComplete": _("Upload complete"),
            "uploadFailed": _("Upload failed"),
            "dashboardTitle": _("File upload"),
            "dashboardWindowTitle": _("File upload (press Escape to close)"),
            "addMore": _("Add more"),
            "addMoreFiles": _("Add more files"),
            "back": _("Back"),
            "editFile": _("Edit file"),
            "error": _("Error"),
            "showErrorDetails": _("Show error details"),
            "upload": _("Upload"),
            "uploading": _("Uploading"),
            "paused": _("Paused"),
            "pause": _("Pause"),
            "resume": _("Resume"),
            "uploadPaused": _("Upload paused"),
            "pauseUpload": _("Pause upload"),
            "resumeUpload": _("Resume upload"),
            "retryUpload": _("Retry upload"),
            "cancelUpload": _("Cancel upload"),
            "sessionRestored": _("Session restored"),
            "recoveredAllFiles": _("We restored all files. You can now resume the upload."),
            "reSelect": _("Choose again"),
            "dataUploadedOfTotal": _("%{complete} of %{total}"),
            "xTimeLeft": _("%{time} left"),
            # Uppy picks form 0 for one and 1 for more (English rules), whatever the language.
            "xFilesSelected": _uppy_plural(
                lambda n: ngettext("%{smart_count} file selected", "%{smart_count} files selected", n)
            ),
            "uploadingXFiles": _uppy_plural(
                lambda n: ngettext("Uploading %{smart_count} file", "Uploading %{smart_count} files", n)
            ),
            "uploadXFiles": _uppy_plural(
                lambda n: ngettext("Upload %{smart_count} file", "Upload %{smart_count} files", n)
            ),
            "uploadXNewFiles": _uppy_plural(
                lambda n: ngettext("Upload +%{smart_count} file", "Upload +%{smart_count} files", n)
            ),
            "filesUploadedOfTotal": _uppy_plural(
                lambda n: ngettext(
                    "%{complete} of %{smart_count} file uploaded", "%{complete} of %{smart_count} files uploaded", n
                )
            ),
        },
        ensure_ascii=False,
    )
