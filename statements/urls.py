from django.urls import path

from statements import openapi, pages, views

app_name = "statements"

urlpatterns = [
    path("api/statement_run/", views.run_create, name="run-create"),
    path("api/statement_run/<int:run_id>/", views.run_detail, name="run-detail"),
    path("api/statement_run/<int:run_id>/currencies/", views.run_currencies, name="run-currencies"),
    path(
        "api/statement_run/<int:run_id>/currencies_exception/",
        views.run_currency_exceptions,
        name="run-currency-exceptions",
    ),
    path(
        "api/statement_run/<int:statement_id>/add-salesfile/",
        views.run_add_salesfile,
        name="run-add-salesfile",
    ),
    path("api/statement_run/<int:run_id>/report/", views.run_report, name="run-report"),
    path("api/files/salesfiles/", views.salesfile_create, name="salesfile-create"),
    path("api/files/salesfiles/<int:file_id>/", views.salesfile_detail, name="salesfile-detail"),
    path(
        "api/files/salesfiles/<int:file_id>/upload-url/",
        views.salesfile_upload_url,
        name="salesfile-upload-url",
    ),
    path("api/files/salesfiles/<int:file_id>/process/", views.salesfile_process, name="salesfile-process"),
    path("api/files/salesfiles/<int:file_id>/content/", views.salesfile_content, name="salesfile-content"),
    path("api/files/salesfiles/<int:file_id>/rejected/", views.salesfile_rejected, name="salesfile-rejected"),
    path("api/statements/webhook/", views.webhook, name="webhook"),
    path("api/statements/openapi.json", openapi.openapi, name="openapi"),
    path("statements/", pages.run_list_page, name="run-list"),
    path("statements/<int:run_id>/", pages.run_page, name="run-page"),
    path("statements/<int:run_id>/upload/", pages.run_page_upload, name="run-page-upload"),
    path(
        "statements/<int:run_id>/files/<int:file_id>/process/",
        pages.run_page_process,
        name="run-page-process",
    ),
    *(
        path(
            f"statements/<int:run_id>/{kind}/", pages.run_page_rates, {"kind": kind}, name=f"run-page-{kind}"
        )
        for kind in pages.RATE_SETS
    ),
    *(
        path(
            f"statements/<int:run_id>/{kind}/upload/",
            pages.run_page_rates_upload,
            {"kind": kind},
            name=f"run-page-{kind}-upload",
        )
        for kind in pages.RATE_SETS
    ),
    *(
        path(
            f"statements/<int:run_id>/report.{kind}",
            pages.run_page_download,
            {"kind": kind},
            name=f"run-page-{kind}",
        )
        for kind in pages.DOWNLOADS
    ),
]
