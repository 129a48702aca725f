"""Reads of the marketplace domain."""

from django.db.models import QuerySet

from marketplace.models import Dataset, Membership, User


def catalog_datasets() -> QuerySet[Dataset]:
    """Published datasets anyone may find: public and restricted, never private or removed."""
    return (
        Dataset.objects.filter(
            status=Dataset.Status.PUBLISHED,
            visibility__in=[Dataset.Visibility.PUBLIC, Dataset.Visibility.RESTRICTED],
        )
        .select_related("organization", "license")
        .order_by("-published_at")
    )


def memberships_of(*, user: User) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user).select_related("organization").order_by("organization__name")
