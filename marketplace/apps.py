from django.apps import AppConfig


class MarketplaceConfig(AppConfig):
    name = "marketplace"
    verbose_name = "Marketplace"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from marketplace import checks  # noqa: F401 (registers the deployment checks)
        from marketplace.catalog.search import catalog_changed
        from marketplace.models import Dataset

        # The catalog's cached counts go when a dataset is saved or deleted (publishing and
        # takedowns, which write with UPDATE, drop them themselves).
        post_save.connect(catalog_changed, sender=Dataset, dispatch_uid="catalog_changed_on_save")
        post_delete.connect(catalog_changed, sender=Dataset, dispatch_uid="catalog_changed_on_delete")
