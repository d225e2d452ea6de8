"""Each provider connection gets its own webhook URL (a random key) and webhook password.

Existing connections are given both here; the key must be unique, so it is added
empty, filled row by row, and only then made unique and required.
"""

import json
import secrets

from django.db import migrations, models

import tidings.sending.models


def fill(apps, schema_editor):
    from tidings.core import secrets as stored

    Connection = apps.get_model("sending", "ProviderConnection")
    for pk, encrypted in Connection.objects.filter(webhook_key__isnull=True).values_list(
        "pk", "secrets_encrypted"
    ):
        values = {"webhook_key": secrets.token_urlsafe(24)}
        try:
            given = json.loads(stored.decrypt(encrypted) or "{}")
        except Exception:  # unreadable under this secret key: the password is made when set again
            given = None
        if given is not None and "webhookSecret" not in given:
            given["webhookSecret"] = secrets.token_urlsafe(24)
            values["secrets_encrypted"] = stored.encrypt(json.dumps(given))
        Connection.objects.filter(pk=pk).update(**values)


class Migration(migrations.Migration):
    dependencies = [
        ("sending", "0004_message_provider_id"),
    ]

    operations = [
        migrations.AddField(
            model_name="providerconnection",
            name="webhook_key",
            field=models.CharField(max_length=43, null=True),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="providerconnection",
            name="webhook_key",
            field=models.CharField(
                default=tidings.sending.models.new_webhook_key, editable=False, max_length=43, unique=True
            ),
        ),
    ]
