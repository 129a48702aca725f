"""``{% error_summary form other_form formset messages=list %}``: after a failed form, one box at
the top of the page lists every problem, each linking to its field (the field keeps its own
message too); static/js/error_summary.js moves the focus to the box and, from a link, to the field.
``templates/_error_summary.html`` renders it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django import forms, template
from django.utils.translation import gettext as _

register = template.Library()


@dataclass(frozen=True)
class Problem:
    message: str
    anchor: str = ""  # the id of the field to go to, or "" for a problem of the whole form
    label: str = ""


def _problems_of_form(form: forms.BaseForm, row: int | None = None) -> list[Problem]:
    if not form.is_bound:
        return []
    found = [Problem(str(message)) for message in form.non_field_errors()]
    for field in form:
        label = str(field.label or field.name)
        if row is not None:
            label = _("%(label)s (row %(row)s)") % {"label": label, "row": row}
        found += [Problem(str(message), field.id_for_label or "", label) for message in field.errors]
    return found


def problems_of(*sources: Any, messages: Iterable[str | Problem] = ()) -> list[Problem]:
    """Every error of the given forms and formsets, in page order, then the loose ``messages``
    (a Problem among them links to where it is fixed)."""
    found: list[Problem] = []
    for source in sources:
        if isinstance(source, forms.BaseFormSet):
            if not source.is_bound:
                continue
            # A problem of the rows together (shares that do not add up) links to the first row.
            first = next(iter(source.forms[0]), None) if source.forms else None
            anchor = first.id_for_label or "" if first is not None else ""
            found += [Problem(str(message), anchor) for message in source.non_form_errors()]
            for row, form in enumerate(source.forms, start=1):
                found += _problems_of_form(form, row)
        elif isinstance(source, forms.BaseForm):
            found += _problems_of_form(source)
    found += [message if isinstance(message, Problem) else Problem(str(message)) for message in messages or ()]
    return found


@register.inclusion_tag("_error_summary.html")
def error_summary(*sources: Any, messages: Iterable[str | Problem] = ()) -> dict[str, Any]:
    return {"problems": problems_of(*sources, messages=messages)}
