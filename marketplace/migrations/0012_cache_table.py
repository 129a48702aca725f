"""The cache table of CACHE_URL=database://, created with the schema so that
a deployment needs no extra step. Harmless when another cache backend is configured."""

from typing import Any

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps: Any, schema_editor: Any) -> None:
    # Named, so that the table exists whichever backend CACHE_URL picks now (it may change later).
    call_command("createcachetable", "django_cache", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("marketplace", "0011_validation")]

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
