"""A session's step log and failure are stored as codes with parameters and read in the reader's
language; a row written before codes existed shows its stored sentence."""

import pytest
from django.utils import translation

from sessions_app import selectors, services
from sessions_app.models import Session, SessionStep

pytestmark = pytest.mark.django_db


def test_steps_and_failure_are_stored_in_english_and_read_in_italian(eligible_day):
    day = eligible_day.business_date
    services.start_session(day=day, enqueue=False)
    session = services.close_session(day=day, force=True)

    start = session.steps.get(kind=SessionStep.Kind.START)
    assert start.message == f"started by command line for {eligible_day.name}"
    assert start.message_code == "started_by" and start.message_params["who"] == ""
    assert session.failure_reason == "force-closed by command line before the run finished"

    with translation.override("it"):
        assert start.text == f"avviata da riga di comando per {eligible_day.name}"
        assert (
            session.failure_text == "chiusa forzatamente da riga di comando prima della fine dell'esecuzione"
        )
        log = [entry.message for entry in selectors.day_status(day).steps]
    assert log[-1] == "chiusa forzatamente da riga di comando"


def test_a_row_without_a_code_shows_its_stored_sentence(eligible_day):
    session = services.start_session(day=eligible_day.business_date, enqueue=False)
    step = SessionStep.objects.create(session=session, kind="run", outcome="done", message="written before")
    Session.objects.filter(pk=session.pk).update(failure_reason="an old reason")
    session.refresh_from_db()
    with translation.override("it"):
        assert step.text == "written before"
        assert session.failure_text == "an old reason"


def test_the_status_json_keeps_the_code_and_says_it_in_the_request_language(operator_client, eligible_day):
    day = eligible_day.business_date
    services.start_session(day=day, enqueue=False)
    services.close_session(day=day, force=True)

    english = operator_client.get("/sessions/status/").json()["session"]
    italian = operator_client.get("/sessions/status/", HTTP_ACCEPT_LANGUAGE="it").json()["session"]

    assert english["failure_code"] == italian["failure_code"] == "force_closed_before_end"
    assert english["failure_params"] == {"who": ""}
    assert english["failure_reason"] == "force-closed by command line before the run finished"
    assert italian["failure_reason"] == (
        "chiusa forzatamente da riga di comando prima della fine dell'esecuzione"
    )
