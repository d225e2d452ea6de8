"""The site's URLs plus a stand-in for Create's "personalise for a persona" page."""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path

from tidings.web import urls as web_urls


def personalise(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    return HttpResponse(f"{kind} {pk}")


web_patterns = [
    *web_urls.urlpatterns,
    path("create/for/<str:kind>/<int:pk>/", personalise, name="personalise"),
]
urlpatterns = [path("", include((web_patterns, "web")))]
