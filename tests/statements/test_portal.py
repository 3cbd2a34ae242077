"""The payee portal (issue 24 item 5): staff invite a payee, who sets a password once through the
emailed link, logs in through the usual login (django-axes counting failures) and sees their own
balance, earnings by run, DSP and territory, statements and invoices — nothing of another payee
and no draft — and asks for a change of payment details that waits for staff approval."""

import re
from datetime import date
from decimal import ROUND_HALF_EVEN
from decimal import Decimal as D
from urllib.parse import urlparse

import pytest
from django.test import Client

from project.models import OutboundEmail
from statements.royalties import payee_details, payments, services
from statements.royalties.models import Payee, PaymentDetailsChange, SelfBillingInvoice
from statements.royalties.portal import services as portal_services
from statements.royalties.portal.models import PortalAccount
from tests.statements.test_portal_access import payee_user
from tests.statements.test_royalties import HEADER, ISRC, contract, payee, processed_run

pytestmark = pytest.mark.django_db

FIRST = HEADER + (
    f"2026-09,Spotify,Ana,{ISRC},,Song,NL,1000,30.00,EUR,stream\n"
    f"2026-09,Deezer,Ana,{ISRC},,Song,FR,100,10.00,EUR,stream\n"
)
SECOND = HEADER + f"2026-10,Spotify,Ana,{ISRC},,Song,NL,500,20.00,EUR,stream\n"
DRAFT = HEADER + f"2026-11,Apple Music,Ana,{ISRC},,Song,JP,5,99.00,EUR,stream\n"


def cents(amount: D) -> str:
    return str(amount.quantize(D("0.01"), ROUND_HALF_EVEN))


@pytest.fixture
def staff(make_user):
    user = make_user("bea", groups=["back-office"], staff=True)
    user.is_superuser = True
    user.save()
    return user


@pytest.fixture
def ana_portal(flow, make_user, django_capture_on_commit_callbacks):
    ana = payee("Ana", email="ana@example.com", self_billing=True, country="IT", vat_status="registered")
    bo = payee("Zed Other", email="zed@example.com")
    contract(shares=[(ana, "75"), (bo, "25")])
    with django_capture_on_commit_callbacks(execute=True):
        first = services.finalize_run(run=processed_run(flow, FIRST))
        second = services.finalize_run(run=processed_run(flow, SECOND))
    draft = processed_run(flow, DRAFT)
    client = Client()
    client.force_login(payee_user(make_user, ana))
    return {"client": client, "ana": ana, "bo": bo, "first": first, "second": second, "draft": draft}


def test_home_shows_balance_earnings_by_run_dsp_territory_and_own_documents(ana_portal):
    client, first, second = ana_portal["client"], ana_portal["first"], ana_portal["second"]
    page = client.get("/portal/").content.decode()
    earned = {"first": (D("30") + D("10")) * D("0.2") * D("0.75"), "second": D("20") * D("0.2") * D("0.75")}
    # Bars: every value written beside its bar, the longest bar 100 %.
    by_run = re.findall(
        r'<span class="name">([^<]*)</span>.*?width: (\d+)%.*?"value">([^<]*)<', _chart(page, "chart-run")
    )
    assert by_run == [
        ("Q3 · 2026-09", "100", cents(earned["first"])),
        ("Q3 · 2026-10", "50", cents(earned["second"])),
    ]
    by_dsp = re.findall(r'<span class="name">([^<]*)</span>.*?"value">([^<]*)<', _chart(page, "chart-dsp"))
    assert by_dsp == [
        ("Spotify", cents((D("30") + D("20")) * D("0.2") * D("0.75"))),
        ("Deezer", cents(D("10") * D("0.2") * D("0.75"))),
    ]
    by_territory = re.findall(r'<span class="name">([^<]*)</span>', _chart(page, "chart-territory"))
    assert by_territory == ["NL", "FR"]
    # Payable is paid at finalisation, so nothing is owed now.
    assert re.search(r'id="balances">.*?0\.00 EUR', page, re.S)
    # Both statements with their documents and invoices; nothing of Bo's, nothing of the draft.
    invoices = list(SelfBillingInvoice.objects.filter(payee=ana_portal["ana"]).order_by("number"))
    assert [i.code for i in invoices] == ["SB-000001", "SB-000002"]
    for royalty, invoice in zip((first, second), invoices, strict=True):
        assert f'href="/portal/statements/{royalty.run_id}.pdf"' in page
        assert f'href="/portal/invoices/{invoice.pk}.pdf"' in page
    assert (
        "Zed Other" not in page
        and "Apple Music" not in page
        and f"/portal/statements/{ana_portal['draft'].pk}" not in page
    )


def _chart(page: str, chart_id: str) -> str:
    return re.search(rf'<ul class="hbars" id="{chart_id}".*?</ul>', page, re.S).group(0)


def test_home_lists_the_payees_payments(ana_portal, staff):
    ana, bo = ana_portal["ana"], ana_portal["bo"]
    Payee.objects.filter(pk=ana.pk).update(payment_method="paypal", paypal_email="ana@example.com")
    Payee.objects.filter(pk=bo.pk).update(payment_method="wise", wise_email="zed@example.com")
    batch = payments.create_batch(runs=[ana_portal["first"], ana_portal["second"]], by_user=staff)
    payments.mark_batch_paid(batch=batch, by_user=staff, paid_on=date(2026, 12, 5))
    line = batch.lines.get(payee=ana)
    page = ana_portal["client"].get("/portal/").content.decode()
    card = re.search(r'id="payments">.*?</table>', page, re.S).group(0)
    assert line.reference in card and "PayPal" in card and f"{cents(line.amount)} EUR" in card
    assert card.count("<tr>") == 2  # the header and Ana's one payment; none of Zed Other's
    assert "VAT" in card and f"{cents(line.vat)} EUR" in card
    # The page's title is text only (the payments card was once pasted into it).
    assert "<" not in re.search(r"<title>(.*?)</title>", page, re.S).group(1)


def test_statement_page_and_documents_are_the_payees_own(ana_portal):
    client, first = ana_portal["client"], ana_portal["first"]
    page = client.get(f"/portal/statements/{first.run_id}/").content.decode()
    assert 'id="summary"' in page and "Deezer" in page and "Zed Other" not in page
    pdf = client.get(f"/portal/statements/{first.run_id}.pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    xlsx = client.get(f"/portal/statements/{first.run_id}.xlsx")
    assert (
        xlsx["Content-Disposition"]
        == f'attachment; filename="statement-{first.run_id}-{ana_portal["ana"].pk}-ana.xlsx"'
    )
    invoice = SelfBillingInvoice.objects.filter(payee=ana_portal["ana"]).first()
    assert client.get(f"/portal/invoices/{invoice.pk}.pdf").content.startswith(b"%PDF")


def test_italian(ana_portal):
    page = ana_portal["client"].get("/portal/", HTTP_ACCEPT_LANGUAGE="it").content.decode()
    assert "Saldo (EUR)" in page and "Per DSP" in page and "Dati di pagamento" in page


def test_invitation_link_sets_a_password_once_then_the_payee_logs_in(staff):
    ana = payee("Ana", email="Ana@Example.com")
    admin_client = Client()
    admin_client.force_login(staff)
    invite = {"action": "invite_to_portal", "_selected_action": [ana.pk]}
    assert admin_client.post("/admin/statements/payee/", invite).status_code == 302
    account = PortalAccount.objects.get()
    assert (account.payee, account.user.username, account.user.is_staff) == (ana, "ana@example.com", False)
    assert not account.user.has_usable_password()
    mail = OutboundEmail.objects.get(kind="portal/invitation")
    link = re.search(r"http://testserver(/portal/invitation/\S+/)", mail.text_body).group(1)
    anonymous = Client()
    assert "ana@example.com" in anonymous.get(link).content.decode()
    short = anonymous.post(link, {"new_password1": "abc", "new_password2": "abc"})
    assert short.status_code == 200 and "too short" in short.content.decode()
    done = anonymous.post(link, {"new_password1": "Violet-Harbour-42", "new_password2": "Violet-Harbour-42"})
    assert done.status_code == 302 and done["Location"] == "/accounts/login/"
    assert anonymous.get(link).status_code == 404  # once only
    # Inviting again an account in use is refused; a wrong password counts for django-axes.
    refused = admin_client.post("/admin/statements/payee/", invite, follow=True).content.decode()
    assert "ana@example.com already uses the portal." in refused
    login = anonymous.post(
        "/accounts/login/", {"username": "ana@example.com", "password": "Violet-Harbour-42"}
    )
    assert anonymous.get(login["Location"], follow=True).redirect_chain[-1][0] == "/portal/"


def test_an_invitation_link_expires(staff, settings, monkeypatch):
    from datetime import datetime, timedelta

    ana = payee("Ana", email="ana@example.com")
    account = portal_services.invite_payee(payee=ana, email=ana.email, invited_by=staff, site_url="http://x")
    link = portal_services.invitation_path(account.user)
    later = datetime.now() + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 60)
    monkeypatch.setattr(portal_services.invitation_tokens, "_now", lambda: later)
    assert Client().get(link).status_code == 404
    # A password-reset token of the same user is no invitation.
    from django.contrib.auth.tokens import default_token_generator

    reset = f"/portal/invitation/{link.split('/')[3]}/{default_token_generator.make_token(account.user)}/"
    monkeypatch.undo()
    assert Client().get(reset).status_code == 404 and Client().get(link).status_code == 200


def test_the_login_lockout_applies_to_payee_users(ana_portal, settings):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/accounts/login/", {"username": "ana@example.com", "password": "wrong"})
    locked = client.post(
        "/accounts/login/", {"username": "ana@example.com", "password": "pw-ana@example.com-123"}
    )
    assert locked.status_code == 429


def test_payment_details_change_waits_for_staff_approval(ana_portal, staff):
    client, ana = ana_portal["client"], ana_portal["ana"]
    wrong = client.post(
        "/portal/payment-details/", {"country": "IT", "payment_method": "iban", "iban": "IT00 0000"}
    )
    assert wrong.status_code == 200 and "Invalid IBAN" in wrong.content.decode()
    assert not PaymentDetailsChange.objects.exists()
    iban = "IT60X0542811101000000123456"
    response = client.post(
        "/portal/payment-details/",
        {"country": "IT", "address": "Via Po 2", "payment_method": "iban", "iban": iban},
    )
    assert response.status_code == 302
    ana.refresh_from_db()
    assert ana.iban == "" and ana.payment_method == "none"  # not used before the approval
    page = client.get("/portal/payment-details/").content.decode()
    pending = re.search(r'id="pending-change">.*?</table>', page, re.S)
    assert pending, page
    assert iban in pending.group(0) and "bank transfer (IBAN)" in pending.group(0)
    payee_details.approve_payment_details_change(change=PaymentDetailsChange.objects.get(), by_user=staff)
    ana.refresh_from_db()
    assert (ana.iban, ana.payment_method, ana.address) == (iban, "iban", "Via Po 2")
    assert 'id="pending-change"' not in client.get("/portal/payment-details/").content.decode()
    assert urlparse(response["Location"]).path == "/portal/payment-details/"
