"""Validation findings and upload errors in the reader's language: ``{{ item|finding_text }}``,
``{{ upload|upload_error }}``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import template

from marketplace.inspection import texts

register = template.Library()


@register.filter
def finding_text(item: Mapping[str, Any]) -> str:
    """A stored finding ``{path, code, message[, template, params]}`` as a sentence in the active language."""
    return texts.finding_text(item)


@register.filter
def upload_error(upload: Any) -> str:
    """Why an upload failed or was aborted, in the active language (``submissions.reports.upload_error_text``)."""
    return texts.finding_text(
        {"message": upload.error, "template": upload.error_template, "params": upload.error_params}
    )
