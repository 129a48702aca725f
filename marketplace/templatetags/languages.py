"""``{{ dataset.locale|language_name }}``: a locale code as the name of its language, in the viewer's;
``long_date``, ``short_date``, ``short_datetime`` and ``day_month``: a date as the viewer's language
writes it (``marketplace.dates``); ``{% uppy_strings %}``:
the upload widget's own words (Uppy's dashboard) in the viewer's language, as the JSON it reads."""

import json
from collections.abc import Callable
from datetime import date, datetime

from django import template
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from marketplace import dates
from marketplace.catalog.languages import language_name as _language_name

register = template.Library()


@register.filter
def language_name(code: str) -> str:
    return _language_name(code)


@register.filter
def long_date(value: date | datetime | None) -> str:
    """``{{ day|long_date }}``: the date in words, in the viewer's language."""
    return dates.long_date(value)


@register.filter
def short_date(value: date | datetime | None) -> str:
    """``{{ day|short_date }}``: the date in a table, in the viewer's language."""
    return dates.short_date(value)


@register.filter
def short_datetime(value: datetime | None) -> str:
    """``{{ moment|short_datetime }}``: the date and the time (24-hour) in the viewer's language."""
    return dates.short_datetime(value)


@register.filter
def day_month(value: date | datetime | None) -> str:
    """``{{ day|day_month }}``: a day of the year without the year ("4 Dec", "12월 4일")."""
    return dates.day_month(value)


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
