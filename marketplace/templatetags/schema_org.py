"""``{% schema_org_json dataset %}``: a listed dataset's schema.org ``Dataset`` (built by
``catalog.feeds``) as JSON that is safe inside ``<script type="application/ld+json">``."""

from __future__ import annotations

import json
from typing import Any

from django import template
from django.core.serializers.json import DjangoJSONEncoder
from django.utils.safestring import SafeString, mark_safe

from marketplace.catalog.feeds import dataset_schema_org
from marketplace.models import Dataset

register = template.Library()

# As django.utils.html.json_script escapes: no "</script>", "<!--" or "&" can end the block early.
_SCRIPT_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


def script_safe_json(data: Any) -> SafeString:
    text = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False).translate(_SCRIPT_ESCAPES)
    return mark_safe(text)  # noqa: S308 - every character that could close the element is escaped


@register.simple_tag(takes_context=True)
def schema_org_json(context: template.Context, dataset: Dataset) -> str:
    """Empty for a dataset the catalog does not list (private, draft, removed): search engines
    are told only about what everyone may find."""
    request = context.get("request")
    listed = dataset.status == Dataset.Status.PUBLISHED and dataset.visibility != Dataset.Visibility.PRIVATE
    if request is None or not listed:
        return ""
    return script_safe_json(dataset_schema_org(dataset, base_url=request.build_absolute_uri("/")))
