"""The sums a royalty draft reads instead of summing the lines again (issue 23 item 9): kept per
processed file (`statements.services.keep_track_sums`), they are its lines' sums, follow the lines
when the file is processed again, and give a draft the figures of the lines themselves, with the
run's filters, for one payee's detail, and with duplicate lines left out (summed from the lines)."""

import pytest
from django.db import connection, transaction
from django.db.models import Count, Max, Sum

from statements import services as sales_services
from statements import tasks
from statements.models import SalesFileCombination, SalesFileTrack, SalesLine, StatementRun
from statements.royalties import calculation
from statements.royalties.calculation import BREAKDOWN_ROWS, compute, stage_groups
from tests.statements.test_royalty_detail import deals, generated_run, generated_sales

pytestmark = pytest.mark.django_db

TRACK_KEYS = ("currency", "dsp", "period", "isrc", "upc", "artist")


def kept(file_id: int) -> tuple[set, set]:
    tracks = SalesFileTrack.objects.filter(sales_file_id=file_id).values_list(
        *TRACK_KEYS, "lines", "units", "revenue", "title"
    )
    combinations = SalesFileCombination.objects.filter(sales_file_id=file_id).values_list(
        "sale_type", "dsp", "territory"
    )
    return set(tracks), set(combinations)


def grouped(file_id: int) -> tuple[set, set]:
    """The same sums, as a GROUP BY of the file's lines."""
    lines = SalesLine.objects.filter(sales_file_id=file_id).order_by()
    tracks = (
        lines.values(*TRACK_KEYS)
        .annotate(n=Count("*"), u=Sum("units"), r=Sum("revenue"), t=Max("title"))
        .values_list(*TRACK_KEYS, "n", "u", "r", "t")
    )
    return set(tracks), set(lines.values_list("sale_type", "dsp", "territory").distinct())


def figures(run: StatementRun) -> dict:
    """Everything a draft computes, its breakdowns and one payee's line detail included."""
    with transaction.atomic():
        result = compute(run)
        with connection.cursor() as cursor:
            cursor.execute(f"{BREAKDOWN_ROWS} ORDER BY 1, 2, 3")
            breakdowns = cursor.fetchall()
    contracts = sorted({c for s in result.statements for c in s.earnings_by_contract})
    with transaction.atomic():
        stage_groups(run, contracts[:1])
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM royalty_groups ORDER BY 1, 2, 3, 4, 5, 6, 11")
            detail = cursor.fetchall()
    statements = [
        (s.payee.pk, dict(s.earnings_by_contract), dict(s.held_by_contract), s.total("payable"))
        for s in result.statements
    ]
    assert statements and detail
    return {
        "statements": statements,
        "breakdowns": breakdowns,
        "detail": detail,
        "suspense": result.suspense,
        "revenue": result.revenue,
        "period": (result.period_first, result.period_last),
        "label_income": result.label_income,
        "duplicates": result.duplicates,
        "already_allocated": result.already_allocated,
        "problems": result.problems,
    }


def scanning_the_lines(monkeypatch):
    """A draft that sums the lines, as before the sums were kept."""
    monkeypatch.setattr(calculation.sales_services, "keep_track_sums", lambda ids: False)


def test_the_sums_kept_for_a_file_are_a_group_by_of_its_lines(flow):
    file_id = flow.processed_file(generated_sales(500).encode())
    assert not SalesFileTrack.objects.exists()  # the task runs once the import is committed
    assert sales_services.keep_track_sums([file_id])
    assert kept(file_id) == grouped(file_id)
    assert len(kept(file_id)[0]) > 50
    assert sales_services.keep_track_sums([file_id])  # kept once: summing again adds nothing
    assert kept(file_id) == grouped(file_id)


def test_the_import_queues_the_sums_once_its_lines_are_committed(flow, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        file_id = flow.processed_file(generated_sales(200).encode())
    assert kept(file_id) == grouped(file_id) and kept(file_id)[0]
    assert tasks.keep_track_sums(file_id)


def test_a_file_processed_again_has_the_sums_of_its_new_lines(flow):
    file_id = flow.processed_file(generated_sales(300, seed=1).encode())
    assert sales_services.keep_track_sums([file_id])
    SalesFileTrack.objects.filter(sales_file_id=file_id).update(units=0)  # what its lines no longer say
    assert flow.process(file_id).status_code == 202
    assert flow.file(file_id)["status"] == "PROCESSED"
    assert kept(file_id) == (set(), set())  # deleted with the lines they summed
    assert sales_services.keep_track_sums([file_id])
    assert kept(file_id) == grouped(file_id)


def test_a_file_not_processed_has_no_sums_kept(flow):
    file_id = flow.create_file()
    assert flow.upload(file_id, generated_sales(100).encode()).status_code == 200
    assert not sales_services.keep_track_sums([file_id])
    processed = flow.processed_file(generated_sales(100, seed=3).encode())
    assert not sales_services.keep_track_sums([processed, file_id])
    assert not SalesFileTrack.objects.exists()


@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"artists": ["Ana", "Bo", "Nobody Signed"], "dsps": ["Spotify", "iTunes"]},
        {"periods": ["2026-09"]},
        {"period_from": "2026-09", "dsps": ["YouTube"]},
    ],
    ids=["whole run", "artists and DSPs", "months", "from a month, one DSP"],
)
def test_a_draft_from_the_kept_sums_has_the_figures_of_its_lines(flow, monkeypatch, filters):
    deals()
    run = generated_run(flow, generated_sales(600))
    StatementRun.objects.filter(pk=run.pk).update(**filters)
    run.refresh_from_db()
    from_sums = figures(run)
    assert SalesFileTrack.objects.filter(sales_file__runs=run).exists()
    scanning_the_lines(monkeypatch)
    assert figures(run) == from_sums


def test_a_run_with_duplicate_lines_sums_its_lines(flow, monkeypatch):
    deals()
    sales = generated_sales(300, seed=9)
    run = generated_run(flow, sales)
    flow.processed_file(sales.encode(), run.pk, name="again.csv", duplicate_reason="sent twice")
    with_duplicates = figures(run)
    assert with_duplicates["duplicates"]
    assert not SalesFileTrack.objects.exists()  # the duplicates' lines are left out of the sums
    scanning_the_lines(monkeypatch)
    assert figures(run) == with_duplicates
