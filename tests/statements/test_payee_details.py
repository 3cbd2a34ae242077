"""Payee details (issue 24 item 1): tax ids checked by python-stdnum for the country, IBAN/BIC by
schwifty, the payment method's account required, every change in the audit trail, and a payee's
own change used only once staff approve it."""

from decimal import Decimal as D

import pytest
from auditlog.models import LogEntry
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import translation

from project.errors import Conflict, InvalidInput
from statements.royalties import payee_details
from statements.royalties.models import Payee, PaymentDetailsChange
from statements.royalties.payee_details import check_tax_id

pytestmark = pytest.mark.django_db

IBAN_IT = "IT60 X054 2811 1010 0000 0123 456"  # the Italian example IBAN of the ECBS register
IBAN_DE = "DE89370400440532013000"


@pytest.mark.parametrize(
    ("country", "tax_id", "stored"),
    [
        ("IT", "IT00743110157", "00743110157"),  # partita IVA with its prefix
        ("IT", "RCCMNL83S18D969H", "RCCMNL83S18D969H"),  # codice fiscale
        ("DE", "DE 136,695,976", "136695976"),
        ("NL", "NL004495445B01", "004495445B01"),
    ],
)
def test_valid_tax_ids_are_stored_compact(country, tax_id, stored):
    assert check_tax_id(country, tax_id) == (stored, None)


def test_a_wrong_check_digit_is_refused():
    _, problem = check_tax_id("IT", "IT00743110158")
    assert problem and "not a valid tax id for IT" in problem


def test_staff_set_details_iban_normalised_and_bic_derived(make_user):
    ana = Payee.objects.create(name="Ana")
    bea = make_user("bea", groups=["back-office"])
    payee_details.update_payee_details(
        payee=ana,
        data={
            "address": "Via Roma 1\n20121 Milano",
            "country": "it",
            "tax_id": "RCCMNL83S18D969H",
            "vat_status": "registered",
            "withholding_rate": "20",
            "payment_method": "iban",
            "iban": IBAN_DE,
        },
        by_user=bea,
    )
    ana.refresh_from_db()
    assert (ana.country, ana.iban, ana.bic) == ("IT", IBAN_DE, "COBADEFFXXX")
    assert ana.withholding_rate == D("20.00") and ana.get_vat_status_display() == "VAT registered"
    entry = LogEntry.objects.filter(additional_data__event="royalties.payee_details_changed").get()
    assert entry.actor == bea and entry.changes["iban"] == ["", IBAN_DE]


def test_invalid_details_are_refused_with_a_problem_per_field(make_user):
    ana = Payee.objects.create(name="Ana")
    with pytest.raises(InvalidInput) as refused:
        payee_details.update_payee_details(
            payee=ana,
            data={
                "country": "IT",
                "tax_id": "123",
                "payment_method": "iban",
                "iban": "IT00X",
                "withholding_rate": "120",
            },
            by_user=None,
        )
    fields = {problem["loc"][0] for problem in refused.value.problems}
    assert fields == {"tax_id", "iban", "withholding_rate"}
    with pytest.raises(InvalidInput) as refused:
        payee_details.update_payee_details(payee=ana, data={"payment_method": "paypal"}, by_user=None)
    assert refused.value.problems[0]["loc"] == ["paypal_email"]


def test_the_database_refuses_a_method_without_its_account():
    with pytest.raises(IntegrityError), transaction.atomic():
        Payee.objects.create(name="Bo", payment_method="wise")


def test_a_payees_change_waits_for_staff_approval(make_user):
    ana = Payee.objects.create(name="Ana", payment_method="paypal", paypal_email="ana@example.com")
    ana_user, bea = make_user("ana"), make_user("bea", groups=["back-office"])
    change = payee_details.submit_payment_details_change(
        payee=ana, data={"payment_method": "iban", "iban": IBAN_IT}, by_user=ana_user
    )
    ana.refresh_from_db()
    assert ana.payment_method == "paypal" and change.status == "pending"  # not used yet
    assert change.details == {
        "payment_method": "iban",
        "iban": IBAN_IT.replace(" ", ""),
        "bic": "BLOPIT22",
    }
    with pytest.raises(InvalidInput):  # a payee does not approve their own change
        payee_details.approve_payment_details_change(change=change, by_user=ana_user)
    payee_details.approve_payment_details_change(change=change, by_user=bea)
    ana.refresh_from_db()
    change.refresh_from_db()
    assert (ana.payment_method, ana.iban) == ("iban", IBAN_IT.replace(" ", ""))
    assert (change.status, change.decided_by) == ("approved", bea)
    with pytest.raises(Conflict):  # decided once
        payee_details.reject_payment_details_change(change=change, by_user=bea)
    events = LogEntry.objects.filter(object_pk=str(ana.pk)).values_list("additional_data__event", flat=True)
    assert {"royalties.payment_details_submitted", "royalties.payment_details_approved"} <= set(events)


def test_a_rejected_change_is_never_used_and_a_newer_one_supersedes(make_user):
    ana = Payee.objects.create(name="Ana")
    bea = make_user("bea", groups=["back-office"])
    first = payee_details.submit_payment_details_change(
        payee=ana, data={"payment_method": "wise", "wise_email": "ana@wise.example"}, by_user=None
    )
    second = payee_details.submit_payment_details_change(
        payee=ana, data={"payment_method": "wise", "wise_email": "ana2@wise.example"}, by_user=None
    )
    first.refresh_from_db()
    assert first.status == "superseded"
    assert PaymentDetailsChange.objects.filter(payee=ana, status="pending").get() == second
    payee_details.reject_payment_details_change(change=second, by_user=bea, reason="Unknown address")
    ana.refresh_from_db()
    assert ana.payment_method == "none" and ana.wise_email == ""


def test_a_payee_may_not_change_withholding_or_vat_status():
    ana = Payee.objects.create(name="Ana")
    change = payee_details.submit_payment_details_change(
        payee=ana, data={"withholding_rate": "0", "vat_status": "exempt", "address": "Via Po 2"}, by_user=None
    )
    assert change.details == {"address": "Via Po 2"}


def test_admin_edits_payee_details_with_the_same_checks(make_user):
    root = make_user("root", staff=True)
    root.is_superuser = True
    root.save()
    client = Client()
    client.force_login(root)
    ana = Payee.objects.create(name="Ana")
    form = {
        "name": "Ana",
        "email": "",
        "currency": "EUR",
        "minimum_payout": "0",
        "active": "on",
        "country": "IT",
        "tax_id": "IT00743110158",
        "vat_status": "registered",
        "withholding_rate": "0",
        "payment_method": "iban",
        "iban": "",
    }
    response = client.post(f"/admin/statements/payee/{ana.pk}/change/", form)
    page = response.content.decode()
    assert response.status_code == 200 and "not a valid tax id for IT" in page
    assert "Paid by bank transfer (IBAN): IBAN is required." in page
    italian = client.post(f"/admin/statements/payee/{ana.pk}/change/", form, HTTP_ACCEPT_LANGUAGE="it")
    assert "Pagamento tramite bonifico bancario (IBAN): IBAN è obbligatorio." in italian.content.decode()
    form.update(tax_id="IT00743110157", iban=IBAN_IT)
    response = client.post(f"/admin/statements/payee/{ana.pk}/change/", form)
    assert response.status_code == 302
    ana.refresh_from_db()
    assert (ana.tax_id, ana.bic) == ("00743110157", "BLOPIT22")


def test_problems_read_italian_on_the_italian_portal_form_and_english_in_the_api(make_user):
    from tests.statements.test_portal_access import payee_user

    ana = Payee.objects.create(name="Ana")
    client = Client()
    client.force_login(payee_user(make_user, ana))
    data = {"country": "IT", "tax_id": "123", "payment_method": "iban", "iban": "IT00 0000"}
    page = client.post("/portal/payment-details/", data, HTTP_ACCEPT_LANGUAGE="it").content.decode()
    assert "IBAN non valido: lunghezza errata" in page
    assert "&#x27;123&#x27; non è un codice fiscale o una partita IVA validi per IT (" in page
    assert "Invalid IBAN" not in page and "not a valid tax id" not in page
    paypal = {"country": "IT", "payment_method": "paypal"}
    page = client.post("/portal/payment-details/", paypal, HTTP_ACCEPT_LANGUAGE="it").content.decode()
    assert "Pagamento tramite PayPal: email PayPal è obbligatorio." in page
    assert "payee_paypal_method_has_email" not in page  # not the database constraint's name

    with translation.override("it"), pytest.raises(InvalidInput) as refused:
        payee_details.update_payee_details(payee=ana, data={"withholding_rate": "120"}, by_user=None)
    assert refused.value.message == (
        "The payee details are not valid: The withholding rate is a percent from 0 to 100."
    )
    with translation.override("it"):
        assert payee_details.english_problems(refused.value.problems) == [
            {"loc": ["withholding_rate"], "msg": "The withholding rate is a percent from 0 to 100."}
        ]
        assert str(refused.value.problems[0]["msg"]) == "La ritenuta d'acconto è una percentuale da 0 a 100."
