"""Every status transition and failure of the sales file pipeline, and re-processing."""

import csv
import io

import pytest
from botocore.config import Config
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import connections

from statements import pipeline, services
from statements.cleaners.base import CLEAN_COLUMNS
from statements.models import SalesFile, SalesFileSnapshot, SalesFileStatus, SalesLine
from tests.servers import free_port
from tests.statements.conftest import fixture_bytes

pytestmark = pytest.mark.django_db
S = SalesFileStatus


def uploaded(content: bytes, name: str = "sales.csv") -> SalesFile:
    sales_file = services.create_sales_file(name=name, user=None)
    default_storage.save(sales_file.upload_key, ContentFile(content))
    return services.mark_uploaded(sales_file)


def test_process_before_upload_is_refused(flow):
    file_id = flow.create_file()
    response = flow.process(file_id)
    assert response.status_code == 409
    assert "no content" in response.json()["error"]["message"]
    assert flow.file(file_id)["status"] == "INITIALIZED"


def test_each_step_moves_one_status_forward():
    sales_file = uploaded(fixture_bytes("spotify_2026-09.csv"))
    assert sales_file.status == S.UPLOADED
    cleaned = pipeline.clean(sales_file.pk)
    assert cleaned.status == S.CLEANED
    assert (cleaned.progress_processed, cleaned.progress_total) == (0, 6)
    processed = pipeline.import_lines(sales_file.pk)
    assert processed.status == S.PROCESSED
    assert list(processed.events.values_list("from_status", "to_status")) == [
        (S.INITIALIZED, S.UPLOADED),
        (S.UPLOADED, S.CLEANING),
        (S.CLEANING, S.CLEANED),
        (S.CLEANED, S.IMPORTING),
        (S.IMPORTING, S.PROCESSED),
    ]


def test_overlapped_cleaning_and_import_gives_what_the_two_steps_give():
    from project import storage

    content = fixture_bytes("spotify_2026-09.csv")
    stepwise = uploaded(content)
    pipeline.clean(stepwise.pk)
    pipeline.import_lines(stepwise.pk)
    overlapped = services.create_sales_file(name="again.csv", user=None)
    default_storage.save(overlapped.upload_key, ContentFile(content))
    overlapped = services.mark_uploaded(overlapped, allow_duplicate=True, reason="the same file both ways")
    processed = pipeline.clean_and_import(overlapped.pk)
    assert processed.status == S.PROCESSED
    assert list(processed.events.values_list("from_status", "to_status")) == [
        (S.INITIALIZED, S.UPLOADED),
        (S.UPLOADED, S.CLEANING),
        (S.CLEANING, S.CLEANED),
        (S.CLEANED, S.IMPORTING),
        (S.IMPORTING, S.PROCESSED),
    ]
    columns = list(CLEAN_COLUMNS)
    lines = [
        list(SalesLine.objects.filter(sales_file=f).order_by("line_number").values_list(*columns))
        for f in (stepwise, processed)
    ]
    assert lines[0] == lines[1] and len(lines[1]) == 6
    for key in ("cleaned_key", "rejected_key"):
        texts = []
        for sales_file in (stepwise, processed):
            with storage.open_stream(getattr(sales_file, key)) as stream:
                texts.append(stream.read())
        assert texts[0] == texts[1]
    assert processed.totals == SalesFile.objects.get(pk=stepwise.pk).totals


def test_overlapped_import_of_a_file_with_no_valid_line_keeps_the_previous_lines():
    sales_file = uploaded(fixture_bytes("spotify_2026-09.csv"))
    assert pipeline.clean_and_import(sales_file.pk).status == S.PROCESSED
    default_storage.delete(sales_file.upload_key)
    default_storage.save(
        sales_file.upload_key,
        ContentFile(
            b"period,dsp,artist,territory,units,revenue,currency\nnot-a-month,Spotify,A,IT,1,1.0,EUR\n"
        ),
    )
    failed = pipeline.clean_and_import(services.mark_uploaded(sales_file).pk)
    assert failed.status == S.FAILED
    assert failed.failure_reason.startswith("no valid sales lines: 1 line rejected")
    assert SalesLine.objects.filter(sales_file=sales_file).count() == 6
    assert failed.lines_rejected == 1


@pytest.mark.parametrize(
    ("transition", "status"),
    [
        (services.mark_cleaning, S.INITIALIZED),
        (services.mark_importing, S.UPLOADED),
        (services.mark_importing, S.CLEANING),
    ],
)
def test_out_of_order_transition_is_refused(transition, status):
    sales_file = SalesFile.objects.create(name="x.csv", status=status)
    with pytest.raises(services.InvalidTransition):
        transition(sales_file)
    assert SalesFile.objects.get(pk=sales_file.pk).status == status


def test_processed_file_cannot_fail_and_held_file_cannot_restart():
    with pytest.raises(services.InvalidTransition):
        services.mark_failed(SalesFile.objects.create(name="a", status=S.PROCESSED), reason="x")
    held = SalesFile.objects.create(name="b", status=S.CLEANING, lease_until=services.lease_expiry())
    with pytest.raises(services.InvalidTransition, match="a task is processing it"):
        services.mark_uploaded(held)


def test_unknown_layout_waits_for_a_mapping_with_a_clear_reason(flow):
    file_id = flow.processed_file(fixture_bytes("not_a_sales_file.csv"))
    data = flow.file(file_id)
    assert data["status"] == "NEEDS_MAPPING"
    assert data["failure_reason"].startswith("unknown format: no import profile matches the header row")
    assert "generic_csv" in data["failure_reason"]


def test_an_old_binary_xls_upload_is_named_as_unsupported(flow):
    file_id = flow.processed_file(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00\x00binary", name="sales.xls")
    assert "upload the sales report as CSV, TSV or XLSX" in flow.file(file_id)["failure_reason"]


def test_empty_file_fails(flow):
    file_id = flow.processed_file(b"")
    assert flow.file(file_id)["failure_reason"] == "the file is empty"


def test_file_with_only_rejected_lines_fails_naming_the_first_problem(flow):
    content = b"period,dsp,artist,territory,units,revenue,currency\n2026-13,Tidal,A,NO,1,1,NOK\n"
    file_id = flow.processed_file(content)
    data = flow.file(file_id)
    assert data["status"] == "FAILED"
    assert data["failure_reason"] == (
        "no valid sales lines: 1 line rejected (first: line 2: period '2026-13' is not a month or a date)"
    )


def test_truncated_dsr_fails_at_cleaning(flow):
    content = b"".join(
        fixture_bytes(
            "dsr/DSR_PADPIDA2026010101X_PADPIDA2014120301U_TidalHiFi_2026-09_WW_1of1_20261005T081200.tsv"
        ).splitlines(keepends=True)[:-3]
    )
    file_id = flow.processed_file(content, name="tidal.tsv")
    data = flow.file(file_id)
    assert data["status"] == "FAILED" and "FOOT" in data["failure_reason"]
    assert not SalesLine.objects.filter(sales_file_id=file_id).exists()


def test_rejected_lines_report_lists_line_numbers_and_reasons(flow, api):
    file_id = flow.processed_file(fixture_bytes("with_errors.csv"))
    data = flow.file(file_id)
    assert data["status"] == "PROCESSED"
    # Lines 4 (no artist) and 5 (a malformed ISRC) keep their money, without that metadata.
    assert (data["lines_read"], data["lines_valid"], data["lines_rejected"]) == (12, 5, 4)
    response = api.get(data["rejected_report"])
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines[0] == "line,reason,code,params"
    assert (
        lines[1]
        == '3,period \'2026-13\' is not a month or a date,period_invalid,"{""value"": ""\'2026-13\'""}"'
    )
    assert [line.split(",")[0] for line in lines[1:]] == ["3", "8", "9", "10"]
    assert sorted(SalesLine.objects.filter(sales_file_id=file_id).values_list("line_number", flat=True)) == [
        2,
        4,
        5,
        7,
        12,
    ]


def test_missing_cleaned_file_fails_the_import():
    sales_file = uploaded(fixture_bytes("spotify_2026-09.csv"))
    pipeline.clean(sales_file.pk)
    default_storage.delete(sales_file.cleaned_key)
    result = pipeline.import_lines(sales_file.pk)
    assert result.status == S.FAILED
    assert result.failure_reason.startswith("import failed: no file in storage")


def test_reimport_replaces_lines_and_snapshot_without_duplicates():
    sales_file = uploaded(fixture_bytes("spotify_2026-09.csv"))
    pipeline.clean(sales_file.pk)
    pipeline.import_lines(sales_file.pk)
    first = sorted(SalesLine.objects.filter(sales_file=sales_file).values_list("line_number", "revenue"))
    call_command("process_salesfile", str(sales_file.pk))
    assert (
        sorted(SalesLine.objects.filter(sales_file=sales_file).values_list("line_number", "revenue")) == first
    )
    snapshots = SalesFileSnapshot.objects.filter(sales_file=sales_file)
    assert sorted(snapshots.values_list("currency", "lines", "units")) == [
        ("EUR", 2, 3400),
        ("GBP", 1, 1200),
        ("USD", 3, 6190),
    ]


def test_failed_import_keeps_the_previous_lines():
    sales_file = uploaded(fixture_bytes("spotify_2026-09.csv"))
    pipeline.clean(sales_file.pk)
    pipeline.import_lines(sales_file.pk)
    default_storage.save(sales_file.upload_key, ContentFile(fixture_bytes("spotify_2026-09.csv")))
    services.mark_uploaded(SalesFile.objects.get(pk=sales_file.pk))
    pipeline.clean(sales_file.pk)
    # A cleaned file that PostgreSQL refuses (units not a number) fails the whole import.
    default_storage.delete(sales_file.cleaned_key)
    default_storage.save(
        sales_file.cleaned_key,
        ContentFile(
            ",".join(CLEAN_COLUMNS).encode() + b"\n2,2026-09,S,A,,,,IT,1,1.0,EUR,other,,,\n"
            b"3,2026-09,S,A,,,,IT,lots,1.0,EUR,other,,,\n"
        ),
    )
    result = pipeline.import_lines(sales_file.pk)
    assert result.status == S.FAILED and "import failed" in result.failure_reason
    assert SalesLine.objects.filter(sales_file=sales_file).count() == 6


def test_storage_outage_fails_the_file_and_reprocessing_recovers(
    flow, settings, s3_storage, s3_server, capsys
):
    file_id = flow.create_file()
    assert flow.upload(file_id, fixture_bytes("spotify_2026-09.csv")).status_code == 200
    working = settings.STORAGES["default"]
    dead = s3_server.storage_settings(s3_storage)
    dead["OPTIONS"] = {
        **dead["OPTIONS"],
        "endpoint_url": f"http://127.0.0.1:{free_port()}",
        "client_config": Config(retries={"max_attempts": 1}, connect_timeout=1),
    }
    settings.STORAGES = {**settings.STORAGES, "default": dead}

    assert flow.process(file_id).status_code == 202
    data = flow.file(file_id)
    assert data["status"] == "FAILED"
    assert data["failure_reason"].startswith("cleaning failed: storage unavailable")

    settings.STORAGES = {**settings.STORAGES, "default": working}
    call_command("process_salesfile", str(file_id))
    assert "PROCESSED, 6 lines imported" in capsys.readouterr().out
    assert flow.file(file_id)["status"] == "PROCESSED"


def test_process_command_reports_a_failed_file(capsys):
    sales_file = services.create_sales_file(name="bad.csv", user=None)
    default_storage.save(sales_file.upload_key, ContentFile(b"hello\n"))
    with pytest.raises(CommandError, match="1 file"):
        call_command("process_salesfile", str(sales_file.pk))
    assert "FAILED: unknown format" in capsys.readouterr().err


def test_progress_is_recorded_while_cleaning_and_importing(monkeypatch):
    monkeypatch.setattr(pipeline, "PROGRESS_EVERY", 2)
    seen = []
    sales_file = uploaded(fixture_bytes("spotify_2026-09.csv"))
    pipeline.clean(sales_file.pk, on_progress=lambda f, done, total: seen.append(("clean", done, total)))
    pipeline.import_lines(
        sales_file.pk, on_progress=lambda f, done, total: seen.append(("import", done, total))
    )
    assert ("clean", 7, None) in seen
    assert seen[-1] == ("import", 6, 6)


def test_deleting_a_file_deletes_its_lines_and_snapshot():
    sales_file = uploaded(fixture_bytes("spotify_2026-09.csv"))
    pipeline.clean(sales_file.pk)
    pipeline.import_lines(sales_file.pk)
    SalesFile.objects.get(pk=sales_file.pk).delete()
    assert not SalesLine.objects.exists() and not SalesFileSnapshot.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_import_progress_is_visible_to_other_connections_before_the_import_commits(monkeypatch):
    monkeypatch.setattr(pipeline, "PROGRESS_EVERY", 2)
    sales_file = uploaded(fixture_bytes("spotify_2026-09.csv"))
    pipeline.clean(sales_file.pk)
    observed = []

    def look(sales_file, done, total):
        other = connections.create_connection("default")
        with other.cursor() as cursor:
            cursor.execute(
                "SELECT status, progress_processed FROM statements_salesfile WHERE id = %s", [sales_file.pk]
            )
            observed.append(cursor.fetchone())
        other.close()

    pipeline.import_lines(sales_file.pk, on_progress=look)
    assert observed and observed[0] == ("IMPORTING", 6)


def test_held_file_can_be_forced_through_the_command(capsys):
    sales_file = uploaded(fixture_bytes("spotify_2026-09.csv"))
    services.mark_cleaning(sales_file)  # the worker died here, its lease still runs
    with pytest.raises(CommandError, match="a task is processing it"):
        call_command("process_salesfile", str(sales_file.pk))
    call_command("process_salesfile", str(sales_file.pk), "--force")
    assert SalesFile.objects.get(pk=sales_file.pk).status == S.PROCESSED
    reasons = list(SalesFile.objects.get(pk=sales_file.pk).events.values_list("to_status", "reason"))
    assert (S.FAILED, "interrupted; processed again with --force") in reasons


def test_a_file_queued_twice_is_cleaned_once():
    from statements import tasks

    sales_file = uploaded(fixture_bytes("spotify_2026-09.csv"))
    assert tasks.clean_salesfile(sales_file.pk) == S.PROCESSED  # cleaned and imported at once
    assert "cannot become CLEANING" in tasks.clean_salesfile(sales_file.pk)
    assert SalesFile.objects.get(pk=sales_file.pk).status == S.PROCESSED


@pytest.mark.parametrize("status", [S.INITIALIZED, S.UPLOADED, S.CLEANING, S.CLEANED, S.IMPORTING])
def test_any_step_can_fail_with_a_reason(status):
    sales_file = SalesFile.objects.create(name="x.csv", status=status)
    failed = services.mark_failed(sales_file, reason="DSP sent the wrong month")
    assert (failed.status, failed.failure_reason) == (S.FAILED, "DSP sent the wrong month")
    assert list(failed.events.values_list("from_status", "to_status", "reason")) == [
        (status, S.FAILED, "DSP sent the wrong month")
    ]


def test_cleaned_csv_is_what_csv_writer_writes_whatever_the_fields_hold():
    from project import storage
    from statements.cleaners import parse
    from statements.cleaners.profiles import builtin_profiles

    content = (
        "period,dsp,artist,title,territory,units,revenue,currency\n"
        '2026-09,Spotify,"Lane, Aurora","Paper ""Moons""",IT,1,0.5,EUR\n'
        '2026-09,Spotify,A,"two\nlines",IT,2,0.25,EUR\n'
        "2026-09,Spotify,Konté,Café,IT,3,1,EUR\n"
        "2026-09,Spotify,B,,IT,4,-0.001,EUR\n"
    ).encode()
    sales_file = uploaded(content)
    assert pipeline.clean(sales_file.pk).status == S.CLEANED
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CLEAN_COLUMNS)
    _, results, _ = parse(io.BytesIO(content), profiles=builtin_profiles())
    writer.writerows(item for item in results if type(item) is tuple)
    assert storage.read(sales_file.cleaned_key).decode() == out.getvalue()
