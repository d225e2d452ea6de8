"""Messages keep no single-column index and no database constraint on their three keys."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("audience", "0005_lean_indexes"),
        ("campaigns", "0001_campaigns"),
        ("core", "0003_project_bounces_and_pause"),
        ("sending", "0005_connection_webhook_key"),
    ]

    operations = [
        migrations.AlterField(
            model_name="message",
            name="campaign",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="messages",
                to="campaigns.campaign",
            ),
        ),
        migrations.AlterField(
            model_name="message",
            name="contact",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="audience.contact",
            ),
        ),
        migrations.AlterField(
            model_name="message",
            name="project",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="core.project",
            ),
        ),
    ]
