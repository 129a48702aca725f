"""``{{ dataset.locale|language_name }}``: a locale code as the name of its language, in the viewer's."""

from django import template

from marketplace.catalog.languages import language_name as _language_name

register = template.Library()


@register.filter
def language_name(code: str) -> str:
    return _language_name(code)
