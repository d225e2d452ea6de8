from django.apps import AppConfig


class DraftsConfig(AppConfig):
    name = "tidings.drafts"
    label = "drafts"
    verbose_name = "Drafts"
