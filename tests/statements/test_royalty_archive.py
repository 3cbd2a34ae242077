"""The zip of every payee's statements: built in the request for a few payees; beyond
ROYALTY_ZIP_INLINE_PAYEES by a background task (django-q2) into the storage, with its progress in
the API's 202 reply, on the run page, in the admin and in `build_statements_zip`."""

import io
import zipfile
from decimal import Decimal as D
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils.text import slugify

from project import storage
from statements.royalties import services
from statements.royalties.models import Contract, RoyaltyArchive
from tests.statements.test_royalties import contract, payee, processed_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(flow):
    ana, bo = payee("Ana"), payee("Bo")
    contract(shares=[(ana, "60"), (bo, "40")])
    return processed_run(flow), ana, bo


@pytest.fixture
def background(settings):
    """Two payees are past the inline limit: their zip is built in the background."""
    settings.ROYALTY_ZIP_INLINE_PAYEES = 1


def expected_names(run, *payees) -> list[str]:
    return sorted(
        [
            "statements.json",
            *(f"statement-{run.pk}-{p.pk}-{p.name.lower()}.{k}" for p in payees for k in ("pdf", "xlsx")),
        ]
    )


def zip_names(response) -> list[str]:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return sorted(zipfile.ZipFile(io.BytesIO(content)).namelist())


def test_past_the_inline_limit_the_api_answers_202_and_serves_the_zip_once_built(
    api, draft, background, django_capture_on_commit_callbacks
):
    run, ana, bo = draft
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = api.get(f"/api/statement_run/{run.pk}/statements.zip")

    assert response.status_code == 202
    body = response.json()
    url = f"/api/statement_run/{run.pk}/statements.zip?archive={body['archive']}"
    assert body == {"archive": body["archive"], "status": "queued", "processed": 0, "total": 2, "url": url}
    assert response["Location"] == url and response["Retry-After"] == "5"
    assert api.get(url).status_code == 202  # not built yet
    assert len(queued) == 1

    queued[0]()  # queues the task; tasks run inline in the tests

    archive = RoyaltyArchive.objects.get()
    assert (archive.status, archive.processed, archive.total) == ("ready", 2, 2)
    assert storage.exists(archive.storage_key)
    response = api.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert f'filename="statements-{slugify(run.name)}-{run.pk}.zip"' in response["Content-Disposition"]
    assert zip_names(response) == expected_names(run, ana, bo)
    # The same statements asked for again: the built zip, nothing queued.
    with django_capture_on_commit_callbacks() as again:
        response = api.get(f"/api/statement_run/{run.pk}/statements.zip")
    assert response.status_code == 200 and zip_names(response) == expected_names(run, ana, bo)
    assert not again


def test_changed_statements_get_a_new_zip_and_the_old_one_goes(
    api, draft, background, django_capture_on_commit_callbacks
):
    run, _, _ = draft
    with django_capture_on_commit_callbacks(execute=True):
        first = api.get(f"/api/statement_run/{run.pk}/statements.zip").json()
    old = RoyaltyArchive.objects.get(pk=first["archive"])
    Contract.objects.update(rate_stream=D("0.25"))

    with django_capture_on_commit_callbacks(execute=True):
        second = api.get(f"/api/statement_run/{run.pk}/statements.zip").json()

    assert second["archive"] != first["archive"]
    assert list(RoyaltyArchive.objects.values_list("pk", "status")) == [(second["archive"], "ready")]
    assert not storage.exists(old.storage_key)
    reply = api.get(first["url"])
    assert reply.status_code == 404 and reply.json()["error"]["code"] == "archive_not_found"


def test_a_zip_whose_statements_changed_before_it_was_built_fails_and_is_asked_for_again(
    api, draft, background, django_capture_on_commit_callbacks
):
    run, _, _ = draft
    with django_capture_on_commit_callbacks(execute=False):
        body = api.get(f"/api/statement_run/{run.pk}/statements.zip").json()
    Contract.objects.update(rate_stream=D("0.25"))

    with pytest.raises(Exception, match="changed after this zip was requested"):
        services.build_archive(archive_id=body["archive"])

    archive = RoyaltyArchive.objects.get()
    assert archive.status == "failed" and "request it again" in archive.error
    reply = api.get(body["url"])
    assert reply.status_code == 409 and reply.json()["error"]["code"] == "archive_failed"
    Contract.objects.update(rate_stream=D("0.20"))  # the statements it was asked for, again
    with django_capture_on_commit_callbacks(execute=True):
        again = api.get(f"/api/statement_run/{run.pk}/statements.zip")
    assert again.status_code == 202 and again.json()["archive"] == body["archive"]  # queued again
    assert api.get(body["url"]).status_code == 200  # built (tasks run inline), served


def test_a_few_payees_get_the_zip_in_the_request_with_nothing_stored(api, draft):
    run, ana, bo = draft
    response = api.get(f"/api/statement_run/{run.pk}/statements.zip")
    assert response.status_code == 200 and zip_names(response) == expected_names(run, ana, bo)
    assert not RoyaltyArchive.objects.exists()


def test_run_page_button_builds_in_the_background_and_shows_progress_then_the_link(
    client, make_user, draft, background, django_capture_on_commit_callbacks
):
    run, _, _ = draft
    client.force_login(make_user("bea", groups=["back-office"]))
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = client.post(f"/statements/{run.pk}/statements-zip/", follow=True)
    page = response.content.decode()
    assert "The zip of 2 statements is being built" in page
    assert "Building the zip: 0 of 2 statements" in page and 'data-building="1"' in page

    queued[0]()

    page = client.get(f"/statements/{run.pk}/").content.decode()
    archive = RoyaltyArchive.objects.get()
    assert f"/api/statement_run/{run.pk}/statements.zip?archive={archive.pk}" in page
    assert "data-building" not in page
    assert client.get(f"/api/statement_run/{run.pk}/statements.zip?archive={archive.pk}").status_code == 200


def test_run_page_button_answers_the_zip_itself_for_a_few_payees(client, make_user, draft):
    run, ana, bo = draft
    client.force_login(make_user("bea", groups=["back-office"]))
    response = client.post(f"/statements/{run.pk}/statements-zip/")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert zip_names(response) == expected_names(run, ana, bo)


def test_build_statements_zip_command_prints_progress(draft):
    run, _, _ = draft
    out = StringIO()
    call_command("build_statements_zip", str(run.pk), stdout=out)
    archive = RoyaltyArchive.objects.get()
    assert out.getvalue().splitlines() == [
        "1/2 statements",
        "2/2 statements",
        f"run {run.pk}: 2 statements in {archive.storage_key}",
    ]
    assert archive.status == "ready" and storage.exists(archive.storage_key)


def test_admin_lists_the_zips_with_their_progress(admin_client, draft):
    run, _, _ = draft
    call_command("build_statements_zip", str(run.pk), stdout=StringIO())
    page = admin_client.get("/admin/statements/royaltyarchive/").content.decode()
    assert "2/2" in page and "ready" in page
