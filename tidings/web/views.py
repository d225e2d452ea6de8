from django.http import HttpRequest, HttpResponse


def home(request: HttpRequest) -> HttpResponse:
    return HttpResponse("Tidings")


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return HttpResponse("Not found", status=404)
