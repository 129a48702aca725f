"""The catalog's generation: a sequence moved on after every change to the catalog commits, read by
every web process to name what it cached of the catalog (marketplace/catalog/search.py). In the
database, not the cache: with a cache kept per process, a change made in another process (a
publish in the worker, a takedown answered by another web process) would not reach it."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("marketplace", "0022_upload_error_template"),
    ]

    operations = [
        migrations.RunSQL(
            "CREATE SEQUENCE marketplace_catalog_generation",
            reverse_sql="DROP SEQUENCE marketplace_catalog_generation",
        ),
    ]
