from django.urls import path

from statements import pages
from statements.api import api
from statements.royalties.api import royalties_api
from statements.royalties.pages import (
    catalogue_suggestions,
    run_page_archive,
    run_page_finalize,
    run_page_label_income_remove,
    run_page_royalties,
    run_page_royalty_payee,
    run_page_unmatched,
    run_page_unmatched_action,
)

app_name = "statements"

urlpatterns = [
    # /api/statement_run/…, /api/files/salesfiles/…, /api/statements/webhook/ and the OpenAPI
    # document /api/statements/openapi.json: the ninja API of statements/api.py.
    path("api/", api.urls),
    # /api/royalties/… and /api/royalties/openapi.json: the Royalties API (statements/royalties/api.py).
    path("api/royalties/", royalties_api.urls),
    path("statements/", pages.run_list_page, name="run-list"),
    path("statements/<int:run_id>/", pages.run_page, name="run-page"),
    path("statements/<int:run_id>/upload/", pages.run_page_upload, name="run-page-upload"),
    path("statements/<int:run_id>/finalize/", run_page_finalize, name="run-page-finalize"),
    path("statements/<int:run_id>/statements-zip/", run_page_archive, name="run-page-archive"),
    path("statements/<int:run_id>/royalties/", run_page_royalties, name="run-page-royalties"),
    path("statements/catalogue/suggestions/", catalogue_suggestions, name="catalogue-suggestions"),
    path(
        "statements/<int:run_id>/royalties/unmatched/", run_page_unmatched, name="run-page-royalty-unmatched"
    ),
    path(
        "statements/<int:run_id>/royalties/unmatched/action/",
        run_page_unmatched_action,
        name="run-page-royalty-unmatched-action",
    ),
    path(
        "statements/<int:run_id>/royalties/label-income/<int:label_income_id>/remove/",
        run_page_label_income_remove,
        name="run-page-royalty-label-income-remove",
    ),
    path(
        "statements/<int:run_id>/royalties/<int:payee_id>/",
        run_page_royalty_payee,
        name="run-page-royalty-payee",
    ),
    path(
        "statements/<int:run_id>/files/<int:file_id>/process/",
        pages.run_page_process,
        name="run-page-process",
    ),
    path(
        "statements/<int:run_id>/files/<int:file_id>/mapping/",
        pages.run_page_mapping,
        name="run-page-mapping",
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
