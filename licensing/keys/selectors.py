"""Reads of the licensing domain."""

from django.db.models import QuerySet

from licensing.models import ApiKey
from marketplace.models import User


def api_keys_of(*, user: User) -> QuerySet[ApiKey]:
    return (
        ApiKey.objects.filter(user=user)
        .select_related("organization")
        .prefetch_related("datasets")
        .order_by("-created_at")
    )
