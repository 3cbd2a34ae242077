"""/portal/: the payee portal's pages (statements/royalties/portal/views.py)."""

from django.urls import path

from statements.royalties.portal import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("statements/<int:run_id>/", views.statement_page, name="statement"),
    *(
        path(
            f"statements/<int:run_id>.{kind}",
            views.statement_document,
            {"kind": kind},
            name=f"statement-{kind}",
        )
        for kind in ("pdf", "xlsx")
    ),
    path("payment-details/", views.payment_details, name="payment-details"),
    path("invoices/<int:invoice_id>.pdf", views.invoice_document, name="invoice-pdf"),
    path("invitation/<str:uidb64>/<str:token>/", views.invitation, name="invitation"),
]
