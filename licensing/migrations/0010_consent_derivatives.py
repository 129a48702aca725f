from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("licensing", "0009_contributor_claims_and_payout_details"),
    ]

    operations = [
        # Terms recorded before the flag existed did not restrict derivatives: they get True, and
        # new terms say it themselves (the column has no default once the rows are filled).
        migrations.AddField(
            model_name="consentterms",
            name="derivatives",
            field=models.BooleanField(
                default=True, help_text="Whether works derived from the data (edits, adaptations) are allowed."
            ),
            preserve_default=False,
        ),
    ]
