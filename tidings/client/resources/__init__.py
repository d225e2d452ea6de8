"""The resource groups of the API, one class per OpenAPI tag."""

from tidings.client.resources._base import NOT_GIVEN, Group, NotGiven
from tidings.client.resources.audience import Contacts, Imports, Segments, Suppressions, Tags, Topics
from tidings.client.resources.content import Designs, Drafts, Personas
from tidings.client.resources.project import Alerts, ApiKeys, ProjectGroup, Webhooks
from tidings.client.resources.sending import Campaigns, Connections, Domains, Sending

__all__ = [
    "NOT_GIVEN",
    "Alerts",
    "ApiKeys",
    "Campaigns",
    "Connections",
    "Contacts",
    "Designs",
    "Domains",
    "Drafts",
    "Group",
    "Imports",
    "NotGiven",
    "Personas",
    "ProjectGroup",
    "Segments",
    "Sending",
    "Suppressions",
    "Tags",
    "Topics",
    "Webhooks",
]
