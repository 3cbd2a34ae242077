"""Cross-app security checks: CSRF on every session-authenticated POST, and secrets kept out of logs."""

import logging

import pytest
from django.test import Client

from ingestion.tasks import poll_ftp
from tests.reliability.test_url_access import GUARDED
from tests.servers import free_port

WEBHOOK = "/api/statements/webhook/"


@pytest.mark.django_db
@pytest.mark.parametrize("path", [p for p in GUARDED if p not in {"/", WEBHOOK}])
def test_post_from_a_session_without_csrf_token_is_refused(make_user, path):
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user("staffer", staff=True, groups=["operators", "back-office"]))
    response = client.post(path, data={})
    assert response.status_code in (403, 405), f"POST {path} -> {response.status_code}"


@pytest.mark.django_db
def test_ftp_password_never_reaches_the_logs(settings, caplog, inbound_ftp):
    caplog.set_level(logging.DEBUG)
    password = "Sup3r-Secret-Ftp-Pw"
    settings.INGESTION_FTP_URL = f"ftp://tester:{password}@127.0.0.1:{inbound_ftp.port}/incoming"
    poll_ftp()  # wrong password: a failed logon
    settings.INGESTION_FTP_URL = f"ftp://tester:{password}@127.0.0.1:{free_port()}/incoming"
    poll_ftp()  # nobody listening
    assert caplog.records, "the failures should have been logged"
    assert password not in caplog.text
