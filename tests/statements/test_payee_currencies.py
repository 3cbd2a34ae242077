"""Payees in their own currency (issue 24 item 2): a run in USD with payees in EUR, GBP and USD.
Earnings are computed in the run's currency and converted at the run's rate for each payee
currency; expected figures are computed here with plain Decimal arithmetic. A missing rate stops
finalisation, naming the currency; a finalised run's rates are frozen (service and database); the
ledger keeps one balance per currency; payment batches pay in the payee's currency."""

import csv
import io
from decimal import ROUND_HALF_EVEN
from decimal import Decimal as D

import openpyxl
import pytest
from django.db import DatabaseError, transaction
from django.test import Client
from pypdf import PdfReader

from project.errors import Conflict
from project.models import OutboundEmail
from statements.models import StatementRun
from statements.royalties import payment_files, payments, selectors, services
from statements.royalties.calculation import compute
from statements.royalties.models import Payee, PayeeRate, RoyaltyLedgerEntry
from tests.statements.test_portal_access import payee_user
from tests.statements.test_royalties import HEADER, ISRC, contract

pytestmark = pytest.mark.django_db

SALES = HEADER + (
    f"2026-09,Spotify,Ana,{ISRC},,Song,NL,1000,123.4567,USD,stream\n"
    f"2026-09,iTunes,Ana,{ISRC},,Song,DE,3,7.89,USD,download\n"
)
ROYALTY = D("123.4567") * D("0.20") + D("7.89") * D("0.15")  # USD, the contract's rates
EUR_RATE, GBP_RATE = D("0.9234567891"), D("0.7812345678")
RATES = [
    {"currency": "EUR", "rate": str(EUR_RATE), "source": "ECB reference rate", "date": "2026-09-30"},
    {"currency": "GBP", "rate": str(GBP_RATE), "source": "ECB reference rate", "date": "2026-09-30"},
]
IBAN = "DE89370400440532013000"


def cents(amount: D) -> str:
    return str(amount.quantize(D("0.01"), ROUND_HALF_EVEN))


def usd_run(flow, content: str = SALES, *, rates=RATES) -> StatementRun:
    run_id = flow.create_run(currency="USD")
    flow.processed_file(content.encode(), run_id, duplicate_reason="the same sales in another test run")
    if rates:
        assert flow.rates(run_id, rates, kind="payee_currencies").status_code == 200
    return StatementRun.objects.get(pk=run_id)


@pytest.fixture
def three_payees():
    eva = Payee.objects.create(name="Eva", currency="EUR", payment_method="iban", iban=IBAN)
    gus = Payee.objects.create(
        name="Gus", currency="GBP", payment_method="wise", wise_email="gus@wise.example"
    )
    uma = Payee.objects.create(name="Uma", currency="USD")
    contract(shares=[(eva, "50"), (gus, "30"), (uma, "20")])
    return eva, gus, uma


# Each payee's share in USD, then converted: the independent expectation.
EVA_USD, GUS_USD, UMA_USD = ROYALTY * D("0.5"), ROYALTY * D("0.3"), ROYALTY * D("0.2")
EVA_EUR, GUS_GBP = EVA_USD * EUR_RATE, GUS_USD * GBP_RATE


def test_earnings_are_converted_per_payee_at_the_runs_rate(flow, three_payees):
    result = compute(usd_run(flow))
    statements = {s.payee.name: s for s in result.statements}
    assert result.problems == []
    assert (statements["Eva"].run_earnings, statements["Eva"].fx_rate) == (EVA_USD, EUR_RATE)
    assert statements["Eva"].total("earnings") == EVA_EUR
    assert statements["Gus"].total("payable") == GUS_GBP
    assert (statements["Uma"].total("earnings"), statements["Uma"].fx_rate) == (UMA_USD, None)


def test_statements_show_both_amounts_and_the_rate_in_the_api(flow, three_payees, api):
    run = usd_run(flow)
    services.finalize_run(run=run)
    data = api.get(f"/api/statement_run/{run.pk}/statements/").json()
    eva, gus, uma = data["statements"]
    assert (eva["currency"], eva["run_currency"]) == ("EUR", "USD")
    assert eva["run_earnings"]["amount"] == cents(EVA_USD) and D(eva["run_earnings"]["exact"]) == EVA_USD
    assert eva["summary"]["earnings"]["amount"] == cents(EVA_EUR)
    assert D(eva["summary"]["payable"]["exact"]) == EVA_EUR
    assert eva["exchange"] == {
        "from": "USD",
        "to": "EUR",
        "rate": str(EUR_RATE),
        "source": "ECB reference rate",
        "date": "2026-09-30",
    }
    assert gus["summary"]["payable"]["amount"] == cents(GUS_GBP)
    assert (uma["currency"], uma["exchange"], uma["summary"]["earnings"]["amount"]) == (
        "USD",
        None,
        cents(UMA_USD),
    )
    # One payee's statement: lines and breakdowns in USD and in the payee's currency.
    (line,) = [
        x for x in selectors.payee_statement(run, three_payees[0].pk)["lines"] if x["dsp"] == "Spotify"
    ]
    spotify_usd = D("123.4567") * D("0.20") * D("0.5")
    assert (line["run_earnings"]["amount"], line["earnings"]["amount"]) == (
        cents(spotify_usd),
        cents(spotify_usd * EUR_RATE),
    )
    # Finalised rows read back identically.
    assert api.get(f"/api/statement_run/{run.pk}/statements/").json() == data


def test_a_missing_rate_stops_finalisation_naming_the_currency(flow, three_payees, make_user):
    run = usd_run(flow, rates=RATES[:1])
    (problem,) = selectors.run_statements(run)["problems"]
    assert "GBP" in problem and "Gus" in problem and "EUR" not in problem.split("Payees left out")[0]
    with pytest.raises(Conflict, match="GBP") as refused:
        services.finalize_run(run=run)
    assert refused.value.code == "payee_rates_missing"
    client = Client()
    client.force_login(make_user("bea", groups=["back-office"]))
    page = client.get(f"/statements/{run.pk}/").content.decode()
    assert 'id="missing-payee-rates"' in page and "<strong>GBP</strong> (Gus)" in page
    # The review page says it in the reader's language, from the English the draft keeps.
    review = client.get(f"/statements/{run.pk}/royalties/", HTTP_ACCEPT_LANGUAGE="it").content.decode()
    assert "Manca il cambio da USD per le valute dei beneficiari GBP" in review and "(Gus)" in review
    assert problem not in review and 'id="review-problems"' in review
    confirm = client.get(f"/statements/{run.pk}/finalize/", HTTP_ACCEPT_LANGUAGE="it").content.decode()
    assert 'id="finalize-problems"' in confirm and "Manca il cambio da USD" in confirm


def test_rates_are_entered_on_the_run_page_and_checked(flow, three_payees, make_user):
    run = usd_run(flow, rates=[])
    client = Client()
    client.force_login(make_user("bea", groups=["back-office"]))
    form = {"payee_rates-TOTAL_FORMS": "1", "payee_rates-INITIAL_FORMS": "0"}
    row = {"currency": "EUR", "rate": "0,92", "source": "ECB", "date": "2026-09-31"}
    bad = client.post(
        f"/statements/{run.pk}/payee_rates/", {**form, **{f"payee_rates-0-{k}": v for k, v in row.items()}}
    )
    assert bad.status_code == 400 and "is not YYYY-MM-DD" in bad.content.decode()
    row["date"] = "2026-09-30"
    good = client.post(
        f"/statements/{run.pk}/payee_rates/", {**form, **{f"payee_rates-0-{k}": v for k, v in row.items()}}
    )
    assert good.status_code == 302
    assert list(run.payee_rates.values_list("currency", "rate", "source")) == [("EUR", D("0.92"), "ECB")]
    # The run's own currency needs no rate.
    refused = flow.rates(run.pk, [{**RATES[0], "currency": "USD"}], kind="payee_currencies")
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "rate_set_invalid"


def test_the_rates_are_frozen_once_the_run_is_finalised(flow, three_payees):
    run = usd_run(flow)
    services.finalize_run(run=run)
    refused = flow.rates(run.pk, RATES[:1], kind="payee_currencies")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "payee_rates_frozen"
    with pytest.raises(Conflict, match="frozen"):
        services.replace_payee_rates(run=run, items=[], user=None)
    for change in (
        lambda: PayeeRate.objects.filter(run=run).update(rate=D("1.5")),
        lambda: PayeeRate.objects.filter(run=run).delete(),
        lambda: PayeeRate.objects.create(run=run, currency="CHF", rate=1, source="x", date="2026-09-30"),
    ):
        with pytest.raises(DatabaseError, match="frozen"), transaction.atomic():
            change()
    assert run.payee_rates.count() == 2


def balances(payee: Payee) -> dict[str, D]:
    totals: dict[str, D] = {}
    for entry in RoyaltyLedgerEntry.objects.filter(payee=payee).exclude(kind__in=["recoupment", "paid_out"]):
        totals[entry.currency] = totals.get(entry.currency, D(0)) + entry.amount
    return totals


def test_the_ledger_keeps_one_balance_per_currency_across_two_runs(flow):
    eva = Payee.objects.create(name="Eva", currency="EUR", minimum_payout=D("1000"))
    deal = contract(shares=[(eva, "100")])
    services.post_entry(payee=eva, contract=deal, kind="advance", amount=D("10.00"), currency="EUR")
    first = usd_run(flow)
    services.finalize_run(run=first)
    earned = ROYALTY * EUR_RATE
    eur = {e.kind: e.amount for e in RoyaltyLedgerEntry.objects.filter(royalty_run__run=first)}
    # The EUR advance recoups the EUR earnings; below the minimum payout nothing is paid.
    assert eur == {"earnings": earned, "recoupment": D("10.00")}
    assert set(RoyaltyLedgerEntry.objects.filter(payee=eva).values_list("currency", flat=True)) == {"EUR"}
    # Eva is paid in GBP from now on: the second run's earnings land in a GBP balance.
    Payee.objects.filter(pk=eva.pk).update(currency="GBP", minimum_payout=D("0"))
    second = usd_run(flow, SALES.replace("2026-09", "2026-10"))
    summary = selectors.run_statements(second)["statements"][0]
    assert summary["currency"] == "GBP" and summary["summary"]["opening"]["amount"] == "0.00"
    services.finalize_run(run=second)
    assert balances(eva) == {"EUR": D("-10.00") + earned, "GBP": D(0)}
    gbp = RoyaltyLedgerEntry.objects.filter(royalty_run__run=second)
    assert {(e.kind, e.currency, e.amount) for e in gbp} == {
        ("earnings", "GBP", ROYALTY * GBP_RATE),
        ("payment", "GBP", -ROYALTY * GBP_RATE),
    }


def test_a_batch_pays_each_payee_in_their_currency(flow, three_payees, settings):
    settings.PAYMENTS_DEBTOR_NAME, settings.PAYMENTS_DEBTOR_IBAN = "Label", "IT60X0542811101000000123456"
    royalty = services.finalize_run(run=usd_run(flow))
    batch = payments.create_batch(runs=[royalty], by_user=None)
    lines = {line.payee.name: line for line in payments.batch_lines(batch)}
    assert {name: (line.currency, line.amount) for name, line in lines.items()} == {
        "Eva": ("EUR", D(cents(EVA_EUR))),
        "Gus": ("GBP", D(cents(GUS_GBP))),
        "Uma": ("USD", D(cents(UMA_USD))),
    }
    assert [line.payee.name for line in payment_files.sepa_lines(payments.batch_lines(batch))] == ["Eva"]
    wise = list(csv.reader(io.StringIO(payment_files.wise_csv(payments.batch_lines(batch)).decode())))
    assert wise[1][0] == "Gus" and wise[1][5:] == [cents(GUS_GBP), "GBP", "GBP"]


def test_the_portal_shows_both_amounts_and_the_rate(flow, three_payees, make_user):
    services.finalize_run(run=usd_run(flow))
    run_id = StatementRun.objects.get().pk
    client = Client()
    client.force_login(payee_user(make_user, three_payees[0]))
    page = client.get(f"/portal/statements/{run_id}/").content.decode()
    assert f"{cents(EVA_EUR)} EUR" in page and f"{cents(EVA_USD)} USD" in page
    assert "1 USD = 0.9234567891 EUR" in page


def test_the_statement_email_gives_the_rate_and_both_earnings(flow, three_payees):
    Payee.objects.filter(name="Eva").update(email="eva@example.com", email_statements=True)
    services.finalize_run(run=usd_run(flow))
    body = OutboundEmail.objects.get(kind="statements/royalty_statement").text_body
    assert "(EUR):" in body and "1 USD = 0.9234567891 EUR (ECB reference rate, 2026-09-30)" in body
    assert f"Earnings in USD   {cents(EVA_USD)}" in body and f"Payable           {cents(EVA_EUR)}" in body


def test_the_pdf_and_xlsx_show_both_amounts_and_the_rate(flow, three_payees, api):
    run = usd_run(flow)
    services.finalize_run(run=run)
    eva = three_payees[0]
    pdf = api.get(f"/api/statement_run/{run.pk}/statements/{eva.pk}.pdf").content
    text = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "1 USD = 0.9234567891 EUR (ECB reference rate, 2026-09-30)" in text
    assert f"{cents(EVA_USD)} USD → {cents(EVA_EUR)} EUR" in text and f"Payable {cents(EVA_EUR)} EUR" in text
    xlsx = api.get(f"/api/statement_run/{run.pk}/statements/{eva.pk}.xlsx").content
    book = openpyxl.load_workbook(io.BytesIO(xlsx))
    summary = list(book["Summary"].iter_rows(values_only=True))
    assert summary[0][3] == "EUR"
    assert summary[2] == ("Exchange rate", "1 USD = 0.9234567891 EUR", "ECB reference rate", "2026-09-30")
    assert summary[3][:2] == ("Earnings in USD", float(cents(EVA_USD)))
    lines = list(book["Lines"].iter_rows(values_only=True))
    assert lines[0][-4:] == ("earnings", "earnings_exact", "earnings_USD", "earnings_USD_exact")
    assert sum(D(row[-3]) for row in lines[1:]) == EVA_EUR and sum(D(row[-1]) for row in lines[1:]) == EVA_USD


def test_a_currency_changes_only_with_the_old_balance_settled(flow):
    """Statements read the ledger in the payee's currency: an open EUR balance would be left behind
    by a switch to GBP, so the switch waits until it is paid or adjusted to zero."""
    from project.errors import InvalidInput
    from statements.royalties.forms import PayeeForm

    eva = Payee.objects.create(name="Eva", currency="EUR")
    deal = contract(shares=[(eva, "100")])
    services.post_entry(payee=eva, contract=deal, kind="advance", amount=D("10.00"), currency="EUR")
    with pytest.raises(InvalidInput, match=r"open balance of -10\.00 EUR") as refused:
        services.save_payee(payee=eva, data={"currency": "GBP"})
    assert refused.value.problems[0]["loc"] == ["currency"]
    form = PayeeForm(data={**PayeeForm(instance=eva).initial, "currency": "GBP"}, instance=eva)
    assert not form.is_valid() and "before changing their currency to GBP" in form.errors["currency"][0]
    eva.refresh_from_db()
    assert eva.currency == "EUR"
    # Settled (an adjustment back to zero), the currency may change; other fields always could.
    services.post_entry(payee=eva, contract=deal, kind="adjustment", amount=D("10.00"), currency="EUR")
    assert services.save_payee(payee=eva, data={"currency": "GBP"}).currency == "GBP"
