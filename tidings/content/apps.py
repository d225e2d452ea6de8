from django.apps import AppConfig


class ContentConfig(AppConfig):
    name = "tidings.content"
    label = "content"
    verbose_name = "Content"
