"""The signed webhook: HMAC check, replay protection and the transitions it drives."""

import json
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client

from statements import services
from statements.cleaners.base import CLEAN_COLUMNS
from statements.models import SalesFile, SalesFileSnapshot, SalesFileStatus, SalesLine
from statements.webhook import sign
from tests.statements.conftest import fixture_bytes, signed_webhook

pytestmark = pytest.mark.django_db
S = SalesFileStatus


@pytest.fixture
def hook(webhook_secret) -> Client:
    return Client()


def file_in(status: str) -> SalesFile:
    return SalesFile.objects.create(name="ext.csv", status=status)


def test_unsigned_call_is_rejected(hook):
    sales_file = file_in(S.CLEANING)
    response, _ = signed_webhook(
        hook, {"file_id": sales_file.pk, "event": "failed", "reason": "x"}, signature=""
    )
    assert response.status_code == 401 and response.json()["error"]["message"] == "missing X-Signature header"
    assert SalesFile.objects.get(pk=sales_file.pk).status == S.CLEANING


def test_wrongly_signed_call_is_rejected(hook):
    sales_file = file_in(S.CLEANING)
    response, _ = signed_webhook(
        hook, {"file_id": sales_file.pk, "event": "failed", "reason": "x"}, secret="another-secret"
    )
    assert response.status_code == 401 and response.json()["error"]["message"] == "invalid signature"


def test_tampered_body_is_rejected(hook):
    sales_file = file_in(S.CLEANING)
    body = json.dumps(
        {
            "event_id": "e1",
            "timestamp": int(time.time()),
            "file_id": sales_file.pk,
            "event": "failed",
            "reason": "x",
        }
    ).encode()
    signature = sign(body, "test-webhook-secret")
    tampered = body.replace(b'"x"', b'"y"')
    response = hook.post(
        "/api/statements/webhook/", tampered, content_type="application/json", HTTP_X_SIGNATURE=signature
    )
    assert response.status_code == 401


def test_replayed_call_is_rejected(hook):
    sales_file = file_in(S.CLEANING)
    response, body = signed_webhook(hook, {"file_id": sales_file.pk, "event": "failed", "reason": "bad rows"})
    assert response.status_code == 200 and response.json() == {"id": sales_file.pk, "status": "FAILED"}
    replay = hook.post(
        "/api/statements/webhook/",
        body,
        content_type="application/json",
        HTTP_X_SIGNATURE=sign(body, "test-webhook-secret"),
    )
    assert replay.status_code == 409 and "replay refused" in replay.json()["error"]["message"]


def test_stale_timestamp_is_rejected(hook):
    sales_file = file_in(S.CLEANING)
    old = (datetime.now(UTC) - timedelta(minutes=10)).isoformat()
    response, _ = signed_webhook(
        hook, {"file_id": sales_file.pk, "event": "failed", "reason": "x", "timestamp": old}
    )
    assert response.status_code == 401 and "replay refused" in response.json()["error"]["message"]
    assert SalesFile.objects.get(pk=sales_file.pk).status == S.CLEANING


def test_webhook_is_off_without_a_secret(settings):
    settings.STATEMENTS_WEBHOOK_SECRET = ""
    response, _ = signed_webhook(Client(), {"file_id": 1, "event": "failed", "reason": "x"}, secret="")
    assert response.status_code == 503


def test_failed_event_records_the_reason(hook):
    sales_file = file_in(S.IMPORTING)
    response, _ = signed_webhook(
        hook, {"file_id": sales_file.pk, "event": "failed", "reason": "DSP file corrupt"}
    )
    assert response.status_code == 200
    sales_file.refresh_from_db()
    assert (sales_file.status, sales_file.failure_reason) == (S.FAILED, "DSP file corrupt")
    assert sales_file.events.get().source == "webhook"


def test_event_that_does_not_fit_the_status_is_a_conflict(hook):
    sales_file = file_in(S.UPLOADED)
    response, _ = signed_webhook(hook, {"file_id": sales_file.pk, "event": "imported"})
    assert response.status_code == 409 and "UPLOADED" in response.json()["error"]["message"]


def test_unknown_file_is_a_404(hook):
    response, _ = signed_webhook(hook, {"file_id": 999999, "event": "cleaned"})
    assert response.status_code == 404


def test_malformed_event_is_a_400(hook):
    response, _ = signed_webhook(hook, {"file_id": 1, "event": "exploded"})
    assert response.status_code == 400 and "cleaned, imported, failed" in response.json()["error"]["message"]


def test_external_cleaning_reports_cleaned_then_the_import_runs(hook, flow, settings):
    settings.STATEMENTS_EXTERNAL_CLEANING = True
    file_id = flow.processed_file(fixture_bytes("spotify_2026-09.csv"))
    assert flow.file(file_id)["status"] == "CLEANING"  # waiting for the external module
    sales_file = SalesFile.objects.get(pk=file_id)
    default_storage.save(
        sales_file.cleaned_key,
        ContentFile(",".join(CLEAN_COLUMNS).encode() + b"\n2,2026-09,Spotify,A,,,,IT,3,1.50,EUR,stream,,,\n"),
    )
    payload = {
        "file_id": file_id,
        "event": "cleaned",
        "format": "generic_csv",
        "lines_read": 2,
        "lines_valid": 1,
    }
    response, _ = signed_webhook(hook, payload)
    assert response.status_code == 200
    data = flow.file(file_id)
    assert data["status"] == "PROCESSED" and data["lines_valid"] == 1 and data["format"] == "generic_csv"
    assert SalesLine.objects.get(sales_file_id=file_id).units == 3


def test_external_import_reports_imported_and_the_snapshot_is_built(hook):
    sales_file = services.create_sales_file(name="ext.csv", user=None)
    SalesFile.objects.filter(pk=sales_file.pk).update(status=S.IMPORTING)
    SalesLine.objects.bulk_create(
        SalesLine(
            sales_file=sales_file,
            line_number=n,
            period="2026-09",
            dsp="Tidal",
            artist="A",
            territory="NO",
            units=n,
            revenue="0.25",
            currency="NOK",
        )
        for n in (2, 3)
    )
    response, _ = signed_webhook(
        hook, {"file_id": sales_file.pk, "event": "imported", "event_id": str(uuid.uuid4())}
    )
    assert response.status_code == 200 and response.json()["status"] == "PROCESSED"
    snapshot = SalesFileSnapshot.objects.get(sales_file=sales_file)
    assert (snapshot.lines, snapshot.units, str(snapshot.revenue)) == (2, 5, "0.50")
