"""Reads of the marketplace domain."""

from django.db.models import QuerySet

from marketplace.models import Dataset, Membership, User


def memberships_of(*, user: User) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user).select_related("organization").order_by("organization__name")


def visible_datasets(*, user: object) -> QuerySet[Dataset]:
    """Published datasets a user may see: the catalog's, plus private ones of their organizations."""
    from django.db.models import Q

    from marketplace.catalog import listed_datasets

    visible = Q(id__in=listed_datasets().values("id"))
    if isinstance(user, User) and user.is_authenticated:
        visible |= Q(
            status=Dataset.Status.PUBLISHED,
            visibility=Dataset.Visibility.PRIVATE,
            organization__memberships__user=user,
        )
    return Dataset.objects.filter(visible)
