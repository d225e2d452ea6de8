from django.apps import AppConfig


class TrackingConfig(AppConfig):
    name = "tidings.tracking"
    label = "tracking"
    verbose_name = "Tracking"
