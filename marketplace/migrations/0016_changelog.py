"""Changelogs: a submission says what changed in its version; approval copies it onto the version.

Adding a column with a constant default updates no row (PostgreSQL 11+ keeps the default in the
catalog), so the trigger that refuses updates of published versions (0002) does not fire; the
version's changelog is then set at insert, like every other column of a published version.
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('marketplace', '0015_user_public_id_required'),
    ]

    operations = [
        migrations.AddField(
            model_name='datasetversion',
            name='changelog',
            field=models.TextField(blank=True, help_text='What changed from the previous version (empty for v1).'),
        ),
        migrations.AddField(
            model_name='submission',
            name='changelog',
            field=models.TextField(blank=True, help_text='What changed in this version.'),
        ),
    ]
