from django.urls import path

from tidings.tracking import views, webhooks

app_name = "tracking"

urlpatterns = [
    path("u/<str:token>", views.unsubscribe, name="unsubscribe"),
    path("p/<str:token>", views.preferences, name="preferences"),
    path("o/<str:token>.gif", views.open_pixel, name="open"),
    path("c/<str:token>", views.click, name="click"),
    # A provider's events for one connection; the key names it (see tracking/webhooks.py).
    path("webhooks/<str:key>/", webhooks.receive, name="webhook"),
]
