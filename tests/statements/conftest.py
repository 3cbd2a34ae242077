"""Helpers for the statements tests: an API client and a few steps of the spec's flow."""

import json
import time
import uuid
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from statements.webhook import sign

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "statements"
WEBHOOK_SECRET = "test-webhook-secret"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture(autouse=True)
def _builtin_import_profiles(request):
    """The built-in import profiles, as migration 0003 installs them: a transactional test run
    before (in any app) flushes the database, data migrations' rows included."""
    if request.node.get_closest_marker("django_db") is None:
        return
    from statements.models import ImportProfile

    if not ImportProfile.objects.filter(builtin=True).exists():
        ImportProfile.objects.load_builtin()


@pytest.fixture
def api(api_client):
    return api_client()


class Flow:
    """The client side of the spec's sequence diagram, one method per call."""

    def __init__(self, client):
        self.client = client

    def create_run(self, **body) -> int:
        response = self.client.post(
            "/api/statement_run/", {"name": "Q3", **body}, content_type="application/json"
        )
        assert response.status_code == 201, response.content
        return response.json()["id"]

    def create_file(self, name: str = "sales.csv") -> int:
        response = self.client.post("/api/files/salesfiles/", {"name": name}, content_type="application/json")
        assert response.status_code == 201, response.content
        assert response.json()["status"] == "INITIALIZED"
        return response.json()["id"]

    def add_file(self, run_id: int, file_id: int) -> None:
        response = self.client.post(
            f"/api/statement_run/{run_id}/add-salesfile/",
            {"file_id": file_id},
            content_type="application/json",
        )
        assert response.status_code == 200, response.content

    def upload(self, file_id: int, content: bytes, name: str = "sales.csv", duplicate_reason: str = ""):
        """`duplicate_reason`: the same bytes as an earlier file, imported anyway for that reason."""
        allowed = {"allow_duplicate": "true", "reason": duplicate_reason} if duplicate_reason else {}
        return self.client.post(
            f"/api/files/salesfiles/{file_id}/content/",
            {"file": SimpleUploadedFile(name, content), **allowed},
        )

    def process(self, file_id: int):
        return self.client.post(f"/api/files/salesfiles/{file_id}/process/")

    def file(self, file_id: int) -> dict:
        response = self.client.get(f"/api/files/salesfiles/{file_id}/")
        assert response.status_code == 200
        return response.json()

    def rates(self, run_id: int, items, *, kind: str = "currencies"):
        return self.client.post(
            f"/api/statement_run/{run_id}/{kind}/", items, content_type="application/json"
        )

    def report(self, run_id: int, fmt: str = "json"):
        return self.client.get(f"/api/statement_run/{run_id}/report/", {"format": fmt})

    def processed_file(
        self, content: bytes, run_id: int | None = None, name: str = "sales.csv", duplicate_reason: str = ""
    ) -> int:
        file_id = self.create_file(name)
        if run_id is not None:
            self.add_file(run_id, file_id)
        assert self.upload(file_id, content, name, duplicate_reason).status_code == 200
        assert self.process(file_id).status_code == 202
        return file_id


@pytest.fixture
def flow(api) -> Flow:
    return Flow(api)


@pytest.fixture
def webhook_secret(settings) -> str:
    settings.STATEMENTS_WEBHOOK_SECRET = WEBHOOK_SECRET
    return WEBHOOK_SECRET


def signed_webhook(client, payload: dict, *, secret: str = WEBHOOK_SECRET, signature: str | None = None):
    body = json.dumps({"event_id": str(uuid.uuid4()), "timestamp": int(time.time()), **payload}).encode()
    headers = {"HTTP_X_SIGNATURE": signature if signature is not None else sign(body, secret)}
    return client.post("/api/statements/webhook/", body, content_type="application/json", **headers), body
