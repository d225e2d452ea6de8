from django.apps import AppConfig


class SendingConfig(AppConfig):
    name = "tidings.sending"
    label = "sending"
    verbose_name = "Sending"
