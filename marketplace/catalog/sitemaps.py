"""The sitemap (django.contrib.sitemaps): the start page, the catalog, and the page of every dataset
the catalog lists and of every organization that publishes one. Private, draft and removed
datasets never appear. Served as a sitemap index whose sections split into pages of at most
``Sitemap.limit`` (50,000) URLs, the protocol's limit, so it grows without a change."""

from __future__ import annotations

from datetime import datetime

from django.contrib.sitemaps import Sitemap
from django.db.models import QuerySet
from django.urls import reverse

from marketplace.catalog.search import listed_datasets
from marketplace.models import Dataset, Organization


class PagesSitemap(Sitemap):
    changefreq = "daily"

    def items(self) -> list[str]:
        return ["home", "catalog"]

    def location(self, item: str) -> str:
        return reverse(item)


class DatasetsSitemap(Sitemap):
    changefreq = "weekly"

    def items(self) -> QuerySet[Dataset]:
        # Oldest first, by id: a page of the sitemap keeps its URLs as the catalog grows.
        return listed_datasets().only("slug", "updated_at").order_by("published_at", "id")

    def location(self, item: Dataset) -> str:
        return reverse("dataset-detail", args=[item.slug])

    def lastmod(self, item: Dataset) -> datetime:
        return item.updated_at


class OrganizationsSitemap(Sitemap):
    changefreq = "weekly"

    def items(self) -> QuerySet[Organization]:
        return (
            Organization.objects.filter(id__in=listed_datasets().values("organization_id"))
            .only("slug")
            .order_by("created_at", "id")
        )

    def location(self, item: Organization) -> str:
        return reverse("organization-detail", args=[item.slug])


SITEMAPS: dict[str, type[Sitemap]] = {
    "pages": PagesSitemap,
    "datasets": DatasetsSitemap,
    "organizations": OrganizationsSitemap,
}
