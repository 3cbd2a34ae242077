"""A DDEX DSR file's revenue basis (issue 22 item 4): which column is income, chosen through the API
or the run page before processing, shown once used. Each basis is checked on the real ddexnet/dsrf
files in ../shared/realdata/statements, with units and the exact total computed here from the
file's own LI and SU records by plain Decimal arithmetic; the tests skip when the folder is absent."""

from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from statements.models import SalesFile
from tests.statements.test_realdata_reports import DSR_BASIC_AUDIO, DSR_UGC, EXACT, REALDATA, dsr_records

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not REALDATA.is_dir(), reason="../shared/realdata is absent"),
]

# UGC: the LI column each basis reads (None: the LI records are not read).
LI_COLUMN = {
    "allocated_amount": "AllocatedAmount",
    "allocated_net_revenue": "AllocatedNetRevenue",
    "usage_net_revenue": None,
    "net_revenue": None,
}


def ugc_expected(path: str, basis: str) -> tuple[str, int, Decimal]:
    """(currency, units, revenue): per SU record, the sum of the basis's column over the LI records
    that follow it, or the SU's own NetRevenue where none carries it (or the basis reads no LI)."""
    records = dsr_records(path)
    currency = next(r["Currency"] for r in records if r["type"].startswith("SY"))
    column = LI_COLUMN[basis]
    usages = [r for r in records if r["type"].startswith("SU")]
    per_usage: dict[int, list[Decimal]] = defaultdict(list)
    for record in records:
        if record["type"].startswith("SU"):
            current = id(record)
        elif record["type"].startswith("LI") and column and record.get(column):
            per_usage[current].append(Decimal(record[column]))
    revenue = Decimal(0)
    for usage in usages:
        for amount in per_usage.get(id(usage)) or [Decimal(usage["NetRevenue"])]:
            revenue = EXACT.add(revenue, amount)
    return currency, sum(int(r["Usages"]) for r in usages), revenue


def processed(flow, path: str, currency: str, **create) -> dict:
    run_id = flow.create_run(currency=currency)
    response = flow.client.post(
        "/api/files/salesfiles/", {"name": Path(path).name, **create}, content_type="application/json"
    )
    assert response.status_code == 201, response.content
    file_id = response.json()["id"]
    flow.add_file(run_id, file_id)
    assert flow.upload(file_id, (REALDATA / path).read_bytes(), Path(path).name).status_code == 200
    assert flow.process(file_id).status_code == 202
    return flow.file(file_id)


def figures(data: dict, currency: str) -> tuple[int, Decimal]:
    assert data["status"] == "PROCESSED", data["failure_reason"]
    return data["totals"][currency]["units"], Decimal(data["totals"][currency]["revenue"])


@pytest.mark.parametrize("basis", list(LI_COLUMN))
@pytest.mark.parametrize("path", DSR_UGC, ids=[Path(p).name[:9] for p in DSR_UGC])
def test_ugc_file_imports_the_basis_asked_for(flow, path, basis):
    currency, units, revenue = ugc_expected(path, basis)
    data = processed(flow, path, currency, revenue_basis=basis)
    assert figures(data, currency) == (units, revenue)
    assert data["revenue_basis"] == basis
    # The file reconciles on the basis it was read with.
    assert Decimal(data["reconciliation"][currency]["source"]) == revenue
    # A usage without the basis's LI column (TEST2's first) keeps its own NetRevenue, with a warning.
    fallback = [w for w in data["warnings"] if "usage lines carry no" in w]
    if LI_COLUMN[basis] and "TEST2" in path:
        assert fallback == [
            f"1 usage lines carry no {LI_COLUMN[basis]} (no LI record with it): "
            "their revenue is the usage record's NetRevenue"
        ]
    else:
        assert fallback == []


def test_the_bases_give_the_figures_the_files_hold():
    """The independent reading itself, on the figures of the two files (sums of their cells)."""
    set1, set2 = DSR_UGC
    assert ugc_expected(set1, "allocated_net_revenue")[1:] == (10210, Decimal("1.16"))
    assert ugc_expected(set1, "allocated_amount")[2] == Decimal("198.88")
    assert ugc_expected(set1, "usage_net_revenue")[2] == Decimal("7.0")
    assert ugc_expected(set2, "allocated_net_revenue")[2] == Decimal("3.16")
    # TEST2's first usage has no LI record: its own NetRevenue (2.0) with every LI basis.
    assert ugc_expected(set2, "allocated_amount")[2] == Decimal("75.65")


@pytest.mark.parametrize("path", DSR_UGC, ids=[Path(p).name[:9] for p in DSR_UGC])
def test_without_a_basis_the_default_is_used_and_shown(flow, path):
    currency, units, revenue = ugc_expected(path, "allocated_net_revenue")
    data = processed(flow, path, currency)
    assert figures(data, currency) == (units, revenue)
    assert data["revenue_basis"] == "allocated_net_revenue"


@pytest.mark.parametrize(
    ("asked", "used"), [("", "allocated_amount"), ("usage_net_revenue", "usage_net_revenue")]
)
def test_the_installation_default_is_per_dsr_profile(flow, settings, asked, used):
    """STATEMENTS_DSR_REVENUE_BASIS names each DSR profile's income column: a UGC file takes the
    UgcProfile's; a file that names its own basis keeps it."""
    settings.STATEMENTS_DSR_REVENUE_BASIS = "UgcProfile=allocated_amount,BasicAudioProfile=net_revenue"
    path = DSR_UGC[0]
    currency, units, revenue = ugc_expected(path, used)
    data = processed(flow, path, currency, **({"revenue_basis": asked} if asked else {}))
    assert figures(data, currency) == (units, revenue)
    assert data["revenue_basis"] == used


def test_an_unknown_basis_in_the_setting_is_a_start_up_error(settings):
    from django.core import checks

    settings.STATEMENTS_DSR_REVENUE_BASIS = "UgcProfile=allocated"
    errors = [e for e in checks.run_checks() if e.id == "statements.E001"]
    assert len(errors) == 1 and "unknown DSR revenue basis 'allocated'" in errors[0].msg
    settings.STATEMENTS_DSR_REVENUE_BASIS = "allocated_amount"
    assert not [e for e in checks.run_checks() if e.id == "statements.E001"]


@pytest.mark.parametrize("basis", ["allocated_net_revenue", "net_revenue"])
@pytest.mark.parametrize("path", DSR_BASIC_AUDIO, ids=["basic_audio"])
def test_basic_audio_file_shares_its_summaries_money(flow, path, basis):
    """This Basic Audio file's SY01.02 summaries carry NetRevenue only (no AllocatedNetRevenue), so
    both bases share it out: the total is the summaries' NetRevenue."""
    records = dsr_records(path)
    summaries = [r for r in records if r["type"].startswith("SY")]
    currency = summaries[0]["CurrencyOfReporting"]
    revenue = sum((Decimal(r["NetRevenue"]) for r in summaries), Decimal(0))
    units = sum(int(r["NumberOfStreams"]) for r in records if r["type"].startswith("SU"))
    data = processed(flow, path, currency, revenue_basis=basis)
    assert figures(data, currency) == (units, revenue)
    assert data["revenue_basis"] == basis


def test_process_again_with_another_basis_through_the_api(flow):
    path = DSR_UGC[0]
    currency, units, default = ugc_expected(path, "allocated_net_revenue")
    data = processed(flow, path, currency)
    assert figures(data, currency) == (units, default)

    response = flow.client.post(
        f"/api/files/salesfiles/{data['id']}/process/",
        {"revenue_basis": "allocated_amount"},
        content_type="application/json",
    )
    assert response.status_code == 202, response.content
    again = flow.file(data["id"])
    assert figures(again, currency) == (units, ugc_expected(path, "allocated_amount")[2])
    assert again["revenue_basis"] == "allocated_amount"

    # A body without the basis keeps the file's.
    assert flow.process(data["id"]).status_code == 202
    assert flow.file(data["id"])["revenue_basis"] == "allocated_amount"


def test_an_unknown_basis_is_refused(flow):
    response = flow.client.post(
        "/api/files/salesfiles/",
        {"name": "x.tsv", "revenue_basis": "gross"},
        content_type="application/json",
    )
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_input"
    assert "revenue_basis" in response.content.decode()
    assert not SalesFile.objects.exists()


def test_openapi_documents_the_basis(api):
    schema = api.get("/api/statements/openapi.json").json()["components"]["schemas"]
    assert (
        "allocated_amount" in str(schema["SalesFileIn"])
        and "revenue_basis" in schema["SalesFileOut"]["properties"]
    )


@pytest.fixture
def staff(make_user) -> Client:
    client = Client()
    client.force_login(make_user("bea", groups=["back-office"]))
    return client


def test_run_page_shows_the_basis_and_processes_again_with_another(flow, staff):
    path = DSR_UGC[1]
    currency, units, _ = ugc_expected(path, "allocated_net_revenue")
    run_id = flow.create_run(currency=currency)
    response = staff.post(
        f"/statements/{run_id}/upload/",
        {
            "upload-files": [SimpleUploadedFile(Path(path).name, (REALDATA / path).read_bytes())],
            "upload-profile": "",
            "upload-revenue_basis": "usage_net_revenue",
        },
    )
    assert response.status_code == 302
    sales_file = SalesFile.objects.get()
    assert figures(flow.file(sales_file.pk), currency) == (units, ugc_expected(path, "usage_net_revenue")[2])
    page = staff.get(f"/statements/{run_id}/").content.decode()
    assert 'data-revenue-basis="usage_net_revenue"' in page and "Net revenue of the usages (SU)" in page
    assert f'<select name="revenue_basis" data-basis-for="{sales_file.pk}">' in page

    response = staff.post(
        f"/statements/{run_id}/files/{sales_file.pk}/process/", {"revenue_basis": "allocated_amount"}
    )
    assert response.status_code == 302
    data = flow.file(sales_file.pk)
    assert figures(data, currency) == (units, ugc_expected(path, "allocated_amount")[2])
    page = staff.get(f"/statements/{run_id}/", HTTP_ACCEPT_LANGUAGE="it").content.decode()
    assert 'data-revenue-basis="allocated_amount"' in page and "Base dei ricavi" in page

    response = staff.post(f"/statements/{run_id}/files/{sales_file.pk}/process/", {"revenue_basis": "gross"})
    assert response.status_code == 302
    assert flow.file(sales_file.pk)["revenue_basis"] == "allocated_amount"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_page_script_creates_the_file_with_the_basis_chosen(page, make_user, flow):
    """With JavaScript the upload goes through the JSON API: the form's basis goes with it."""
    make_user("bea", groups=["back-office"])
    path = DSR_UGC[0]
    currency, units, revenue = ugc_expected(path, "allocated_amount")
    run_id = flow.create_run(currency=currency)
    page.goto(f"/statements/{run_id}/")
    page.fill("#id_username", "bea")
    page.fill("#id_password", "pw-bea-123")
    page.press("#id_password", "Enter")
    page.wait_for_url(f"**/statements/{run_id}/")
    page.select_option("#id_upload-revenue_basis", "allocated_amount")
    page.set_input_files(
        "#id_upload-files",
        [{"name": Path(path).name, "mimeType": "text/plain", "buffer": (REALDATA / path).read_bytes()}],
    )
    with page.expect_navigation():
        page.click("text=Upload and process")
    row = page.locator("tr[data-file]")
    assert row.locator("[data-revenue-basis]").inner_text() == (
        "Revenue basis: Allocated amount (LI): what the rights controller is paid"
    )
    assert figures(flow.file(SalesFile.objects.get().pk), currency) == (units, revenue)
