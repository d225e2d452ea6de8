from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "tidings.campaigns"
    label = "campaigns"
    verbose_name = "Campaigns"
