"""Settle API paths, each accepted with and without the trailing slash (clients use both)."""

from django.urls import re_path

from settlement import views

ID = r"(?P<settle_id>[^/]+)"

urlpatterns = [
    re_path(r"^settlement/openapi\.json$", views.openapi, name="settlement-openapi"),
    re_path(r"^settlement/healthcheck/?$", views.healthcheck, name="settlement-healthcheck"),
    re_path(r"^settlement/create/?$", views.create, name="settlement-create"),
    re_path(rf"^settlement/{ID}/history/?$", views.history, name="settlement-history"),
    re_path(rf"^settlement/{ID}/settled/?$", views.settled, name="settlement-settled"),
    re_path(rf"^settlement/{ID}/update/?$", views.update, name="settlement-update"),
    re_path(rf"^settlement/{ID}/settle/?$", views.settle, name="settlement-settle"),
    re_path(rf"^settlement/{ID}/clear/?$", views.clear, name="settlement-clear"),
    re_path(rf"^settlement/{ID}/verify/?$", views.verify, name="settlement-verify"),
    re_path(rf"^settlement/{ID}/?$", views.detail, name="settlement-detail"),
    # Anything else under the prefix answers in the API's own envelope, not Django's HTML 404.
    re_path(r"^settlement(?:/.*)?$", views.not_found),
]
