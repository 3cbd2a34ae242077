from django.urls import path

from exports import api, openapi, views

app_name = "exports"

urlpatterns = [
    path("exports/", views.index, name="index"),
    path("exports/sync/", views.sync_now, name="sync"),
    path("exports/export/", views.export, name="export"),
    path("exports/delete/", views.delete_export, name="delete"),
    path("exports/progress/", views.progress, name="progress"),
    path("exports/demo/", views.demo, name="demo"),
    path("api/exports/sync", api.sync, name="api-sync"),
    path("api/exports/export", api.export, name="api-export"),
    path("api/exports/files", api.public_files, name="api-files"),
    path("api/exports/webhook/", api.webhook, name="api-webhook"),
    path("api/exports/openapi.json", openapi.openapi, name="api-openapi"),
]
