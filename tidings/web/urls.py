from django.urls import URLPattern, path
from django.views.generic import RedirectView

from tidings.web.views import api_keys, auth, project, sections

app_name = "web"


def _section(route: str, name: str) -> URLPattern:
    return path(route, sections.section, {"name": name}, name=name)


urlpatterns = [
    path("", sections.home, name="home"),
    path("login/", auth.login, name="login"),
    path("logout/", auth.logout, name="logout"),
    path("switch-project/", auth.switch_project, name="switch_project"),
    path("audience/", RedirectView.as_view(pattern_name="web:contacts"), name="audience"),
    _section("audience/contacts/", "contacts"),
    _section("audience/tags/", "tags"),
    _section("audience/segments/", "segments"),
    _section("create/", "create"),
    _section("campaigns/", "campaigns"),
    _section("results/", "results"),
    path("settings/", RedirectView.as_view(pattern_name="web:project_settings"), name="settings"),
    path("settings/project/", project.project_settings, name="project_settings"),
    _section("settings/providers/", "providers"),
    _section("settings/domains/", "domains"),
    _section("settings/topics/", "topics"),
    path("settings/api-keys/", api_keys.api_keys, name="api_keys"),
    path("settings/api-keys/<int:key_id>/revoke/", api_keys.api_key_revoke, name="api_key_revoke"),
    path("settings/members/", project.members, name="members"),
]
