"""Template context for every page: the current project and the navigation of DESIGN.md §2."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import reverse

from tidings.web.access import Current, current_for


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str
    active: bool


@dataclass(frozen=True)
class NavGroup:
    label: str
    items: list[NavItem]


# (group, [(label, url name, url names that also mark it active)])
SECTIONS: list[tuple[str, list[tuple[str, str, tuple[str, ...]]]]] = [
    (
        "Audience",
        [
            (
                "Contacts",
                "contacts",
                (
                    "contact_add",
                    "contact_bulk",
                    "contact_detail",
                    "contact_edit",
                    "contact_delete",
                    "contact_tag_add",
                    "contact_tag_remove",
                    "contact_topic_set",
                    "contact_erase",
                    "import_upload",
                    "import_detail",
                ),
            ),
            ("Tags", "tags", ("tag_edit", "tag_delete")),
            ("Segments", "segments", ("segment_add", "segment_edit", "segment_tag", "segment_delete")),
        ],
    ),
    (
        "",
        [
            (
                "Create",
                "create",
                (
                    "draft",
                    "draft_delete",
                    "designs",
                    "design_add",
                    "design_edit",
                    "design_delete",
                    "design_diff",
                ),
            ),
            (
                "Campaigns",
                "campaigns",
                (
                    "campaign_add",
                    "campaign_detail",
                    "campaign_edit",
                    "campaign_cancel",
                    "campaign_delete",
                ),
            ),
            ("Results", "results", ("campaign_results_csv",)),
        ],
    ),
    (
        "Settings",
        [
            ("Project", "project_settings", ()),
            ("Email providers", "providers", ("provider_add", "provider_edit", "provider_delete")),
            ("Domains", "domains", ("domain_detail", "domain_delete")),
            ("AI drafting", "drafting_settings", ()),
            ("Topics", "topics", ("topic_add", "topic_edit", "topic_delete")),
            ("API keys", "api_keys", ("api_key_revoke",)),
            (
                "Webhooks",
                "webhooks",
                ("webhook_detail", "webhook_test", "webhook_rotate", "webhook_delete", "webhook_delivery"),
            ),
            ("Members", "members", ()),
            ("Suppression list", "suppressions", ("suppression_remove",)),
        ],
    ),
]


@dataclass(frozen=True)
class Navigation:
    current: Current
    groups: list[NavGroup]
    # Where the project switcher returns to: the section the user is in.
    section_url: str


def _url_name(request: HttpRequest) -> str | None:
    match = getattr(request, "resolver_match", None)
    if match is None or match.namespace != "web":
        return None
    return match.url_name


def navigation(request: HttpRequest) -> dict[str, object]:
    current = current_for(request)
    if current is None:
        return {"nav": None}
    here = _url_name(request)
    section_url = reverse("web:home")
    groups = []
    for group, items in SECTIONS:
        nav_items = []
        for label, name, also in items:
            url = reverse(f"web:{name}")
            active = here == name or here in also
            if active:
                section_url = url
            nav_items.append(NavItem(label=label, url=url, active=active))
        groups.append(NavGroup(label=group, items=nav_items))
    return {"nav": Navigation(current=current, groups=groups, section_url=section_url)}
