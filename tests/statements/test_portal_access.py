"""Who may open what (issue 24 item 5), table-driven: every portal URL and a sample of staff, admin
and API URLs, each opened by Ana's portal user, Bo's portal user, a staff user and an anonymous
client, with the status each must get. Ana's objects are 404 to Bo (no hint they exist), a draft is
404 to everyone in the portal, staff pages are 403 to payees, the admin sends them to its login.
Access ends with the payee (inactive: 403 saying so) or with the portal account (disabled user:
treated as signed out, the login refused)."""

from decimal import Decimal as D

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import get_resolver

from project.errors import InvalidInput
from project.roles import PAYEES
from project.tokens import issue_api_token
from statements.royalties import selectors, services
from statements.royalties.models import SelfBillingInvoice
from statements.royalties.portal import services as portal_services
from statements.royalties.portal import urls as portal_urls
from statements.royalties.portal.models import PortalAccount
from tests.statements.test_royalties import HEADER, ISRC, contract, payee, processed_run

pytestmark = pytest.mark.django_db

ANA_SALES = HEADER + f"2026-09,Spotify,Ana,{ISRC},,Song,NL,1000,30.00,EUR,stream\n"
BO_SALES = HEADER + "2026-10,Deezer,Bo,,,Other,FR,10,20.00,EUR,stream\n"
DRAFT_SALES = HEADER + f"2026-11,Spotify,Ana,{ISRC},,Song,IT,5,10.00,EUR,stream\n"


def payee_user(make_user, payee_):
    user = make_user(f"{payee_.name.lower()}@example.com")
    user.groups.add(Group.objects.get_or_create(name=PAYEES)[0])
    PortalAccount.objects.create(user=user, payee=payee_, invited_at="2026-12-01T10:00Z")
    return user


def disabled(user):
    user.is_active = False  # how staff disable a portal account: the login is refused
    user.save(update_fields=["is_active"])
    return user


def superuser(user):
    user.is_superuser = True
    user.save(update_fields=["is_superuser"])
    return user


def invoice_of(royalty, payee_, number: int) -> SelfBillingInvoice:
    return SelfBillingInvoice.objects.create(
        label="SB",
        number=number,
        royalty_run=royalty,
        payee=payee_,
        issue_date="2026-12-01",
        currency="EUR",
        net=D("6.00"),
        treatment=SelfBillingInvoice.Treatment.NO_VAT,
        vat_rate=0,
        vat=0,
        withholding_rate=0,
        withholding=0,
        total=D("6.00"),
        parties={
            "supplier": {
                "name": payee_.name,
                "address": "",
                "country": "IT",
                "tax_id": "",
                "vat_status": "not_registered",
            },
            "customer": {"name": "Demo Records", "address": "", "country": "IT", "vat_id": ""},
            "run": {"id": royalty.run_id, "name": royalty.run.name, "currency": "EUR"},
        },
    )


@pytest.fixture
def world(flow, make_user):
    ana, bo, cleo, dan = payee("Ana"), payee("Bo"), payee("Cleo", active=False), payee("Dan")
    contract(shares=[(ana, "100")])
    ana_run = services.finalize_run(run=processed_run(flow, ANA_SALES))
    contract("Bo deal", shares=[(bo, "100")], isrcs=[], artists=["Bo"])
    bo_run = services.finalize_run(run=processed_run(flow, BO_SALES))
    draft = processed_run(flow, DRAFT_SALES)
    assert [s["payee"]["name"] for s in selectors.run_statements(ana_run.run)["statements"]] == ["Ana"]
    assert [s["payee"]["name"] for s in selectors.run_statements(bo_run.run)["statements"]] == ["Bo"]
    return {
        "ana": ana,
        "bo": bo,
        "ana_run": ana_run.run_id,
        "bo_run": bo_run.run_id,
        "draft": draft.pk,
        "ana_invoice": invoice_of(ana_run, ana, 1).pk,
        "bo_invoice": invoice_of(bo_run, bo, 2).pk,
        "users": {
            "ana": payee_user(make_user, ana),
            "bo": payee_user(make_user, bo),
            "cleo": payee_user(make_user, cleo),
            "dan": disabled(payee_user(make_user, dan)),
            "staff": superuser(make_user("bea", groups=["back-office"], staff=True)),
        },
    }


# (URL, status for Ana's user, Bo's user, Cleo's user (Cleo is no longer an active payee), Dan's
# user (his portal account is disabled), staff, anonymous). 302 of an anonymous: to the login.
TABLE = [
    ("/portal/", 200, 200, 403, 302, 403, 302),
    ("/portal/statements/{ana_run}/", 200, 404, 403, 302, 403, 302),
    ("/portal/statements/{ana_run}.pdf", 200, 404, 403, 302, 403, 302),
    ("/portal/statements/{ana_run}.xlsx", 200, 404, 403, 302, 403, 302),
    ("/portal/statements/{bo_run}/", 404, 200, 403, 302, 403, 302),
    ("/portal/statements/{bo_run}.pdf", 404, 200, 403, 302, 403, 302),
    ("/portal/statements/{bo_run}.xlsx", 404, 200, 403, 302, 403, 302),
    ("/portal/statements/{draft}/", 404, 404, 403, 302, 403, 302),
    ("/portal/statements/{draft}.pdf", 404, 404, 403, 302, 403, 302),
    ("/portal/statements/{draft}.xlsx", 404, 404, 403, 302, 403, 302),
    ("/portal/statements/999999/", 404, 404, 403, 302, 403, 302),
    ("/portal/invoices/{ana_invoice}.pdf", 200, 404, 403, 302, 403, 302),
    ("/portal/invoices/{bo_invoice}.pdf", 404, 200, 403, 302, 403, 302),
    ("/portal/payment-details/", 200, 200, 403, 302, 403, 302),
    ("/portal/invitation/MQ/0-0/", 404, 404, 404, 404, 404, 404),
    # A sample of the back office: pages, the admin, the APIs.
    ("/", 302, 302, 302, 302, 200, 302),
    ("/statements/", 403, 403, 403, 302, 200, 302),
    ("/statements/{draft}/", 403, 403, 403, 302, 200, 302),
    ("/statements/{ana_run}/royalties/", 403, 403, 403, 302, 200, 302),
    ("/statements/{ana_run}/royalties/{ana_id}/", 403, 403, 403, 302, 200, 302),
    ("/sessions/", 403, 403, 403, 302, 200, 302),
    ("/exports/", 403, 403, 403, 302, 200, 302),
    ("/admin/", 302, 302, 302, 302, 200, 302),
    ("/admin/statements/payee/", 302, 302, 302, 302, 200, 302),
    ("/admin/statements/selfbillinginvoice/{ana_invoice}/pdf/", 302, 302, 302, 302, 200, 302),
    ("/api/statement_run/{ana_run}/statements/", 403, 403, 403, 401, 200, 401),
    ("/api/statement_run/{ana_run}/statements/{ana_id}.pdf", 403, 403, 403, 401, 200, 401),
    ("/api/statement_run/{draft}/statements/", 403, 403, 403, 401, 200, 401),
]
WHO = ("ana", "bo", "cleo", "dan", "staff", "anonymous")


def test_every_cell_of_the_access_table(world):
    ids = {key: value for key, value in world.items() if isinstance(value, int)}
    ids["ana_id"], ids["bo_id"] = world["ana"].pk, world["bo"].pk
    clients = {"anonymous": Client()}
    for name, user in world["users"].items():
        clients[name] = Client()
        clients[name].force_login(user)
    got, expected = {}, {}
    for url, *statuses in TABLE:
        for who, status in zip(WHO, statuses, strict=True):
            expected[url, who] = status
            got[url, who] = clients[who].get(url.format(**ids)).status_code
    assert got == expected
    # Every portal URL is in the table.
    portal = {
        get_resolver().resolve(url.format(**ids)).url_name for url, *_ in TABLE if url.startswith("/portal/")
    }
    assert portal == {pattern.name for pattern in portal_urls.urlpatterns}


def test_a_payee_user_gets_no_api_token(world):
    with pytest.raises(InvalidInput, match="not given API tokens"):
        issue_api_token(user=world["users"]["ana"], scopes=["statements:read"])
    # Nor can staff pick them in the admin's new token form.
    staff = Client()
    staff.force_login(world["users"]["staff"])
    form = staff.get("/admin/project/apitoken/add/").content.decode()
    assert "bea" in form and "ana@example.com" not in form


def test_a_payee_user_logging_in_lands_in_the_portal(world):
    client = Client()
    response = client.post(
        "/accounts/login/", {"username": "ana@example.com", "password": "pw-ana@example.com-123"}
    )
    assert response.status_code == 302
    assert client.get(response["Location"], follow=True).redirect_chain[-1][0] == "/portal/"


def test_an_inactive_payee_is_told_their_portal_access_ended(world):
    client = Client()
    client.force_login(world["users"]["cleo"])
    response = client.get("/portal/")
    assert response.status_code == 403
    assert "Your access to the portal has ended" in response.content.decode()
    # Nor does a pending invitation link of theirs work any more.
    link = portal_services.invitation_path(world["users"]["cleo"])
    assert client.get(link).status_code == 404


def test_a_disabled_portal_account_cannot_log_in(world):
    user = world["users"]["dan"]
    user.set_password("pw-dan-123-long")
    user.save(update_fields=["password"])
    client = Client()
    response = client.post("/accounts/login/", {"username": user.username, "password": "pw-dan-123-long"})
    assert response.status_code == 200 and "_auth_user_id" not in client.session  # the form again
