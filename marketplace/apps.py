from django.apps import AppConfig


class MarketplaceConfig(AppConfig):
    name = "marketplace"
    verbose_name = "Marketplace"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from licensing.models import ConsentWithdrawal, License, Rerelease
        from marketplace import checks  # noqa: F401 (registers the deployment checks)
        from marketplace.catalog.search import catalog_changed
        from marketplace.models import Dataset, DatasetVersion, Organization, ParquetExport, Submission, Upload

        # The catalog's cached counts and answers go when a dataset is saved or deleted (publishing
        # and takedowns, which write with UPDATE, drop them themselves), and when what its cards
        # show of an organization or a license changes (the federation's sync drops them too). What
        # the viewer keeps of a published version (viewer.access) goes with them, and also when a
        # version, a withdrawal, a re-release or an export is written (the exports and re-releases
        # that write with UPDATE drop them themselves) or an upload or submission is deleted.
        for model in (Dataset, Organization, License, DatasetVersion, ConsentWithdrawal, Rerelease, ParquetExport):
            name = model.__name__.lower()
            post_save.connect(catalog_changed, sender=model, dispatch_uid=f"catalog_changed_on_{name}_save")
            post_delete.connect(catalog_changed, sender=model, dispatch_uid=f"catalog_changed_on_{name}_delete")
        for deleted in (Submission, Upload):
            name = deleted.__name__.lower()
            post_delete.connect(catalog_changed, sender=deleted, dispatch_uid=f"catalog_changed_on_{name}_delete")
