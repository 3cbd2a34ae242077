"""Self-billing invoices (issue 24 item 4): one per finalised statement of an opted-in payee with
something payable, numbered without gaps per label, VAT wording by the payee's VAT status and
country, withholding shown; stored and downloadable. Expected figures are plain Decimal arithmetic."""

import io
from decimal import ROUND_HALF_EVEN
from decimal import Decimal as D

import pytest
from django.db import transaction
from django.test import Client
from pypdf import PdfReader

from project import storage
from statements.royalties import invoices, services
from statements.royalties.models import InvoiceCounter, SelfBillingInvoice, VatStatus
from tests.statements.test_royalties import HEADER, ISRC, contract, payee, processed_run

pytestmark = pytest.mark.django_db
T = SelfBillingInvoice.Treatment
SALES = HEADER + f"2026-09,Spotify,Ana,{ISRC},,Song,NL,1000,100.00,EUR,stream\n"
EARNED = D("100.00") * D("0.20")  # the contract's stream rate


def cents(amount: D) -> D:
    return amount.quantize(D("0.01"), ROUND_HALF_EVEN)


@pytest.mark.parametrize(
    ("country", "status", "treatment"),
    [
        ("IT", VatStatus.REGISTERED, T.DOMESTIC_VAT),  # the label's own country
        ("DE", VatStatus.REGISTERED, T.REVERSE_CHARGE),  # EU B2B cross-border: art. 196
        ("GR", VatStatus.REGISTERED, T.REVERSE_CHARGE),
        ("FR", VatStatus.NOT_REGISTERED, T.NO_VAT),
        ("IT", VatStatus.EXEMPT, T.EXEMPT),
        ("US", VatStatus.REGISTERED, T.OUTSIDE_SCOPE),
        ("CH", VatStatus.NOT_REGISTERED, T.OUTSIDE_SCOPE),
        ("GB", VatStatus.REGISTERED, T.OUTSIDE_SCOPE),
    ],
)
def test_vat_treatment_by_country_and_vat_status(country, status, treatment):
    assert (
        invoices.tax_treatment(supplier_country=country, vat_status=status, label_country="IT") == treatment
    )


def test_figures_round_once_each_vat_only_domestic_withholding_on_the_net(settings):
    settings.SELF_BILLING_VAT_RATE = "0.22"
    payable = D("123.455")
    domestic = invoices.invoice_figures(
        payable=payable, currency="EUR", treatment=T.DOMESTIC_VAT, withholding_percent=D("20")
    )
    net = cents(payable)  # 123.46 (half-even of ...455 -> ...46: 5 after an odd digit)
    assert domestic["net"] == net == D("123.46")
    assert domestic["vat"] == cents(net * D("0.22"))
    assert domestic["withholding"] == cents(net * D("0.20"))
    assert domestic["total"] == net + cents(net * D("0.22")) - cents(net * D("0.20"))
    reverse = invoices.invoice_figures(
        payable=payable, currency="EUR", treatment=T.REVERSE_CHARGE, withholding_percent=D("0")
    )
    assert (reverse["vat"], reverse["withholding"], reverse["total"]) == (0, 0, net)


@pytest.fixture
def finalised(flow, django_capture_on_commit_callbacks, settings):
    settings.ROYALTY_LABEL_NAME, settings.ROYALTY_LABEL_VAT_ID = "Demo Records", "IT00743110157"
    ana = payee("Ana", self_billing=True, country="DE", vat_status=VatStatus.REGISTERED, tax_id="DE136695976")
    ana.address, ana.withholding_rate = "Hauptstr. 1\n10115 Berlin", D("20")
    ana.save()
    bo = payee("Bo")  # no opt-in: no invoice
    contract(shares=[(ana, "60"), (bo, "40")])
    run = processed_run(flow, SALES)
    with django_capture_on_commit_callbacks(execute=True):  # the invoice's PDF is stored after the commit
        return services.finalize_run(run=run), ana, bo


def test_finalisation_issues_a_numbered_invoice_per_opted_in_payee_stored_as_pdf(finalised):
    royalty, ana, bo = finalised
    invoice = SelfBillingInvoice.objects.get()
    net = cents(EARNED * D("0.6"))
    assert (invoice.payee, invoice.royalty_run, invoice.code) == (ana, royalty, "SB-000001")
    assert (invoice.treatment, invoice.net, invoice.vat) == (T.REVERSE_CHARGE, net, 0)
    assert invoice.withholding == cents(net * D("0.20")) and invoice.total == net - invoice.withholding
    assert InvoiceCounter.objects.get(label="SB").last_number == 1
    # Rendered after the commit (the task runs inline in the tests) into the storage.
    invoice.refresh_from_db()
    assert invoice.storage_key == "self-billing/SB/invoice-SB-000001.pdf"
    text = " ".join(
        page.extract_text() for page in PdfReader(io.BytesIO(storage.read(invoice.storage_key))).pages
    )
    text = " ".join(text.split())
    for expected in (
        "Self-billing invoice SB-000001",
        "Ana",
        "DE136695976",
        "Demo Records",
        "Article 196, Council Directive 2006/112/EC",
        "Withholding tax 20 %",
        f"\N{MINUS SIGN}{cents(invoice.withholding)}",
        f"{cents(invoice.total)} EUR",
    ):
        assert expected in text, expected
    # Issuing again gives the same invoice: one per statement.
    assert invoices.issue_invoice(royalty=royalty, payee=ana) == invoice
    assert invoices.issue_invoice(royalty=royalty, payee=bo) is None


def test_a_rolled_back_issue_gives_its_number_back(finalised, flow):
    royalty, _, bo = finalised
    bo.self_billing, bo.country = True, "IT"
    bo.save()
    with pytest.raises(RuntimeError), transaction.atomic():
        assert invoices.issue_invoice(royalty=royalty, payee=bo).number == 2
        raise RuntimeError("the issue's transaction fails")
    assert not SelfBillingInvoice.objects.filter(payee=bo).exists()
    again = invoices.issue_invoice(royalty=royalty, payee=bo)
    assert (again.number, again.treatment) == (2, T.NO_VAT)


def test_staff_download_an_invoice_from_the_admin(finalised, make_user):
    invoice = SelfBillingInvoice.objects.get()
    staff = make_user("bea", staff=True)
    staff.is_superuser = True
    staff.save()
    client = Client()
    client.force_login(staff)
    listing = client.get("/admin/statements/selfbillinginvoice/").content.decode()
    assert f"/admin/statements/selfbillinginvoice/{invoice.pk}/pdf/" in listing
    response = client.get(f"/admin/statements/selfbillinginvoice/{invoice.pk}/pdf/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content == storage.read(invoice.storage_key)


def test_staff_issue_the_invoices_of_a_payee_who_opted_in_after_finalisation(finalised, make_user):
    royalty, _, bo = finalised
    bo.self_billing, bo.country = True, "US"
    bo.save()
    staff = make_user("bea", staff=True)
    staff.is_superuser = True
    staff.save()
    client = Client()
    client.force_login(staff)
    action = {"action": "issue_invoices", "_selected_action": [royalty.pk]}
    page = client.post("/admin/statements/royaltyrun/", action, follow=True).content.decode()
    assert "1 invoice issued." in page
    invoice = SelfBillingInvoice.objects.get(payee=bo)
    assert (invoice.code, invoice.treatment, invoice.net) == (
        "SB-000002",
        T.OUTSIDE_SCOPE,
        cents(EARNED * D("0.4")),
    )
    # Again: nothing new.
    assert (
        "0 invoices issued."
        in client.post("/admin/statements/royaltyrun/", action, follow=True).content.decode()
    )
