import uuid

from django.db import migrations, models

import marketplace.ids


class Migration(migrations.Migration):
    """Opaque ids of download records for the MDC download session. Added nullable and without a
    default first: a default on AddField would give every existing row the same value (and break
    uniqueness); the records issued before keep null, new ones get fresh values from Python."""

    dependencies = [
        ("licensing", "0006_ledger"),
    ]

    operations = [
        migrations.AddField(
            model_name="downloadrecord",
            name="public_id",
            field=models.CharField(max_length=32, null=True, editable=False),
        ),
        migrations.AddField(
            model_name="downloadrecord",
            name="token",
            field=models.UUIDField(null=True, editable=False),
        ),
        migrations.AlterField(
            model_name="downloadrecord",
            name="public_id",
            field=models.CharField(
                default=marketplace.ids.new_id, editable=False, max_length=32, null=True, unique=True
            ),
        ),
        migrations.AlterField(
            model_name="downloadrecord",
            name="token",
            field=models.UUIDField(default=uuid.uuid4, editable=False, null=True, unique=True),
        ),
    ]
