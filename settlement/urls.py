"""Settle API paths: the ninja API under /settlement/ (settlement.api), and the API's own 404 for
anything else under the prefix."""

from django.urls import path, re_path

from settlement import api

app_name = "settlement"

urlpatterns = [
    path("settlement/", api.api.urls),
    re_path(r"^settlement(?:/.*)?$", api.not_found),
]
