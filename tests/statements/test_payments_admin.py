"""Payment batches in the admin: created from finalised runs (an action of Royalty runs), reviewed
on their page (lines, totals, files), the SEPA and Wise files downloaded, marked paid; Italian."""

import pytest
import xmlschema
from django.test import Client

from statements.royalties import services
from statements.royalties.models import PaymentBatch, RoyaltyLedgerEntry
from tests.statements.test_payments import IBAN_ANA, XSD
from tests.statements.test_royalties import contract, payee, processed_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def root(make_user) -> Client:
    user = make_user("root", staff=True)
    user.is_superuser = True
    user.save()
    client = Client()
    client.force_login(user)
    return client


def test_staff_create_review_download_and_mark_paid(flow, root, settings):
    settings.PAYMENTS_DEBTOR_NAME, settings.PAYMENTS_DEBTOR_IBAN = "Label Srl", "IT60X0542811101000000123456"
    ana = payee("Ana", payment_method="iban", iban=IBAN_ANA)
    bo = payee("Bo", payment_method="wise", wise_email="bo@wise.example")
    contract(shares=[(ana, "60"), (bo, "40")])
    royalty = services.finalize_run(run=processed_run(flow))
    response = root.post(
        "/admin/statements/royaltyrun/",
        {"action": "create_payment_batch", "_selected_action": [royalty.pk]},
    )
    batch = PaymentBatch.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/paymentbatch/{batch.pk}/change/")
    page = root.get(response["Location"]).content.decode()
    assert "Ana" in page and "bank transfer (IBAN)" in page and "Wise" in page and "to review" in page
    assert 'id="mark-paid"' in page and 'id="cancel-batch"' in page
    sepa = root.get(f"/admin/statements/paymentbatch/{batch.pk}/file/sepa/")
    assert sepa["Content-Disposition"] == f'attachment; filename="batch-{batch.pk}-sepa.xml"'
    xmlschema.XMLSchema(XSD).validate(sepa.content.decode())
    wise = root.get(f"/admin/statements/paymentbatch/{batch.pk}/file/wise/").content.decode()
    assert wise.splitlines()[1].startswith("Bo,bo@wise.example,")
    assert root.get(f"/admin/statements/paymentbatch/{batch.pk}/mark-paid/").status_code == 405
    response = root.post(
        f"/admin/statements/paymentbatch/{batch.pk}/mark-paid/", {"paid_on": "2026-12-01"}, follow=True
    )
    assert "Batch marked paid" in response.content.decode()
    batch.refresh_from_db()
    assert batch.status == "paid" and str(batch.paid_on) == "2026-12-01"
    assert RoyaltyLedgerEntry.objects.filter(kind="paid_out").count() == 2
    page = root.get(
        f"/admin/statements/paymentbatch/{batch.pk}/change/", HTTP_ACCEPT_LANGUAGE="it"
    ).content.decode()
    assert 'id="mark-paid"' not in page and "Pagato" in page and "bonifico bancario (IBAN)" in page


def test_operators_cannot_reach_batches(flow, make_user):
    client = Client()
    client.force_login(make_user("ops", groups=["operators"]))
    assert client.get("/admin/statements/paymentbatch/").status_code in (302, 403)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_batch_page_in_chromium(page, flow, make_user, tmp_path):
    ana = payee("Ana", payment_method="iban", iban=IBAN_ANA)
    bo = payee("Bo", payment_method="paypal", paypal_email="bo@example.com")
    contract(shares=[(ana, "60"), (bo, "40")])
    from statements.royalties import payments

    batch = payments.create_batch(runs=[services.finalize_run(run=processed_run(flow))], by_user=None)
    user = make_user("root", staff=True)
    user.is_superuser = True
    user.save()
    page.goto(f"/admin/statements/paymentbatch/{batch.pk}/change/")
    page.fill("#id_username", "root")
    page.fill("#id_password", "pw-root-123")
    page.press("#id_password", "Enter")
    page.wait_for_url(f"**/paymentbatch/{batch.pk}/change/")
    for language in ("en", "it"):
        page.set_extra_http_headers({"Accept-Language": language})
        page.reload()
        for width, height in ((1280, 800), (375, 740)):
            page.set_viewport_size({"width": width, "height": height})
            page.screenshot(path=str(tmp_path / f"batch-{language}-{width}.png"), full_page=True)
            # Nothing but the lines table (the admin lets it scroll) is wider than the screen.
            assert page.evaluate("document.querySelector('#batch-files').scrollWidth") <= width
    assert "Segna come pagato" in page.locator("#mark-paid").get_attribute("value")
    page.set_extra_http_headers({"Accept-Language": "en"})
    page.reload()
    assert page.locator("#batch-files a").count() == 3  # generic, SEPA, PayPal EUR
    page.click("#mark-paid")
    assert "Batch marked paid" in page.locator(".messagelist").inner_text()
    assert page.locator("#mark-paid").count() == 0
