import io
import re
from datetime import timedelta

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from exports import selectors
from exports.fake_moneybird import detail
from exports.models import ExportedDocument, ExportFile
from exports.workbook import HEADERS

pytestmark = pytest.mark.django_db
NAME = re.compile(r"^(nolog-)?purchase-export-\d{8}-\d{6}(-[\w.()-]+)?\.xlsx$")  # no space


def sync(client_api):
    return client_api.get("/api/exports/sync")


def export(client_api, ids, **body):
    return client_api.post("/api/exports/export", {"ids": ids, **body}, content_type="application/json")


def entry(summary, doc_id):
    return next(item for item in summary if item["id"] == doc_id)


def workbook_rows(s3_server, bucket, key):
    content = s3_server.client().get_object(Bucket=bucket, Key=key)["Body"].read()
    sheet = load_workbook(io.BytesIO(content)).active
    return sheet, [list(row) for row in sheet.iter_rows(values_only=True)]


def test_export_stores_the_xlsx_and_marks_documents_exported(
    moneybird, client_api, s3_server, s3_storage, read_summary
):
    first, second = moneybird.add(), moneybird.add("receipt")
    untouched = moneybird.add()
    sync(client_api)

    response = export(client_api, [first["id"], second["id"]], ext="week 45")

    assert response.status_code == 200
    name = response["X-Export-File"]
    assert NAME.match(name) and name.endswith("-week-45.xlsx")
    summary = response.json()
    assert entry(summary, first["id"])["fileName"] == name
    assert entry(summary, second["id"])["allFiles"] == [name]
    assert "fileName" not in entry(summary, untouched["id"])
    assert read_summary() == summary
    export_file = ExportFile.objects.get()
    assert (export_file.document_count, export_file.row_count, export_file.no_log) == (2, 2, False)
    assert export_file.storage_key == f"exports/{name}"
    _, rows = workbook_rows(s3_server, s3_storage, export_file.storage_key)
    assert rows[0] == HEADERS
    assert [row[0] for row in rows[1:]] == [first["id"], second["id"]]
    assert [d.moneybird_id for d in selectors.not_exported_documents()] == [untouched["id"]]


def test_xlsx_has_one_row_per_detail_line_with_the_spec_columns(moneybird, client_api, s3_server, s3_storage):
    record = moneybird.add(
        paid_at="2026-11-10T08:00:00.000Z",
        reference='=HYPERLINK("http://evil")',
        details=[
            detail(
                1,
                description="+cmd|' /C calc'!A0",
                price="10.05",
                tax_rate_id="tax-21",
                period="20261001..20261031",
            ),
            detail(
                2, description="-2 discount", price="-5.00", ledger_account_id="led-4100", tax_rate_id="tax-9"
            ),
            detail(3, description="@SUM(A1)", price="1.0", tax_rate_id="tax-0"),
        ],
    )
    sync(client_api)
    name = export(client_api, [record["id"]])["X-Export-File"]

    sheet, rows = workbook_rows(s3_server, s3_storage, f"exports/{name}")

    assert len(rows) == 4
    row = dict(zip(HEADERS, rows[1], strict=True))
    assert row["id"] == record["id"]
    assert row["link"] == "link"
    assert (
        sheet.cell(row=2, column=2).hyperlink.target
        == f"https://moneybird.com/{moneybird.administration_id}/documents/{record['id']}"
    )
    assert (row["state"], row["currency"], row["contact"], row["customer id"]) == (
        "open",
        "EUR",
        "Acme Supplies BV",
        "42",
    )
    assert (
        row["date"].date().isoformat() == "2026-11-02" and row["due date"].date().isoformat() == "2026-12-02"
    )
    assert row["paid at"].date().isoformat() == "2026-11-10"
    assert (row["amount"], row["amount (number)"]) == ("1 x", 1)
    assert (row["ledger account"], row["ledger account code"]) == ("Office costs", "4000")
    assert (row["tax rate"], row["tax rate %"]) == ("21% btw", 21)
    assert row["total excl. tax (base)"] == 10.05
    assert row["VAT"] == 2.11  # 10.05 x 21% = 2.1105, rounded to cents
    assert row["total incl. tax (base)"] == 12.16
    assert (
        row["period from"].date().isoformat() == "2026-10-01"
        and row["period to"].date().isoformat() == "2026-10-31"
    )
    assert row["created"].date().isoformat() == "2026-11-02"
    assert row["type"] == "purchase_invoice"
    second = dict(zip(HEADERS, rows[2], strict=True))
    assert (second["ledger account"], second["VAT"], second["total excl. tax"]) == ("=Travel", -0.45, -5)
    # Text that looks like a formula is stored as text, never as a formula.
    for row_number, column in [(2, 3), (2, 13), (3, 13), (3, 14), (4, 13)]:
        cell = sheet.cell(row=row_number, column=column)
        assert cell.data_type == "s", (row_number, column, cell.value)
    assert sheet.cell(row=2, column=3).value == '=HYPERLINK("http://evil")'
    assert sheet.cell(row=4, column=13).value == "@SUM(A1)"


def test_nolog_export_does_not_log(moneybird, client_api, s3_keys):
    record = moneybird.add()
    sync(client_api)

    response = export(client_api, [record["id"]], noLog=True)

    name = response["X-Export-File"]
    assert name.startswith("nolog-purchase-export-")
    item = entry(response.json(), record["id"])
    assert "fileName" not in item
    assert item["allFiles"] == [name]  # the spec lists unlogged files too
    assert f"exports/{name}" in s3_keys()
    assert [d.moneybird_id for d in selectors.not_exported_documents()] == [record["id"]]


def test_delete_restores_exportability(moneybird, client_api, s3_keys, read_summary):
    record = moneybird.add()
    sync(client_api)
    name = export(client_api, [record["id"]])["X-Export-File"]
    assert selectors.not_exported_documents().count() == 0

    response = client_api.delete("/api/exports/export", {"filename": name}, content_type="application/json")

    assert response.status_code == 200
    item = entry(response.json(), record["id"])
    assert "fileName" not in item and item["allFiles"] == []
    assert f"exports/{name}" not in s3_keys()
    assert read_summary() == response.json()
    assert ExportedDocument.objects.count() == 0
    assert ExportFile.objects.get().deleted is True
    assert [d.moneybird_id for d in selectors.not_exported_documents()] == [record["id"]]
    # The same name can be used again once deleted.
    again = export(client_api, [record["id"]])
    assert entry(again.json(), record["id"])["fileName"] == again["X-Export-File"]


def test_delete_of_an_unknown_export_is_404(moneybird, client_api, s3_storage):
    response = client_api.delete(
        "/api/exports/export", {"filename": "purchase-export-nope.xlsx"}, content_type="application/json"
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    "ids",
    [[], None, "123", [None], [{"id": 1}], ["\x00"], ["12\n3"], ["9" * 33], [True]],
    ids=["empty", "null", "string", "none-item", "object-item", "nul", "newline", "too-long", "bool"],
)
def test_bad_ids_are_400_and_nothing_is_written(moneybird, client_api, s3_keys, ids):
    moneybird.add()
    sync(client_api)
    keys_before = s3_keys()
    moneybird.requests.clear()

    response = export(client_api, ids)

    assert response.status_code == 400
    error = response.json()["error"]
    assert "ids" in error["message"] and set(error) == {"code", "message", "problems"}
    assert ExportFile.objects.count() == 0
    assert s3_keys() == keys_before
    assert moneybird.requests == []


def test_unknown_ids_and_bad_ext_are_400(moneybird, client_api, s3_storage):
    record = moneybird.add()
    sync(client_api)
    assert export(client_api, ["999"]).status_code == 400
    assert export(client_api, [record["id"]], ext="../../etc").status_code == 400
    assert export(client_api, [record["id"]], noLog="yes").status_code == 400
    assert ExportFile.objects.count() == 0


@pytest.mark.parametrize("ext", ["a/b", "../../x", "a..b", "q4\n", "tab\there", "nul\x00", "/abs", "ünï"])
def test_ext_that_could_change_the_storage_key_is_400(moneybird, client_api, s3_keys, ext):
    record = moneybird.add()
    sync(client_api)
    keys_before = s3_keys()

    response = export(client_api, [record["id"]], ext=ext)

    assert response.status_code == 400 and "ext" in response.json()["error"]["message"]
    assert ExportFile.objects.count() == 0 and s3_keys() == keys_before


def test_document_deleted_in_moneybird_gets_a_deleted_row(moneybird, client_api, s3_server, s3_storage):
    kept, gone = moneybird.add(), moneybird.add()
    sync(client_api)
    first = export(client_api, [gone["id"]])["X-Export-File"]
    moneybird.remove(gone["id"])

    name = export(client_api, [kept["id"], gone["id"]])["X-Export-File"]

    _, rows = workbook_rows(s3_server, s3_storage, f"exports/{name}")
    deleted = dict(zip(HEADERS, rows[-1], strict=True))
    assert deleted["id"] == gone["id"]
    assert (deleted["reference"], deleted["state"]) == ("document deleted", "DELETED")
    assert first in deleted["contact"]
    assert ExportFile.objects.get(name=name).document_count == 1


def test_get_export_returns_list_and_sync_date(moneybird, client_api, s3_storage):
    assert client_api.get("/api/exports/export").json() == {"list": [], "syncDate": None}
    moneybird.add()
    sync(client_api)
    body = client_api.get("/api/exports/export").json()
    assert len(body["list"]) == 1
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", body["syncDate"])


def test_two_exports_in_the_same_second_get_distinct_names(moneybird, client_api, s3_storage):
    record = moneybird.add()
    sync(client_api)
    names = {export(client_api, [record["id"]])["X-Export-File"] for _ in range(3)}
    assert len(names) == 3 and all(NAME.match(name) for name in names)


def test_export_names_move_past_a_minute_of_taken_names(moneybird, client_api, s3_storage):
    record = moneybird.add()
    sync(client_api)
    start = timezone.localtime() - timedelta(seconds=5)
    stamps = [(start + timedelta(seconds=step)).strftime("%Y%m%d-%H%M%S") for step in range(130)]
    ExportFile.objects.bulk_create(
        ExportFile(name=f"purchase-export-{stamp}.xlsx", storage_key=f"exports/purchase-export-{stamp}.xlsx")
        for stamp in stamps
    )

    name = export(client_api, [record["id"]])["X-Export-File"]

    assert NAME.match(name) and name > f"purchase-export-{stamps[-1]}.xlsx"
