"""Direct uploads to S3 are bounded: a SigV4 presigned POST whose policy carries a
content-length-range, and a size check when the upload is confirmed (moto's server, like some
S3-compatible stores, does not enforce the policy), against moto's real HTTP endpoint."""

import base64
import json

import pytest
import requests

from statements.models import SalesFile
from tests.statements.conftest import fixture_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def presigned(flow, api, s3_storage, settings):
    """upload_to(body) POSTs `body` through a fresh sales file's presigned POST; returns the file id."""
    settings.STATEMENTS_MAX_UPLOAD_BYTES = 2_000

    def upload_to(body: bytes) -> tuple[int, dict]:
        file_id = flow.create_file("spotify_2026-09.csv")
        response = api.post(f"/api/files/salesfiles/{file_id}/upload-url/")
        assert response.status_code == 200, response.content
        answer = response.json()
        upload = requests.post(
            answer["url"], data=answer["fields"], files={answer["field"]: body}, timeout=10
        )
        assert upload.status_code == 204, upload.text
        return file_id, answer

    return upload_to


def test_presigned_post_is_sigv4_and_its_policy_bounds_the_size(presigned, s3_server):
    _, answer = presigned(b"currency,period,rate\n")
    assert answer["method"] == "POST" and answer["max_bytes"] == 2_000
    fields = answer["fields"]
    assert fields["x-amz-algorithm"] == "AWS4-HMAC-SHA256"
    assert fields["x-amz-credential"].endswith("/eu-central-1/s3/aws4_request")
    assert "AWSAccessKeyId" not in fields  # the SigV2 form field
    policy = json.loads(base64.b64decode(fields["policy"]))
    assert ["content-length-range", 1, 2_000] in policy["conditions"]
    assert {"key": fields["key"]} in policy["conditions"]


def test_an_upload_within_the_limit_is_processed(presigned, flow):
    body = fixture_bytes("spotify_2026-09.csv")
    assert len(body) <= 2_000
    file_id, _ = presigned(body)
    assert flow.process(file_id).status_code == 202
    assert flow.file(file_id)["status"] == "PROCESSED"


def test_an_oversized_upload_fails_the_file_with_the_reason(presigned, flow):
    file_id, _ = presigned(b"x" * 2_001)  # moto stores it: the policy is not enforced there
    assert flow.process(file_id).status_code == 202
    sales_file = SalesFile.objects.get(pk=file_id)
    assert sales_file.status == "FAILED"
    assert sales_file.failure_reason == (
        "the uploaded file is 2001 bytes, over the 2000-byte limit (STATEMENTS_MAX_UPLOAD_BYTES)"
    )


def test_a_storage_not_signing_with_sigv4_refuses_to_presign(flow, api, s3_storage, s3_server, settings):
    options = {**s3_server.storage_settings(s3_storage)["OPTIONS"], "signature_version": "s3"}
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options},
    }
    file_id = flow.create_file("spotify_2026-09.csv")
    response = api.post(f"/api/files/salesfiles/{file_id}/upload-url/")
    assert response.status_code == 503
    assert "signed with s3v4" in json.dumps(response.json())
