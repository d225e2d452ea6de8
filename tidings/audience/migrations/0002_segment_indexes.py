"""An index for segments on activity: a project's rows of one kind by time, with the contact.

With it, a segment such as "not opened within 60 days" over a large audience
is answered by one index-only pass over the project's recent rows of that kind
(PostgreSQL hashes it once) instead of a scan of every project's activity.
Measured with bench/segment_count.py; see bench/README.md.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("audience", "0001_contacts_tags_topics_segments_imports"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="contactactivity",
            index=models.Index(
                fields=["project", "kind", "occurred_at", "contact"], name="activity_project_kind_time"
            ),
        ),
    ]
