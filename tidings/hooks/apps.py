from django.apps import AppConfig


class HooksConfig(AppConfig):
    name = "tidings.hooks"
    label = "hooks"
    verbose_name = "Outgoing webhooks"
