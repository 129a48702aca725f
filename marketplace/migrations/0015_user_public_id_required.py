from django.db import migrations, models

import marketplace.ids


class Migration(migrations.Migration):
    dependencies = [
        ("marketplace", "0014_mdc_name_length_and_exclusivity_time"),
    ]

    operations = [
        migrations.AlterField(
            model_name="user",
            name="public_id",
            field=models.CharField(default=marketplace.ids.new_id, editable=False, max_length=32, unique=True),
        ),
    ]
