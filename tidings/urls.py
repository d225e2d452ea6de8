from django.contrib import admin
from django.urls import include, path

from tidings.api import api
from tidings.core import health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("", include("tidings.tracking.urls")),
    path("", include("tidings.web.urls")),
]

handler404 = "tidings.web.views.not_found"
