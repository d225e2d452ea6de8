"""Single-column foreign-key indexes that other indexes already begin with are dropped."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("audience", "0004_suppression_list"),
        ("core", "0003_project_bounces_and_pause"),
    ]

    operations = [
        migrations.AlterField(
            model_name="contact",
            name="project",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="core.project",
            ),
        ),
        migrations.AlterField(
            model_name="contactactivity",
            name="contact",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="audience.contact",
            ),
        ),
        migrations.AlterField(
            model_name="contactactivity",
            name="project",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="core.project",
            ),
        ),
    ]
