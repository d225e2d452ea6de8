from django.urls import URLPattern, path
from django.views.generic import RedirectView

from tidings.web.views import (
    api_keys,
    auth,
    contact_detail,
    contacts,
    create,
    designs,
    domains,
    drafting,
    imports,
    project,
    providers,
    sections,
    segments,
    tags,
    topics,
)

app_name = "web"


def _section(route: str, name: str) -> URLPattern:
    return path(route, sections.section, {"name": name}, name=name)


CONTACT = "audience/contacts/<int:contact_id>/"

urlpatterns = [
    path("", sections.home, name="home"),
    path("login/", auth.login, name="login"),
    path("logout/", auth.logout, name="logout"),
    path("switch-project/", auth.switch_project, name="switch_project"),
    path("audience/", RedirectView.as_view(pattern_name="web:contacts"), name="audience"),
    path("audience/contacts/", contacts.contact_list, name="contacts"),
    path("audience/contacts/new/", contacts.contact_add, name="contact_add"),
    path("audience/contacts/bulk/", contacts.contact_bulk, name="contact_bulk"),
    path("audience/contacts/export.csv", imports.contacts_export, name="contacts_export"),
    path("audience/contacts/import/", imports.import_upload, name="import_upload"),
    path("audience/contacts/import/<int:import_id>/", imports.import_detail, name="import_detail"),
    path("audience/contacts/import/<int:import_id>/report/", imports.import_report, name="import_report"),
    path(CONTACT, contact_detail.contact_detail, name="contact_detail"),
    path(f"{CONTACT}edit/", contact_detail.contact_edit, name="contact_edit"),
    path(f"{CONTACT}delete/", contacts.contact_delete, name="contact_delete"),
    path(f"{CONTACT}tags/", contact_detail.contact_tag_add, name="contact_tag_add"),
    path(f"{CONTACT}tags/<int:tag_id>/remove/", contact_detail.contact_tag_remove, name="contact_tag_remove"),
    path(f"{CONTACT}topics/<int:topic_id>/", contact_detail.contact_topic_set, name="contact_topic_set"),
    path(f"{CONTACT}export/", contact_detail.contact_export, name="contact_export"),
    path(f"{CONTACT}erase/", contact_detail.contact_erase, name="contact_erase"),
    path("audience/tags/", tags.tag_list, name="tags"),
    path("audience/tags/<int:tag_id>/edit/", tags.tag_edit, name="tag_edit"),
    path("audience/tags/<int:tag_id>/delete/", tags.tag_delete, name="tag_delete"),
    path("audience/segments/", segments.segment_list, name="segments"),
    path("audience/segments/new/", segments.segment_add, name="segment_add"),
    path("audience/segments/preview/", segments.segment_preview, name="segment_preview"),
    path("audience/segments/<int:segment_id>/", segments.segment_edit, name="segment_edit"),
    path("audience/segments/<int:segment_id>/tag/", segments.segment_tag, name="segment_tag"),
    path("audience/segments/<int:segment_id>/delete/", segments.segment_delete, name="segment_delete"),
    path("create/", create.create_home, name="create"),
    path("create/for/<str:kind>/<int:pk>/", create.personalise, name="personalise"),
    path("create/personas/", create.persona_options, name="persona_options"),
    path("create/drafts/new/", create.draft_new, name="draft_new"),
    path("create/drafts/<int:draft_id>/", create.draft_detail, name="draft"),
    path("create/drafts/<int:draft_id>/reply/", create.draft_reply, name="draft_reply"),
    path("create/drafts/<int:draft_id>/persona/", create.draft_persona, name="draft_persona"),
    path("create/drafts/<int:draft_id>/preview/", create.draft_preview, name="draft_preview"),
    path(
        "create/drafts/<int:draft_id>/versions/<int:number>/restore/",
        create.draft_restore,
        name="draft_restore",
    ),
    path("create/drafts/<int:draft_id>/delete/", create.draft_delete, name="draft_delete"),
    path("create/designs/", designs.design_list, name="designs"),
    path("create/designs/new/", designs.design_add, name="design_add"),
    path("create/designs/preview/", designs.design_live_preview, name="design_live_preview"),
    path("create/designs/<int:design_id>/", designs.design_edit, name="design_edit"),
    path("create/designs/<int:design_id>/preview/", designs.design_preview, name="design_preview"),
    path(
        "create/designs/<int:design_id>/versions/<int:number>/restore/",
        designs.design_restore,
        name="design_restore",
    ),
    path(
        "create/designs/<int:design_id>/versions/<int:number>/diff/", designs.design_diff, name="design_diff"
    ),
    path("create/designs/<int:design_id>/test/", designs.design_test, name="design_test"),
    path("create/designs/<int:design_id>/delete/", designs.design_delete, name="design_delete"),
    _section("campaigns/", "campaigns"),
    _section("results/", "results"),
    path("settings/", RedirectView.as_view(pattern_name="web:project_settings"), name="settings"),
    path("settings/project/", project.project_settings, name="project_settings"),
    path("settings/providers/", providers.provider_list, name="providers"),
    path("settings/providers/new/", providers.provider_add, name="provider_add"),
    path("settings/providers/<int:connection_id>/", providers.provider_edit, name="provider_edit"),
    path("settings/providers/<int:connection_id>/check/", providers.provider_check, name="provider_check"),
    path(
        "settings/providers/<int:connection_id>/default/", providers.provider_default, name="provider_default"
    ),
    path("settings/providers/<int:connection_id>/delete/", providers.provider_delete, name="provider_delete"),
    path("settings/domains/", domains.domain_list, name="domains"),
    path("settings/domains/<int:domain_id>/", domains.domain_detail, name="domain_detail"),
    path("settings/domains/<int:domain_id>/verify/", domains.domain_verify, name="domain_verify"),
    path("settings/domains/<int:domain_id>/delete/", domains.domain_delete, name="domain_delete"),
    path("settings/drafting/", drafting.drafting_settings, name="drafting_settings"),
    path("settings/topics/", topics.topic_list, name="topics"),
    path("settings/topics/new/", topics.topic_add, name="topic_add"),
    path("settings/topics/<int:topic_id>/edit/", topics.topic_edit, name="topic_edit"),
    path("settings/topics/<int:topic_id>/delete/", topics.topic_delete, name="topic_delete"),
    path("settings/api-keys/", api_keys.api_keys, name="api_keys"),
    path("settings/api-keys/<int:key_id>/revoke/", api_keys.api_key_revoke, name="api_key_revoke"),
    path("settings/members/", project.members, name="members"),
]
