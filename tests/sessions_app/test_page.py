"""The /sessions/ page: access, the four buttons in every state, manual upload, the JSON status."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from ingestion.models import InvoiceFile
from sessions_app.models import Session
from tests.sessions_app.conftest import invoice_content, invoice_file_name, numbers

pytestmark = pytest.mark.django_db

URLS = ["/sessions/", "/sessions/status/"]
ACTIONS = ["/sessions/start/", "/sessions/check/", "/sessions/close/", "/sessions/upload/"]
STATES = ["no_file", "eligible", "queued", "running", "succeeded", "failed", "closed"]
# state: (start, close, upload) enabled; "Check session status" is always enabled.
ALLOWED = {
    "no_file": (False, False, True),
    "eligible": (True, False, True),
    "queued": (False, True, False),
    "running": (False, True, False),
    "succeeded": (False, True, False),
    "failed": (False, True, False),
    "closed": (False, False, False),
}


@pytest.fixture(autouse=True)
def _tasks_stay_queued():
    """Start only queues the run here (the run itself is tested in test_run.py)."""
    from django_q.conf import Conf

    previous, Conf.SYNC = Conf.SYNC, False
    yield
    Conf.SYNC = previous


@pytest.fixture
def make_state(eligible_day):
    def make(state: str) -> Session | None:
        if state == "no_file":
            InvoiceFile.objects.all().delete()
            return None
        if state == "eligible":
            return None
        values = {"status": state}
        if state == "failed":
            values["failure_reason"] = "FTP upload failed"
        if state == "running":
            values["heartbeat_at"] = timezone.now()
        if state == "closed":
            values.update(status="succeeded", closed_at=timezone.now())
        return Session.objects.create(day=timezone.localdate(), invoice_file=eligible_day, **values)

    return make


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


@pytest.mark.parametrize("url", URLS + ACTIONS)
def test_anonymous_users_are_sent_to_the_login_page(client, url):
    response = client.post(url) if url in ACTIONS else client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.parametrize("url", URLS + ACTIONS)
@pytest.mark.parametrize("groups", [[], ["back-office"]])
def test_users_outside_the_operators_group_get_403(client, make_user, url, groups):
    client.force_login(make_user("bruno", groups=groups))
    response = client.post(url) if url in ACTIONS else client.get(url)
    assert response.status_code == 403


def test_staff_may_use_the_page(client, make_user):
    client.force_login(make_user("root", staff=True))
    assert client.get("/sessions/").status_code == 200


def test_actions_need_post_and_a_csrf_token(make_user):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user("olga", groups=["operators"]))
    assert client.get("/sessions/start/").status_code == 405
    assert client.post("/sessions/start/").status_code == 403


def test_page_has_the_four_buttons_check_ftp_now_and_the_status_line(operator_client, eligible_day):
    html = operator_client.get("/sessions/").content.decode()
    content = html[html.index("<main>") : html.index("</main>")]
    labels = [
        re.sub(r"\s+", " ", label).strip()
        for label in re.findall(r"<button[^>]*>(.*?)</button>", content, re.S)
    ]
    assert labels == [
        "Check FTP now",
        "Start session",
        "Check session status",
        "Close session",
        "Manual session upload",
    ]
    assert content.count("csrfmiddlewaretoken") == 5
    assert 'type="file"' in content
    day = timezone.localdate().isoformat()
    assert f"No session for {day} yet - 3 shipments ready to process" in content
    assert "<progress" in content


@pytest.mark.parametrize("state", STATES)
def test_buttons_are_enabled_only_where_the_state_allows_with_a_reason(operator_client, make_state, state):
    make_state(state)

    data = operator_client.get("/sessions/status/").json()

    assert data["status"] == state
    buttons = data["buttons"]
    assert (
        buttons["start"]["enabled"],
        buttons["close"]["enabled"],
        buttons["upload"]["enabled"],
    ) == ALLOWED[state]
    assert buttons["status"] == {"enabled": True, "reason": ""}
    for name, button in buttons.items():
        assert bool(button["reason"]) != button["enabled"], name
    html = operator_client.get("/sessions/").content.decode()
    for name, enabled in zip(["start", "close", "upload"], ALLOWED[state], strict=True):
        tag = re.search(rf'<button[^>]*id="{name}-button"[^>]*>', html).group(0)
        assert ("disabled" in tag) != enabled
        if not enabled:
            assert buttons[name]["reason"] in html


@pytest.mark.parametrize("state", STATES)
def test_start_creates_the_session_only_when_eligible(operator_client, make_state, state):
    make_state(state)
    before = Session.objects.count()

    response = operator_client.post("/sessions/start/", follow=True)

    [message] = messages_of(response)
    if state == "eligible":
        assert message.startswith("Session started for")
        session = Session.objects.get()
        assert session.status == Session.Status.QUEUED and session.started_by.username == "olga"
    else:
        assert Session.objects.count() == before
        expected = "No invoice file" if state == "no_file" else "already been started"
        assert expected in message


@pytest.mark.parametrize("state", STATES)
def test_check_status_reports_the_status_line_in_every_state(operator_client, make_state, state):
    make_state(state)
    response = operator_client.post("/sessions/check/", follow=True)
    [message] = messages_of(response)
    assert timezone.localdate().isoformat() in message


@pytest.mark.parametrize("state", STATES)
def test_close_needs_a_session_and_a_confirmation_unless_complete(operator_client, make_state, state):
    session = make_state(state)

    response = operator_client.post("/sessions/close/", follow=True)

    [message] = messages_of(response)
    if state == "succeeded":
        assert message.startswith("Session closed")
        session.refresh_from_db()
        assert session.is_closed and not session.force_closed
        return
    if session is None or state == "closed":
        assert "No session" in message or "already closed" in message
        return
    assert "confirm to force-close" in message
    session.refresh_from_db()
    assert not session.is_closed

    response = operator_client.post("/sessions/close/", {"force": "on"}, follow=True)

    assert messages_of(response)[0].startswith("Session force-closed")
    session.refresh_from_db()
    assert session.is_closed and session.force_closed and session.status == Session.Status.FAILED
    assert operator_client.get("/sessions/status/").json()["status"] == "closed"


def upload(client, name: str, content: bytes):
    return client.post("/sessions/upload/", {"file": SimpleUploadedFile(name, content)}, follow=True)


@pytest.mark.parametrize("state", STATES)
def test_manual_upload_is_possible_until_the_session_starts(
    operator_client, make_state, known_invoices, state
):
    make_state(state)
    known_invoices(found=numbers(2, start=50))
    name = invoice_file_name(2, at="120000000")

    [message] = messages_of(upload(operator_client, name, invoice_content(numbers(2, start=50))))

    if ALLOWED[state][2]:
        assert message.startswith(f"{name}: ")
        assert InvoiceFile.objects.get(name=name).source == "manual"
        assert operator_client.get("/sessions/status/").json()["status"] == "eligible"
    else:
        assert "already started" in message or "closed" in message
        assert not InvoiceFile.objects.filter(name=name).exists()


def test_manual_upload_makes_the_day_eligible(operator_client, known_invoices):
    known_invoices(found=numbers(2))
    assert operator_client.get("/sessions/status/").json()["buttons"]["start"]["enabled"] is False

    upload(operator_client, invoice_file_name(2), invoice_content(numbers(2)))

    data = operator_client.get("/sessions/status/").json()
    assert data["eligible"] is True and data["buttons"]["start"]["enabled"] is True
    assert data["total"] == 2


def test_manual_upload_with_a_wrong_name_explains_the_expected_pattern(operator_client):
    [message] = messages_of(upload(operator_client, "invoices.txt", b"600000001|1|x|1.00"))
    assert "is not a valid invoice file name" in message
    assert not InvoiceFile.objects.exists()


def test_manual_upload_over_the_size_limit_is_refused(operator_client, settings):
    settings.INGESTION_MAX_UPLOAD_BYTES = 10
    [message] = messages_of(upload(operator_client, invoice_file_name(1), b"600000001|1|toys|1.00"))
    assert "the limit is 10" in message
    assert not InvoiceFile.objects.exists()


def test_manual_upload_of_a_duplicate_or_a_rejected_file_says_so(operator_client):
    content = invoice_content(numbers(2))
    upload(operator_client, invoice_file_name(2), content)

    [duplicate] = messages_of(upload(operator_client, invoice_file_name(2), content))
    [rejected] = messages_of(
        upload(operator_client, invoice_file_name(5, at="130000000"), b"600000009|1|x|1.00")
    )

    assert "already received" in duplicate
    assert "rejected" in rejected


def test_manual_upload_of_another_days_file_warns_that_today_is_not_eligible(operator_client):
    [message] = messages_of(upload(operator_client, "Letture20200101093000000_0.txt", b"600000001|1|x|1.00"))
    assert "not of" in message
    assert operator_client.get("/sessions/status/").json()["eligible"] is False


def test_status_json_counts_processed_records_from_the_database(operator_client, make_state):
    from sessions_app.models import ProcessedShipment

    session = make_state("running")
    Session.objects.filter(pk=session.pk).update(total=3, csv_name="shipments_x.csv")
    ProcessedShipment.objects.create(
        session=session, position=1, invoice_number="600000001", quantity=1, value=1
    )

    data = operator_client.get("/sessions/status/").json()

    day = timezone.localdate().isoformat()
    assert data["status_line"] == f"Session opened for {day} - 1 shipment processed out of 3 total"
    assert (data["processed"], data["total"], data["percent"]) == (1, 3, 33)
    assert data["phase"] == "Generating the CSV file."
    assert data["force_close"] is True
    assert data["session"]["status"] == "running"


def test_a_day_closed_for_ingestion_is_closed_on_the_page_and_for_upload_and_start(
    operator_client, eligible_day, known_invoices
):
    """Whatever removed the session row, the page, manual upload and Start read the day alike."""
    from ingestion.models import ClosedDay

    ClosedDay.objects.create(day=timezone.localdate())
    data = operator_client.get("/sessions/status/").json()
    assert data["status"] == "closed"
    reason = data["buttons"]["upload"]["reason"]
    assert "is closed" in reason and data["status_line"] == reason
    assert not any(button["enabled"] for name, button in data["buttons"].items() if name != "status")

    known_invoices(found=numbers(2, start=50))
    name = invoice_file_name(2, at="120000000")
    assert messages_of(upload(operator_client, name, invoice_content(numbers(2, start=50)))) == [reason]
    assert not InvoiceFile.objects.filter(name=name).exists()
    [refused] = messages_of(operator_client.post("/sessions/start/", follow=True))
    assert refused == reason and not Session.objects.exists()


@pytest.mark.parametrize("archive", ["gzip", "zip"])
def test_manual_upload_of_a_binary_file_with_a_valid_name_is_not_a_text_file(operator_client, archive):
    import gzip
    import io
    import zipfile

    from tests.platform.test_demo_setup import ROOT

    sample = next((ROOT / "fixtures" / "demo").glob("Letture*_*.txt"))
    if archive == "gzip":
        content = gzip.compress(sample.read_bytes())
    else:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zipped:
            zipped.write(sample, sample.name)
        content = buffer.getvalue()
    # Even its "record count" matches the name: the refusal is about the content, not the count.
    name = invoice_file_name(content.count(b"\n") + (0 if content.endswith(b"\n") else 1))

    [message] = messages_of(upload(operator_client, name, content))

    assert message.startswith(f"{name} was rejected: not a text file")
    assert InvoiceFile.objects.get(name=name).status == "rejected"
