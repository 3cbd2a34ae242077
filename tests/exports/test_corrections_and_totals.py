import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from exports.fake_moneybird import detail
from exports.models import Document
from exports.workbook import COLUMN, HEADERS, TOTALS_HEADERS

pytestmark = pytest.mark.django_db
MONEY = ["total excl. tax (base)", "VAT", "total incl. tax (base)"]


def sync(client_api):
    return client_api.get("/api/exports/sync")


def export(client_api, ids, **body):
    response = client_api.post("/api/exports/export", {"ids": ids, **body}, content_type="application/json")
    assert response.status_code == 200, response.content
    return response["X-Export-File"]


def sheets(s3_server, bucket, name):
    content = s3_server.client().get_object(Bucket=bucket, Key=f"exports/{name}")["Body"].read()
    book = load_workbook(io.BytesIO(content))
    rows = [
        dict(zip(HEADERS, row, strict=True))
        for row in book.worksheets[0].iter_rows(min_row=2, values_only=True)
    ]
    totals = [
        dict(zip(TOTALS_HEADERS, row, strict=True))
        for row in book.worksheets[1].iter_rows(min_row=2, values_only=True)
    ]
    return book, rows, totals


def money(value) -> Decimal:
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))


def test_corrections_export_reverses_the_booked_rows_and_adds_the_current_ones(
    moneybird, client_api, s3_server, s3_storage
):
    changed = moneybird.add(details=[detail(1, price="100.0"), detail(2, price="40.0", tax_rate_id="tax-9")])
    deleted = moneybird.add(details=[detail(1, price="10.0")])
    sync(client_api)
    first = export(client_api, [changed["id"], deleted["id"]])
    _, booked, _ = sheets(s3_server, s3_storage, first)
    moneybird.change(
        changed["id"], details=[detail(1, price="130.0"), detail(2, price="40.0", tax_rate_id="tax-21")]
    )
    moneybird.remove(deleted["id"])
    sync(client_api)

    name = export(client_api, [changed["id"], deleted["id"]], corrections=True, ext="corr")

    _, rows, _ = sheets(s3_server, s3_storage, name)
    assert [row["correction"] for row in rows] == [
        f"reversal of {first}",
        f"reversal of {first}",
        "current",
        "current",
        f"reversal of {first}",
    ]
    # Importing the corrections books exactly the difference between then and now.
    for column in MONEY:
        difference = sum(money(row[column]) for row in rows)
        then = sum(money(row[column]) for row in booked)
        now = {
            "total excl. tax (base)": Decimal("170.00"),
            "VAT": Decimal("35.70"),
            "total incl. tax (base)": Decimal("205.70"),
        }
        assert difference == now[column] - then, column
    assert rows[0]["amount (number)"] == -1 and rows[0]["price"] == 100
    summary = client_api.get("/api/exports/export").json()["list"]
    assert all(item["fileName"] == name and item["mutations"] == [] for item in summary)
    # The next correction reverses what this one booked as current, not the first export.
    moneybird.change(changed["id"], details=[detail(1, price="131.0")])
    sync(client_api)
    _, again, _ = sheets(s3_server, s3_storage, export(client_api, [changed["id"]], corrections=True))
    assert [money(row["total excl. tax (base)"]) for row in again] == [
        Decimal(-130),
        Decimal(-40),
        Decimal(131),
    ]


def test_every_xlsx_has_control_totals_that_add_up_to_the_rows(moneybird, client_api, s3_server, s3_storage):
    euro = moneybird.add(
        details=[
            detail(1, price="10.05"),
            detail(2, price="-5.00", ledger_account_id="led-4100", tax_rate_id="tax-9"),
        ]
    )
    dollar = moneybird.add(currency="USD", details=[detail(1, price="200.0", tax_rate_id="tax-0")])
    gone = moneybird.add()
    sync(client_api)
    moneybird.remove(gone["id"])

    book, rows, totals = sheets(
        s3_server, s3_storage, export(client_api, [euro["id"], dollar["id"], gone["id"]])
    )

    assert book.sheetnames == ["Moneybird export", "Control totals"]
    sections = {}
    for total in totals:
        sections.setdefault(total["group"], []).append(total)
    assert set(sections) == {"all rows", "currency", "ledger account", "tax rate"}
    priced = [row for row in rows if row["total excl. tax (base)"] is not None]  # the deleted row has none
    assert len(priced) == 3
    for group, lines in sections.items():
        assert sum(line["rows"] for line in lines) == 3, group
        for column in MONEY:
            assert sum(money(line[column]) for line in lines) == sum(money(row[column]) for row in priced), (
                group,
                column,
            )
    by_key = {(t["group"], t["key"]): t for t in totals}
    assert money(by_key[("currency", "USD")]["total excl. tax (base)"]) == Decimal("200.00")
    assert money(by_key[("tax rate", "21% btw")]["VAT"]) == Decimal("2.11")
    assert money(by_key[("ledger account", "4100 =Travel")]["total incl. tax (base)"]) == Decimal("-5.45")
    # Text that looks like a formula stays text in the totals sheet too.
    cell = next(c for c in book.worksheets[1]["B"] if c.value == "4100 =Travel")
    assert cell.data_type == "s"


def test_drafts_are_refused_naming_their_ids(moneybird, client_api, s3_keys):
    draft, other_draft, fine = moneybird.add(state="new"), moneybird.add(state="new"), moneybird.add()
    sync(client_api)
    keys = s3_keys()

    response = client_api.post(
        "/api/exports/export",
        {"ids": [fine["id"], draft["id"], other_draft["id"]]},
        content_type="application/json",
    )

    assert response.status_code == 400
    assert draft["id"] in str(response.json()) and other_draft["id"] in str(response.json())
    assert s3_keys() == keys


def test_deleting_the_latest_export_leaves_no_file_name(moneybird, client_api):
    record = moneybird.add()
    sync(client_api)
    first = export(client_api, [record["id"]], ext="one")
    second = export(client_api, [record["id"]], ext="two")

    response = client_api.delete("/api/exports/export", {"filename": second}, content_type="application/json")

    item = response.json()[0]
    assert "fileName" not in item  # as the original: no fall-back to the earlier export
    assert item["allFiles"] == [first]
    assert Document.objects.get().last_export is None
    assert COLUMN["correction"] == len(HEADERS) - 1
