"""Royalties API, payment batches (issue 24 item 6): create from a finalised run, read the lines,
download the SEPA file (valid against the pain.001.001.03 XSD) and the Wise CSV, mark paid twice
(pays once), cancel refused once paid; a read-only token cannot write."""

from decimal import ROUND_HALF_EVEN
from decimal import Decimal as D

import pytest
import xmlschema

from statements.royalties import services
from statements.royalties.models import RoyaltyLedgerEntry
from tests.statements.test_payments import IBAN_ANA, XSD
from tests.statements.test_royalties import contract, payee, processed_run

pytestmark = pytest.mark.django_db
URL = "/api/royalties/payment_batches/"


@pytest.fixture
def run(flow, settings):
    settings.PAYMENTS_DEBTOR_NAME, settings.PAYMENTS_DEBTOR_IBAN = "Label Srl", "IT60X0542811101000000123456"
    ana = payee("Ana", payment_method="iban", iban=IBAN_ANA, withholding_rate=20)
    bo = payee("Bo", payment_method="wise", wise_email="bo@wise.example")
    contract(shares=[(ana, "60"), (bo, "40")])
    return services.finalize_run(run=processed_run(flow)).run


def test_create_download_and_mark_paid_once(run, api):
    response = api.post(URL, {"runs": [run.pk]}, content_type="application/json")
    assert response.status_code == 201, response.content
    batch = response.json()
    assert batch["status"] == "open" and batch["runs"] == [run.pk]
    ana = next(line for line in batch["lines"] if line["payee_name"] == "Ana")
    assert ana["method"] == "iban" and ana["account"] == IBAN_ANA and ana["runs"] == [run.pk]
    figures = {name: D(ana[name]["amount"]) for name in ("payable", "withheld", "vat", "amount")}
    assert figures["withheld"] == (D(ana["payable"]["exact"]) * D("0.2")).quantize(D("0.01"), ROUND_HALF_EVEN)
    assert figures["vat"] == 0  # not self-billed: no invoice, no VAT on top
    assert figures["amount"] == figures["payable"] - figures["withheld"]
    assert [total["vat"]["amount"] for total in batch["totals"]] == ["0.00"]
    sepa = api.get(f"{URL}{batch['id']}/files/sepa/")
    assert sepa.status_code == 200 and sepa["Content-Type"] == "application/xml"
    xmlschema.XMLSchema(XSD).validate(sepa.content.decode())
    wise = api.get(f"{URL}{batch['id']}/files/wise/").content.decode()
    assert wise.splitlines()[1].startswith("Bo,bo@wise.example,")
    assert api.get(f"{URL}{batch['id']}/files/nope/").status_code == 404
    again = api.post(URL, {"runs": [run.pk]}, content_type="application/json")
    assert again.status_code == 409 and again.json()["error"]["code"] == "nothing_to_pay"
    for _ in range(2):
        paid = api.post(
            f"{URL}{batch['id']}/mark_paid/", {"paid_on": "2026-12-01"}, content_type="application/json"
        )
        assert (
            paid.status_code == 200
            and paid.json()["status"] == "paid"
            and paid.json()["paid_on"] == "2026-12-01"
        )
    assert RoyaltyLedgerEntry.objects.filter(kind="paid_out").count() == 2
    refused = api.post(f"{URL}{batch['id']}/cancel/")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "batch_closed"


def test_a_draft_run_is_refused_and_a_read_token_cannot_write(flow, api, api_client, make_user):
    contract(shares=[(payee("Ana"), "100")])
    draft = processed_run(flow)
    writer = api  # the flow's token: every scope, written too
    refused = writer.post(URL, {"runs": [draft.pk]}, content_type="application/json")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "run_not_finalized"
    reader = api_client(make_user("reader", groups=["back-office"]), scopes=["royalties:read"])
    assert reader.get(URL).status_code == 200
    assert reader.post(URL, {"runs": [draft.pk]}, content_type="application/json").status_code == 403
    assert writer.get(f"{URL}999/").json()["error"]["code"] == "batch_not_found"
