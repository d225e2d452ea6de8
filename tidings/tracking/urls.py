from django.urls import path

from tidings.tracking import views

app_name = "tracking"

urlpatterns = [
    path("u/<str:token>", views.unsubscribe, name="unsubscribe"),
    path("p/<str:token>", views.preferences, name="preferences"),
]
