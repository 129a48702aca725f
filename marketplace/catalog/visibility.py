"""Who sees which dataset: the catalog's listed datasets for everyone, plus the private datasets of
the organizations a user belongs to."""

from django.db.models import Exists, OuterRef, Q, QuerySet

from marketplace.catalog.search import listed_datasets
from marketplace.models import Dataset, Membership, User


def memberships_of(*, user: User) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user).select_related("organization").order_by("organization__name")


def visible_datasets(*, user: object) -> QuerySet[Dataset]:
    """Published datasets a user may see: the catalog's, plus private ones of their organizations.

    Membership is an EXISTS subquery, not a join: a join through the organization's memberships
    would give each dataset once per member of its organization."""
    visible = Q(id__in=listed_datasets().values("id"))
    if isinstance(user, User) and user.is_authenticated:
        member = Membership.objects.filter(organization_id=OuterRef("organization_id"), user=user)
        visible |= Q(status=Dataset.Status.PUBLISHED, visibility=Dataset.Visibility.PRIVATE) & Q(Exists(member))
    return Dataset.objects.filter(visible)
