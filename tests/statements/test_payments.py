"""Payment batches (issue 24 item 3): a batch over a finalised run's payables, its SEPA
pain.001.001.03 file validated against the ISO 20022 XSD, the Wise, PayPal and generic CSVs,
mark-paid that posts one paid-out entry per payee once (twice, or two at the same time, pays
once) and sends remittance emails with the statement PDF to a real SMTP server, and cancelling.
Expected figures are computed here with plain Decimal arithmetic from the sales lines."""

import contextlib
import csv
import io
import threading
from decimal import ROUND_HALF_EVEN
from decimal import Decimal as D
from pathlib import Path

import pytest
import sepaxml
import xmlschema
from django.db import close_old_connections
from django.utils import translation

from project.errors import Conflict
from project.mail import deliver_outbox
from project.models import OutboundEmail
from statements import tasks
from statements.royalties import payment_files, payments, services
from statements.royalties.models import Payee, PaymentBatch, RoyaltyLedgerEntry
from tests.statements.test_royalties import ANA_ROYALTY, contract, payee, processed_run

pytestmark = pytest.mark.django_db

XSD = Path(sepaxml.__file__).parent / "schemas" / "pain.001.001.03.xsd"
CENT = D("0.01")
ANA_GROSS = ANA_ROYALTY * D("0.6")  # Ana's 60 % of the track's royalties, exact
BO_GROSS = ANA_ROYALTY * D("0.4")
IBAN_ANA = "DE89370400440532013000"


@pytest.fixture
def debtor(settings):
    settings.PAYMENTS_DEBTOR_NAME = "Label & Co. Srl"
    settings.PAYMENTS_DEBTOR_IBAN = "IT60X0542811101000000123456"
    settings.PAYMENTS_DEBTOR_BIC = "BLOPIT22"


@pytest.fixture
def finalised(flow):
    ana = payee(
        "Ana", email="ana@example.com", payment_method="iban", iban=IBAN_ANA, withholding_rate=D("20")
    )
    bo = payee("Bo", email="bo@example.com", payment_method="wise", wise_email="bo@wise.example")
    contract(shares=[(ana, "60"), (bo, "40")])
    return services.finalize_run(run=processed_run(flow))


@contextlib.contextmanager
def queued_not_run():
    """django-q2 tasks go to the broker and wait there, as when the cluster is busy: the test runs them."""
    from django_q.conf import Conf

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Conf, "SYNC", False)
        yield


def twice_at_once(work) -> tuple[list, list]:
    """Run `work` in two threads released together: (their results, their exceptions)."""
    barrier, results, errors = threading.Barrier(2), [], []

    def run() -> None:
        try:
            barrier.wait()
            results.append(work())
        except Exception as exc:  # collected: an exception in a thread would be lost
            errors.append(exc)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


def lines(batch):
    return {line.payee.name: line for line in payments.batch_lines(batch)}


def test_a_batch_pays_each_payee_their_payable_less_withholding(finalised, make_user):
    batch = payments.create_batch(runs=[finalised], by_user=make_user("bea", groups=["back-office"]))
    ana, bo = lines(batch)["Ana"], lines(batch)["Bo"]
    withheld = (ANA_GROSS * D("0.20")).quantize(CENT, ROUND_HALF_EVEN)
    assert (ana.gross, ana.withheld) == (ANA_GROSS, withheld)
    assert ana.amount == ANA_GROSS.quantize(CENT, ROUND_HALF_EVEN) - withheld
    assert (ana.method, ana.account, ana.bic) == ("iban", IBAN_ANA, "")
    assert (bo.amount, bo.method, bo.account) == (
        BO_GROSS.quantize(CENT, ROUND_HALF_EVEN),
        "wise",
        "bo@wise.example",
    )
    assert ana.reference == f"Royalties {finalised.run.name}"
    # Everything payable is in this batch: a second one finds nothing.
    with pytest.raises(Conflict) as refused:
        payments.create_batch(runs=[finalised], by_user=None)
    assert refused.value.code == "nothing_to_pay"


def test_sepa_file_validates_against_the_pain_001_001_03_schema(finalised, debtor):
    batch = payments.create_batch(runs=[finalised], by_user=None)
    xml = payment_files.sepa_xml(payments.batch_lines(batch), execution_date=finalised.finalized_at.date())
    schema = xmlschema.XMLSchema(XSD)
    schema.validate(xml.decode())
    document = schema.to_dict(xml.decode())
    (info,) = document["CstmrCdtTrfInitn"]["PmtInf"]
    (transfer,) = info["CdtTrfTxInf"]  # only Ana is paid by IBAN in EUR; Bo by Wise
    ana = lines(batch)["Ana"]
    assert D(str(transfer["Amt"]["InstdAmt"]["$"])) == ana.amount
    assert transfer["CdtrAcct"]["Id"]["IBAN"] == IBAN_ANA and transfer["Cdtr"]["Nm"] == "Ana"
    assert transfer["PmtId"]["EndToEndId"] == f"RB{batch.pk}-P{ana.payee_id}-EUR"
    assert info["DbtrAcct"]["Id"]["IBAN"] == "IT60X0542811101000000123456"
    assert document["CstmrCdtTrfInitn"]["GrpHdr"]["NbOfTxs"] == "1"


def test_sepa_needs_the_debtor_account(finalised, settings):
    settings.PAYMENTS_DEBTOR_IBAN = ""
    batch = payments.create_batch(runs=[finalised], by_user=None)
    with pytest.raises(Conflict) as refused:
        payment_files.sepa_xml(payments.batch_lines(batch), execution_date=finalised.finalized_at.date())
    assert refused.value.code == "sepa_debtor_missing"


def test_wise_paypal_and_generic_csv(finalised):
    Payee.objects.filter(name="Ana").update(name="=HYPERLINK(1)")  # a name a spreadsheet would run
    batch = payments.create_batch(runs=[finalised], by_user=None)
    bo = lines(batch)["Bo"]
    wise = list(csv.reader(io.StringIO(payment_files.wise_csv(payments.batch_lines(batch)).decode())))
    assert wise == [
        list(payment_files.WISE_COLUMNS),
        ["Bo", "bo@wise.example", bo.reference, "PERSON", "target", f"{bo.amount:.2f}", "EUR", "EUR"],
    ]
    assert payment_files.paypal_currencies(payments.batch_lines(batch)) == []
    generic = list(
        csv.DictReader(io.StringIO(payment_files.generic_csv(payments.batch_lines(batch)).decode()))
    )
    assert [row["payee"] for row in generic] == ["'=HYPERLINK(1)", "Bo"]  # escaped, not a formula
    ana = lines(batch)["=HYPERLINK(1)"]
    assert generic[0]["method"] == "bank transfer (IBAN)" and generic[0]["amount"] == f"{ana.amount:.2f}"
    assert generic[0]["payable"] == str(ANA_GROSS.quantize(CENT, ROUND_HALF_EVEN))


def test_paypal_csv_is_one_currency_without_header(flow):
    cleo = payee("Cleo", payment_method="paypal", paypal_email="cleo@example.com")
    contract(shares=[(cleo, "100")])
    batch = payments.create_batch(runs=[services.finalize_run(run=processed_run(flow))], by_user=None)
    line = lines(batch)["Cleo"]
    rows = list(
        csv.reader(io.StringIO(payment_files.paypal_csv(payments.batch_lines(batch), "EUR").decode()))
    )
    assert rows == [
        [
            "cleo@example.com",
            f"{line.amount:.2f}",
            "EUR",
            f"RB{batch.pk}-P{cleo.pk}-EUR",
            line.reference,
            "PAYPAL",
        ]
    ]
    assert line.amount == ANA_ROYALTY.quantize(CENT, ROUND_HALF_EVEN)


def paid_out():
    return RoyaltyLedgerEntry.objects.filter(kind="paid_out")


def test_marking_paid_twice_pays_once_and_leaves_the_balance(finalised, make_user):
    bea = make_user("bea", groups=["back-office"])
    batch = payments.create_batch(runs=[finalised], by_user=bea)
    payments.mark_batch_paid(batch=batch, by_user=bea)
    payments.mark_batch_paid(batch=batch, by_user=bea)
    entries = {entry.payee.name: entry for entry in paid_out()}
    assert len(paid_out()) == 2
    assert (
        entries["Ana"].amount == -lines(batch)["Ana"].amount
        and entries["Bo"].amount == -lines(batch)["Bo"].amount
    )
    batch.refresh_from_db()
    assert batch.status == "paid" and batch.decided_by == bea and batch.paid_on is not None
    with pytest.raises(Conflict):
        payments.cancel_batch(batch=batch, by_user=bea)
    # The balance was debited when the run made it payable: paying it changes nothing there.
    ana = Payee.objects.get(name="Ana")
    balance = sum(e.amount for e in ana.ledger.exclude(kind__in=["recoupment", "paid_out"]))
    assert balance == 0


def test_a_cancelled_batch_frees_its_payables(finalised):
    first = payments.create_batch(runs=[finalised], by_user=None)
    payments.cancel_batch(batch=first, by_user=None)
    with pytest.raises(Conflict):
        payments.mark_batch_paid(batch=first, by_user=None)
    second = payments.create_batch(runs=[finalised], by_user=None)
    assert lines(second)["Ana"].amount == lines(first)["Ana"].amount
    assert PaymentBatch.objects.get(pk=first.pk).status == "cancelled"


@pytest.mark.django_db(transaction=True)
def test_remittance_emails_with_the_statement_pdf_reach_the_smtp_server(flow, smtp_server):
    ana = payee("Ana", email="ana@example.com", payment_method="iban", iban=IBAN_ANA)
    bo = payee("Bo", payment_method="wise", wise_email="bo@wise.example")  # no email: no remittance
    contract(shares=[(ana, "60"), (bo, "40")])
    royalty = services.finalize_run(run=processed_run(flow))
    batch = payments.create_batch(runs=[royalty], by_user=None)
    with queued_not_run():
        payments.mark_batch_paid(batch=batch, by_user=None)
    # Nothing was rendered while marking paid: the lines wait for the task enqueued on commit.
    assert not OutboundEmail.objects.exists()
    assert {line.payee.name: line.remittance for line in payments.batch_lines(batch)} == {
        "Ana": "pending",
        "Bo": "none",
    }
    assert tasks.send_remittances(batch.pk) == 1  # what the django-q2 worker runs
    assert tasks.send_remittances(batch.pk) == tasks.send_remittances() == 0  # again: nothing twice
    deliver_outbox()
    (message,) = smtp_server.messages
    assert message["To"] == "ana@example.com" and message["Subject"] == f"Royalty payment (batch #{batch.pk})"
    body = message.get_body(("plain",)).get_content()
    assert str(ANA_GROSS.quantize(CENT, ROUND_HALF_EVEN)) in body and "bank transfer (IBAN)" in body
    (pdf,) = [part for part in message.iter_attachments()]
    assert pdf.get_filename() == f"statement-{royalty.run.pk}-{ana.pk}.pdf"
    assert pdf.get_content().startswith(b"%PDF")


@pytest.mark.django_db(transaction=True)
def test_two_mark_paid_at_the_same_time_pay_once(flow):
    ana = payee("Ana", payment_method="iban", iban=IBAN_ANA)
    contract(shares=[(ana, "100")])
    batch = payments.create_batch(runs=[services.finalize_run(run=processed_run(flow))], by_user=None)
    assert twice_at_once(lambda: payments.mark_batch_paid(batch=batch, by_user=None))[1] == []
    assert paid_out().count() == 1


def test_a_fully_withheld_payee_gets_a_zero_line_that_closes_the_payable_and_sends_nothing(flow, debtor):
    ana = payee(
        "Ana", email="ana@example.com", payment_method="iban", iban=IBAN_ANA, withholding_rate=D("100")
    )
    contract(shares=[(ana, "100")])
    royalty = services.finalize_run(run=processed_run(flow))
    batch = payments.create_batch(runs=[royalty], by_user=None)
    line = lines(batch)["Ana"]
    assert (line.amount, line.withheld, line.fully_withheld) == (
        0,
        ANA_ROYALTY.quantize(CENT, ROUND_HALF_EVEN),
        True,
    )
    # The payable is settled by this batch: a second one finds nothing.
    with pytest.raises(Conflict) as refused:
        payments.create_batch(runs=[royalty], by_user=None)
    assert refused.value.code == "nothing_to_pay"
    # No money file has a line for it.
    with pytest.raises(Conflict) as no_sepa:
        payments.batch_file(batch, "sepa")
    assert no_sepa.value.code == "no_sepa_lines"
    assert payments.batch_file(batch, "generic")[1].decode().splitlines()[1:] == []
    assert [kind for _, kind, _ in payments.file_links(batch)] == ["generic"]
    payments.mark_batch_paid(batch=batch, by_user=None)
    assert paid_out().get(payee=ana).amount == 0  # the memo: nothing was sent
    payments.send_remittances(batch.pk)
    mail = OutboundEmail.objects.get(kind="statements/remittance")
    assert "all of it was withheld, so no money was sent" in mail.text_body


def test_a_paid_batch_leaves_the_next_runs_opening_balance_alone(finalised, flow):
    from statements.royalties.calculation import compute

    payments.mark_batch_paid(batch=payments.create_batch(runs=[finalised], by_user=None), by_user=None)
    # The same sales again: nothing new is earned; a paid_out counted in the balance would show
    # Ana and Bo with a negative opening balance.
    assert compute(processed_run(flow)).statements == []


def test_a_self_billed_domestic_vat_payee_is_paid_what_their_invoice_says(flow, settings, debtor):
    """Net + VAT - withholding, as the invoice for the statement reads; the payee without an
    invoice is paid as before; the paid-out memo records what was sent, the balance is untouched."""
    settings.SELF_BILLING_VAT_RATE, settings.ROYALTY_LABEL_COUNTRY = "0.22", "IT"
    ana = payee(
        "Ana",
        email="ana@example.com",
        payment_method="iban",
        iban=IBAN_ANA,
        withholding_rate=D("20"),
        self_billing=True,
        country="IT",
        vat_status="registered",
    )
    bo = payee("Bo", payment_method="wise", wise_email="bo@wise.example")
    contract(shares=[(ana, "60"), (bo, "40")])
    royalty = services.finalize_run(run=processed_run(flow))
    (invoice,) = royalty.invoices.all()
    net = ANA_GROSS.quantize(CENT, ROUND_HALF_EVEN)
    vat, withheld = (net * D("0.22")).quantize(CENT, ROUND_HALF_EVEN), (net * D("0.20")).quantize(CENT)
    assert (invoice.net, invoice.vat, invoice.withholding, invoice.total) == (
        net,
        vat,
        withheld,
        net + vat - withheld,
    )

    batch = payments.create_batch(runs=[royalty], by_user=None)
    line = lines(batch)["Ana"]
    assert (line.gross, line.vat, line.withheld, line.amount) == (ANA_GROSS, vat, withheld, invoice.total)
    assert lines(batch)["Bo"].amount == BO_GROSS.quantize(CENT, ROUND_HALF_EVEN)  # no invoice: unchanged
    generic = {
        row["payee"]: row
        for row in csv.DictReader(
            io.StringIO(payment_files.generic_csv(payments.batch_lines(batch)).decode())
        )
    }
    assert (generic["Ana"]["vat"], generic["Ana"]["amount"]) == (f"{vat:.2f}", f"{invoice.total:.2f}")
    sepa = xmlschema.XMLSchema(XSD).to_dict(
        payment_files.sepa_xml(
            payments.batch_lines(batch), execution_date=royalty.finalized_at.date()
        ).decode()
    )
    (transfer,) = sepa["CstmrCdtTrfInitn"]["PmtInf"][0]["CdtTrfTxInf"]
    assert D(str(transfer["Amt"]["InstdAmt"]["$"])) == invoice.total

    payments.mark_batch_paid(batch=batch, by_user=None)
    assert paid_out().get(payee=ana).amount == -invoice.total  # the memo: what was sent
    balance = sum(e.amount for e in ana.ledger.exclude(kind__in=["recoupment", "paid_out"]))
    assert balance == 0  # VAT paid on top is not royalty balance


@pytest.mark.django_db(transaction=True)
def test_two_workers_sending_remittances_at_once_queue_each_once(flow):
    ana = payee("Ana", email="ana@example.com", payment_method="iban", iban=IBAN_ANA)
    bo = payee("Bo", email="bo@example.com", payment_method="wise", wise_email="bo@wise.example")
    contract(shares=[(ana, "60"), (bo, "40")])
    batch = payments.create_batch(runs=[services.finalize_run(run=processed_run(flow))], by_user=None)
    with queued_not_run():
        payments.mark_batch_paid(batch=batch, by_user=None)
    queued, errors = twice_at_once(lambda: payments.send_remittances(batch.pk))
    assert errors == [] and sum(queued) == 2
    assert sorted(
        OutboundEmail.objects.filter(kind="statements/remittance").values_list("to", flat=True)
    ) == [
        ["ana@example.com"],
        ["bo@example.com"],
    ]


def test_a_line_reads_its_amount_in_the_pages_language(finalised):
    line = lines(payments.create_batch(runs=[finalised], by_user=None))["Bo"]
    line.amount = D("1234.5")
    assert str(line) == "Bo: 1,234.50 EUR"
    with translation.override("it"):
        assert str(line) == "Bo: 1.234,50 EUR"


def test_a_ledger_entry_reads_its_exact_amount_in_the_pages_language(finalised):
    entry = RoyaltyLedgerEntry.objects.filter(payee__name="Bo").first()
    entry.amount = D("1234.5678")
    assert str(entry).endswith(" 1,234.5678 EUR")
    with translation.override("it"):
        assert str(entry).endswith(" 1.234,5678 EUR")
