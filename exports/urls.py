from django.urls import path

from exports import views
from exports.api import api

app_name = "exports"

urlpatterns = [
    path("exports/", views.index, name="index"),
    path("exports/sync/", views.sync_now, name="sync"),
    path("exports/export/", views.export, name="export"),
    path("exports/delete/", views.delete_export, name="delete"),
    path("exports/progress/", views.progress, name="progress"),
    path("exports/demo/", views.demo, name="demo"),
    path("api/exports/", api.urls),
]
