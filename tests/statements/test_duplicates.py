"""A sales file with the same bytes as an earlier one is refused unless a reason is given (kept);
one whose DSPs, periods and totals equal a file in another run is flagged as a likely duplicate."""

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client

from tests.statements.conftest import fixture_bytes

pytestmark = pytest.mark.django_db
SALES = b"period,dsp,artist,territory,units,revenue,currency\n2026-09,Deezer,Ana,IT,10,1.25,EUR\n"


def test_same_bytes_are_refused_naming_the_earlier_file_and_its_run(flow):
    run_id = flow.create_run(name="Q3")
    first = flow.processed_file(SALES, run_id, name="deezer.csv")
    again = flow.create_file("deezer-again.csv")
    response = flow.upload(again, SALES)
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "salesfile_duplicate"
    assert f"sales file #{first} 'deezer.csv' in statement run #{run_id} 'Q3'" in error["message"]
    assert [p["loc"] for p in error["problems"]] == [["salesfiles", first], ["statement_run", run_id]]
    # allow_duplicate needs a reason; with one, the file is stored, processed and says why.
    response = flow.client.post(
        f"/api/files/salesfiles/{again}/content/",
        {"file": ContentFile(SALES, name="x.csv"), "allow_duplicate": "true"},
    )
    assert response.status_code == 400 and response.json()["error"]["code"] == "duplicate_reason_required"
    assert (
        flow.upload(again, SALES, duplicate_reason="Deezer sent the September report twice").status_code
        == 200
    )
    assert flow.process(again).status_code == 202
    data = flow.file(again)
    assert data["status"] == "PROCESSED"
    assert (data["duplicate_of"], data["duplicate_reason"]) == (
        first,
        "Deezer sent the September report twice",
    )
    assert data["sha256"] == flow.file(first)["sha256"] and len(data["sha256"]) == 64


def test_same_bytes_uploaded_elsewhere_are_refused_at_process(flow):
    first = flow.processed_file(SALES)
    again = flow.create_file("presigned.csv")
    from statements.models import SalesFile

    # As a presigned POST leaves it: the bytes are in storage, the API never saw them.
    default_storage.save(SalesFile.objects.get(pk=again).upload_key, ContentFile(SALES))
    response = flow.process(again)
    assert response.status_code == 409 and response.json()["error"]["code"] == "salesfile_duplicate"
    response = flow.client.post(
        f"/api/files/salesfiles/{again}/process/",
        {"allow_duplicate": True, "reason": "re-delivered by the DSP"},
        content_type="application/json",
    )
    assert response.status_code == 202
    data = flow.file(again)
    assert data["status"] == "PROCESSED" and data["duplicate_of"] == first


def test_same_sales_under_other_bytes_in_another_run_are_flagged(flow, make_user):
    first_run = flow.create_run(name="Q3")
    first = flow.processed_file(SALES, first_run, name="deezer.csv")
    second_run = flow.create_run(name="Q3 again")
    # The same sales with Windows line ends: other bytes, the same DSP, period and totals.
    second = flow.processed_file(SALES.replace(b"\n", b"\r\n"), second_run, name="deezer-crlf.csv")
    warnings = flow.file(second)["warnings"]
    assert warnings == [
        f"looks like a duplicate of sales file #{first} 'deezer.csv' (statement run #{first_run} 'Q3'): "
        "the same DSPs, periods and totals per currency"
    ]
    assert flow.file(first)["warnings"] == []
    staff = Client()
    staff.force_login(make_user("bea", groups=["back-office"]))
    page = staff.get(f"/statements/{second_run}/").content.decode()
    assert "looks like a duplicate of sales file" in page


def test_an_allowed_copy_is_shown_on_the_run_page(flow, make_user):
    run_id = flow.create_run()
    flow.processed_file(fixture_bytes("spotify_2026-09.csv"), run_id, name="a.csv")
    again = flow.processed_file(
        fixture_bytes("spotify_2026-09.csv"), run_id, name="b.csv", duplicate_reason="test"
    )
    staff = Client()
    staff.force_login(make_user("bea", groups=["back-office"]))
    page = staff.get(f"/statements/{run_id}/").content.decode()
    assert f'data-duplicate-of="{again - 1}"' in page and "imported anyway: test" in page


def test_the_warning_shows_in_a_mappings_preview_before_the_file_is_processed(flow):
    from tests.statements.test_mapping import MAPPING, report_bytes

    first_run = flow.create_run(name="June", currency="EUR")
    first = flow.processed_file(report_bytes(), first_run, name="negozio.csv")
    url = f"/api/files/salesfiles/{first}/mapping/"
    # Mapped for that file only: the next file with this header waits for a mapping too.
    assert (
        flow.client.put(url, {**MAPPING, "save": False}, content_type="application/json").status_code == 202
    )
    second_run = flow.create_run(name="June again", currency="EUR")
    second = flow.processed_file(report_bytes().replace(b"\n", b"\r\n"), second_run, name="negozio-crlf.csv")
    assert flow.file(second)["status"] == "NEEDS_MAPPING"
    preview = flow.client.post(
        f"/api/files/salesfiles/{second}/mapping/preview/", MAPPING, content_type="application/json"
    ).json()
    assert (
        f"looks like a duplicate of sales file #{first} 'negozio.csv' (statement run #{first_run} 'June'): "
        "the same DSPs, periods and totals per currency"
    ) in preview["warnings"]
    assert flow.file(second)["status"] == "NEEDS_MAPPING"  # nothing imported yet


def test_a_processed_file_joining_a_run_is_checked_against_the_other_runs(flow):
    first = flow.processed_file(SALES, name="deezer.csv")
    second = flow.processed_file(SALES.replace(b"\n", b"\r\n"), name="deezer-crlf.csv")
    assert flow.file(second)["warnings"] == []  # neither is in a run yet
    first_run, second_run = flow.create_run(name="Q3"), flow.create_run(name="Q3 again")
    flow.add_file(first_run, first)
    flow.add_file(second_run, second)
    assert flow.file(second)["warnings"] == [
        f"looks like a duplicate of sales file #{first} 'deezer.csv' (statement run #{first_run} 'Q3'): "
        "the same DSPs, periods and totals per currency"
    ]
    flow.add_file(second_run, second)  # idempotent: the warning is not repeated
    assert len(flow.file(second)["warnings"]) == 1
