"""Emails go to mailing lists, not users: they are written in the site's language (LANGUAGE_CODE),
whatever language the request that queued them was in. Messages on pages follow the browser."""

import pytest
from django.utils import translation

from ingestion.models import InvoiceFile
from ingestion.services import ingest_bytes
from project.models import OutboundEmail
from sessions_app import run, services
from sessions_app.models import Session
from tests.ingestion.conftest import content, file_name
from tests.sessions_app.conftest import invoice_content, invoice_file_name, numbers
from tests.sessions_app.test_page import messages_of, upload

pytestmark = pytest.mark.django_db


def email(kind: str) -> OutboundEmail:
    return OutboundEmail.objects.get(kind=kind)


def test_ingestion_summary_is_in_the_site_language_not_the_requests(
    settings, django_capture_on_commit_callbacks
):
    settings.LANGUAGE_CODE = "it"
    settings.INGESTION_SUMMARY_RECIPIENTS = ["ops@example.test"]
    data = content("600000001|2|Toys|12.50", "6000|1|x|1")
    with translation.override("en"), django_capture_on_commit_callbacks(execute=False):
        ingest_bytes(name=file_name(2), content=data, source="manual")

    summary = email("ingestion/summary")
    assert (
        summary.subject
        == f"File fatture {file_name(2)} importato: 1 righe, 1 non trovate, 0 con data passata"
    )
    assert "Non trovate:         1" in summary.text_body  # the label column stays aligned
    assert "riga 2: " in summary.text_body and "Caricamento manuale" in summary.text_body
    assert '<th align="left">Non trovate</th>' in summary.html_body


def test_ingestion_alert_in_english_when_the_site_is_english(settings, django_capture_on_commit_callbacks):
    settings.LANGUAGE_CODE = "en"
    settings.INGESTION_ALERT_RECIPIENTS = ["alerts@example.test"]
    data = content("600000001|2|Toys|12.50")
    with translation.override("it"), django_capture_on_commit_callbacks(execute=False):
        ingest_bytes(name=file_name(7), content=data, source="ftp")

    alert = email("ingestion/rejected")
    assert alert.subject == f"ALERT: invoice file {file_name(7)} rejected"
    assert "Reason:" in alert.text_body


def test_session_result_in_the_site_language(settings, eligible_day, receiver):
    settings.LANGUAGE_CODE = "it"
    session = services.start_session(day=eligible_day.business_date, enqueue=False)
    with translation.override("en"):
        session = run.run_session(session_id=session.pk, report=lambda line: None)
    assert session.status == Session.Status.SUCCEEDED
    day = f"{session.day:%Y-%m-%d}"
    result = email("sessions_app/result")
    assert result.subject == (
        f"Sessione di spedizione {day} completata: 3 record inviati, 1 fattura non presente nel database"
    )
    assert "Record generati:     3" in result.text_body
    assert "Fatture con data passata (saltate)" in result.html_body


def test_session_failure_alert_in_the_site_language(settings, eligible_day):
    settings.LANGUAGE_CODE = "it"
    session = services.start_session(day=eligible_day.business_date, enqueue=False)
    InvoiceFile.objects.filter(pk=eligible_day.pk).update(status="rejected", reason="dichiarati 4")
    with translation.override("en"):
        run.run_session(session_id=session.pk, report=lambda line: None)

    alert = email("sessions_app/alert")
    assert alert.subject.startswith(f"AVVISO: sessione di spedizione {session.day:%Y-%m-%d} non riuscita: ")
    assert "NON è stata completata" in alert.text_body
    assert "Log della sessione:" in alert.text_body and "Avvio" in alert.text_body


def test_operator_messages_follow_the_browsers_language(operator_client, known_invoices):
    known_invoices(found=numbers(2))
    operator_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "it-IT,it;q=0.9"

    [wrong] = messages_of(upload(operator_client, "fatture.txt", b"600000001|1|x|1.00"))
    assert wrong == (
        "'fatture.txt' non è un nome valido per un file fatture; atteso Letture<YYYYMMDDHHMMSSmmm>_<N>.txt"
    )
    [imported] = messages_of(upload(operator_client, invoice_file_name(2), invoice_content(numbers(2))))
    assert imported.startswith(f"{invoice_file_name(2)}: 2 record, 2 importati")
