"""A sales file no import profile reads waits in NEEDS_MAPPING; its columns are mapped through the
API (table, preview, save), the mapping becomes an import profile matched by the header from then
on, and profiles travel between installations as JSON."""

import csv
import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command

from statements.models import ImportProfile, SalesFile, SalesFileStatus

pytestmark = pytest.mark.django_db

HEADER = [
    "Data vendita",
    "Negozio",
    "Paese",
    "Codice ISRC",
    "Interprete",
    "Brano",
    "Pezzi",
    "Importo",
    "Tipo",
]
# (date, store, country, ISRC, artist, title, units, amount with a decimal comma, kind)
SALES = [
    ("15/06/2025", "Deezer", "IT", "ITABC2500001", "Lucia Neri", "Canzone", "10", "1,2345", "Vendita"),
    ("16/06/2025", "Deezer", "Germania", "ITABC2500002", "Lucia Neri", "Altra", "3", "0,000125", "Vendita"),
    ("17/06/2025", "Qobuz", "FR", "", "Lucia Neri", "Canzone", "2", "0,50", "Storno"),
    ("30/06/2025", "Qobuz", "ROM", "ITABC2500001", "Lucia Neri", "Canzone", "7", "12,3", "Vendita"),
]
MAPPING = {
    "columns": {
        "period": "Data vendita",
        "dsp": "Negozio",
        "territory": "Paese",
        "isrc": "Codice ISRC",
        "artist": "Interprete",
        "title": "Brano",
        "units": "Pezzi",
        "revenue": "Importo",
        "void": "Tipo",
    },
    "fixed": {"currency": "EUR"},
    "date_order": "dmy",
    "decimal_separator": ",",
    "void_values": ["Storno"],
}


def report_bytes(sales=SALES) -> bytes:
    lines = [";".join(HEADER), *(";".join(row) for row in sales), "Total;;;;;;22;14,034625;"]
    return ("\n".join(lines) + "\n").encode()


def expected_totals(sales=SALES) -> tuple[int, Decimal]:
    """Units and revenue as the mapping should read them: comma decimals, Storno rows reversed."""
    units, revenue = 0, Decimal(0)
    for row in sales:
        sign = -1 if row[8] == "Storno" else 1
        units += sign * int(row[6])
        revenue += sign * Decimal(row[7].replace(",", "."))
    return units, revenue


@pytest.fixture
def waiting(flow):
    """A run with one file of an unknown layout, processed: (run id, file id)."""
    run_id = flow.create_run(currency="EUR")
    file_id = flow.processed_file(report_bytes(), run_id=run_id, name="negozio_giugno.csv")
    return run_id, file_id


def test_unknown_layout_waits_for_a_mapping_and_the_run_says_why(flow, waiting):
    run_id, file_id = waiting
    data = flow.file(file_id)
    assert data["status"] == "NEEDS_MAPPING"
    assert "no import profile matches the header row" in data["failure_reason"]
    run = flow.client.get(f"/api/statement_run/{run_id}/").json()
    assert run["status"] == "NEEDS_MAPPING"
    report = flow.report(run_id)
    assert report.status_code == 409
    (problem,) = report.json()["error"]["problems"]
    assert (
        problem["loc"] == ["files", file_id]
        and "needs its columns mapped" in report.json()["error"]["message"]
    )


def test_a_file_without_columns_still_fails(flow):
    file_id = flow.processed_file(b"hello\nworld\n")
    assert flow.file(file_id)["status"] == "FAILED"


def test_mapping_shows_the_first_rows_as_a_table_with_a_guess(flow, waiting):
    _, file_id = waiting
    response = flow.client.get(f"/api/files/salesfiles/{file_id}/mapping/")
    assert response.status_code == 200
    data = response.json()
    assert data["table"]["columns"] == HEADER and data["table"]["header_line"] == 1
    assert data["table"]["rows"][0] == list(SALES[0])
    assert len(data["table"]["rows"]) == len(SALES) + 1  # the totals row is shown as it is
    assert "revenue" in data["fields"] and "currency" in data["fixable"]


def test_preview_gives_cleaned_lines_and_exact_totals(flow, waiting):
    _, file_id = waiting
    response = flow.client.post(
        f"/api/files/salesfiles/{file_id}/mapping/preview/", MAPPING, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    data = response.json()
    units, revenue = expected_totals()
    assert data["totals"] == {"EUR": {"lines": 4, "units": units, "revenue": str(revenue)}}
    assert data["lines_valid"] == 4 and data["lines_rejected"] == 0 and data["problems"] == []
    first, _, void, rom = data["lines"]
    assert (first["period"], first["territory"], first["revenue"]) == ("2025-06", "IT", "1.2345")
    assert (void["units"], void["revenue"]) == ("-2", "-0.50")
    assert rom["territory"] == "RO"
    assert flow.file(file_id)["status"] == "NEEDS_MAPPING"  # a preview changes nothing


def test_wrong_mapping_is_a_422_naming_the_field_and_lines_and_saves_nothing(flow, waiting):
    _, file_id = waiting
    columns = {name: column for name, column in MAPPING["columns"].items() if name != "title"}
    wrong = {**MAPPING, "columns": {**columns, "revenue": "Brano"}}
    for method in ("post", "put"):
        url = f"/api/files/salesfiles/{file_id}/mapping/" + ("preview/" if method == "post" else "")
        response = getattr(flow.client, method)(url, wrong, content_type="application/json")
        assert response.status_code == 422, response.content
        error = response.json()["error"]
        assert error["code"] == "mapping_invalid"
        locs = [p["loc"] for p in error["problems"]]
        assert ["columns", "revenue"] in locs and ["line", 2] in locs
        assert any("revenue 'Canzone' is not a number" in p["msg"] for p in error["problems"])
    unknown_column = {**MAPPING, "columns": {**MAPPING["columns"], "units": "Quantità"}}
    response = flow.client.put(
        f"/api/files/salesfiles/{file_id}/mapping/", unknown_column, content_type="application/json"
    )
    assert response.status_code == 422
    assert {"loc": ["columns", "units"], "msg": "the file has no column 'Quantità'"} in response.json()[
        "error"
    ]["problems"]
    assert not ImportProfile.objects.filter(builtin=False).exists()
    assert flow.file(file_id)["status"] == "NEEDS_MAPPING"


def test_saved_mapping_processes_the_file_and_reads_the_next_one_with_that_header(flow, waiting):
    run_id, file_id = waiting
    body = {**MAPPING, "name": "Negozio italiano"}
    response = flow.client.put(
        f"/api/files/salesfiles/{file_id}/mapping/", body, content_type="application/json"
    )
    assert response.status_code == 202, response.content
    saved = response.json()
    assert saved["status"] == "PROCESSED" and saved["saved"] is True
    profile = ImportProfile.objects.get(slug=saved["profile"])
    assert profile.name == "Negozio italiano" and profile.active and not profile.builtin
    data = flow.file(file_id)
    units, revenue = expected_totals()
    assert data["totals"] == {"EUR": {"lines": 4, "units": units, "revenue": str(revenue)}}
    assert data["reconciliation"]["EUR"]["difference"] == "0"
    assert flow.client.get(f"/api/statement_run/{run_id}/").json()["status"] == "PROCESSED"

    more = [("01/07/2025", "Deezer", "ES", "", "Marco Blu", "Uno", "4", "2,25", "Vendita")]
    next_id = flow.processed_file(report_bytes(more), name="negozio_luglio.csv")
    following = flow.file(next_id)
    assert following["status"] == "PROCESSED" and following["format"] == profile.slug
    assert following["totals"] == {"EUR": {"lines": 1, "units": 4, "revenue": "2.25"}}


def test_a_mapping_not_saved_is_for_this_file_only(flow, waiting):
    _, file_id = waiting
    body = {**MAPPING, "save": False}
    response = flow.client.put(
        f"/api/files/salesfiles/{file_id}/mapping/", body, content_type="application/json"
    )
    assert response.status_code == 202 and response.json()["saved"] is False
    assert flow.file(file_id)["status"] == "PROCESSED"
    next_id = flow.processed_file(report_bytes(SALES[:2]), name="again.csv")
    assert flow.file(next_id)["status"] == "NEEDS_MAPPING"


def test_a_processed_file_cannot_be_mapped(flow, waiting):
    _, file_id = waiting
    flow.client.put(f"/api/files/salesfiles/{file_id}/mapping/", MAPPING, content_type="application/json")
    response = flow.client.put(
        f"/api/files/salesfiles/{file_id}/mapping/", MAPPING, content_type="application/json"
    )
    assert response.status_code == 409 and response.json()["error"]["code"] == "salesfile_not_mappable"
    assert SalesFile.objects.get(pk=file_id).status == SalesFileStatus.PROCESSED


def test_mapping_endpoints_are_documented(flow):
    paths = flow.client.get("/api/statements/openapi.json").json()["paths"]
    assert {"get", "put"} <= set(paths["/api/files/salesfiles/{file_id}/mapping/"])
    assert "post" in paths["/api/files/salesfiles/{file_id}/mapping/preview/"]


def test_profiles_round_trip_through_json(flow, waiting, tmp_path, capsys):
    _, file_id = waiting
    body = {**MAPPING, "name": "Negozio italiano"}
    slug = flow.client.put(
        f"/api/files/salesfiles/{file_id}/mapping/", body, content_type="application/json"
    ).json()["profile"]
    exported = tmp_path / "profiles.json"
    call_command("export_import_profiles", "-o", str(exported))
    records = json.loads(exported.read_text(encoding="utf-8"))
    assert [r["fields"]["slug"] for r in records] == [slug]
    original = {k: v for k, v in records[0]["fields"].items()}

    ImportProfile.objects.filter(slug=slug).delete()  # another installation, without it
    call_command("import_import_profiles", str(exported))
    assert "1 import profile(s) created, 0 updated" in capsys.readouterr().out
    call_command("export_import_profiles", "-o", str(exported))
    assert json.loads(exported.read_text(encoding="utf-8"))[0]["fields"] == original
    call_command("import_import_profiles", str(exported))
    assert "0 import profile(s) created, 1 updated" in capsys.readouterr().out

    next_id = flow.processed_file(report_bytes(SALES[1:]), name="copy.csv")
    assert flow.file(next_id)["format"] == slug


def test_import_refuses_a_broken_profile_and_imports_nothing(tmp_path):
    broken = [
        {"fields": {"slug": "ok_one", "name": "OK", "columns": {"units": ["Qty"]}, "required": ["units"]}},
        {"fields": {"slug": "bad", "name": "Bad", "columns": {"money": ["X"]}, "required": ["money"]}},
        {"fields": {"slug": "spotify", "name": "Mine", "columns": {"units": ["Q"]}, "required": ["units"]}},
    ]
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(broken), encoding="utf-8")
    with pytest.raises(Exception, match=r"profile 2: .*unknown field 'money'.*profile 3: .*built-in"):
        call_command("import_import_profiles", str(path))
    assert not ImportProfile.objects.filter(slug="ok_one").exists()


REALDATA = Path(__file__).resolve().parents[2].parent / "shared" / "realdata" / "statements"
TUNECORE = REALDATA / "set2" / "trackshift_Tunecore_Test.csv"


@pytest.mark.skipif(not TUNECORE.is_file(), reason="../shared/realdata is absent")
def test_a_real_report_mapped_by_hand_imports_to_the_cent(flow):
    ImportProfile.objects.update(active=False)  # as if no profile knew TuneCore's layout
    run_id = flow.create_run(currency="GBP")
    file_id = flow.processed_file(TUNECORE.read_bytes(), run_id=run_id, name=TUNECORE.name)
    assert flow.file(file_id)["status"] == "NEEDS_MAPPING"
    body = {
        "columns": {
            "period": "Sales Period",
            "dsp": "Store Name",
            "territory": "Country Of Sale",
            "artist": "Artist",
            "title": "Song Title",
            "release": "Release Title",
            "upc": "UPC",
            "isrc": "Optional ISRC",
            "sale_type": "Sales Type",
            "units": "# Units Sold",
            "revenue": "Total Earned",
            "currency": "Currency",
        },
        "date_order": "mdy",
        "decimal_separator": ".",
        "name": "TuneCore by hand",
    }
    response = flow.client.put(
        f"/api/files/salesfiles/{file_id}/mapping/", body, content_type="application/json"
    )
    assert response.status_code == 202, response.content
    expected: dict[str, list] = {}
    with TUNECORE.open(encoding="utf-8", newline="") as source:
        for row in csv.DictReader(source):
            into = expected.setdefault(row["Currency"], [0, 0, Decimal(0)])
            into[0] += 1
            into[1] += int(row["# Units Sold"])
            into[2] += Decimal(row["Total Earned"])
    data = flow.file(file_id)
    assert data["status"] == "PROCESSED"
    assert data["totals"] == {
        currency: {"lines": lines, "units": units, "revenue": str(revenue)}
        for currency, (lines, units, revenue) in expected.items()
    }


def test_the_command_reports_needs_mapping_as_its_own_outcome_not_a_failure(waiting, capsys):
    _, file_id = waiting
    call_command("process_salesfile", str(file_id))  # no CommandError: nothing failed
    out, err = capsys.readouterr()
    assert f"sales file {file_id}: NEEDS_MAPPING, needs mapping" in out
    assert f"/api/files/salesfiles/{file_id}/mapping/" in out and err == ""
    assert SalesFile.objects.get(pk=file_id).status == SalesFileStatus.NEEDS_MAPPING


def test_rows_with_a_skip_marker_in_any_column_are_structure(flow):
    """A subtotal row whose marker sits in a middle column (here the title's): without the marker it
    is a rejected line; with it, structure counted in a warning, and the profile keeps the marker."""
    subtotal = ("", "", "", "", "", "Totale parziale", "10", "1,2345", "")
    file_id = flow.processed_file(report_bytes([SALES[0], subtotal, *SALES[1:]]), name="negozio_sub.csv")
    url = f"/api/files/salesfiles/{file_id}/mapping/"
    rejected = flow.client.post(url + "preview/", MAPPING, content_type="application/json")
    assert rejected.status_code == 422 and ["line", 3] in [
        p["loc"] for p in rejected.json()["error"]["problems"]
    ]
    body = {**MAPPING, "skip_markers": ["TOTALE PARZIALE"], "name": "Negozio con subtotali"}
    preview = flow.client.post(url + "preview/", body, content_type="application/json").json()
    units, revenue = expected_totals()
    assert preview["problems"] == [] and preview["lines_rejected"] == 0
    assert preview["totals"] == {"EUR": {"lines": 4, "units": units, "revenue": str(revenue)}}
    assert (
        "1 row(s) holding 'Totale parziale' skipped: no sales (the profile's skip markers)"
        in preview["warnings"]
    )
    saved = flow.client.put(url, body, content_type="application/json").json()
    assert saved["status"] == "PROCESSED"
    assert ImportProfile.objects.get(slug=saved["profile"]).skip_markers == ["TOTALE PARZIALE"]
    assert flow.file(file_id)["totals"]["EUR"]["revenue"] == str(revenue)


# The layout of a PRS for Music performance statement (SuperHyperInstantFutureTime/TrackShift,
# test/files/prs-simple-3-songs.csv and test/phpunit/Upload/PRSStatementUploadTest.php): a record
# number, the writer's CAE number, the work, the amount and the interested party; no units, store,
# territory, currency or period. Amounts here are our own.
PRS_ROWS = [
    ("1", "1234567890", "Song 1", "0.016", "Person 1"),
    ("2", "1234567890", "Song 1", "0.0016", "Person 1"),
    ("3", "1234567890", "Song 2", "0.07225", "Person 1"),
    ("4", "1234567890", "Song 3", "0.0002", "Person 2"),
]


def prs_bytes(with_party: bool = True) -> bytes:
    header = ["Record Number", "CAE Number", "Work Title", "Amount (performance revenue)", "IP1"]
    width = 5 if with_party else 4
    rows = [header[:width], *(row[:width] for row in PRS_ROWS)]
    return "".join(",".join(row) + "\n" for row in rows).encode()


@pytest.mark.parametrize("with_party", [True, False])
def test_a_statement_without_units_or_artist_columns_is_mapped_with_fixed_values(flow, with_party):
    run_id = flow.create_run(currency="GBP")
    file_id = flow.processed_file(prs_bytes(with_party), run_id=run_id, name="prs_statement.csv")
    assert flow.file(file_id)["status"] == "NEEDS_MAPPING"
    columns = {"title": "Work Title", "revenue": "Amount (performance revenue)"}
    fixed = {"dsp": "PRS for Music", "territory": "GB", "currency": "GBP", "period": "2023-03", "units": "0"}
    if with_party:
        columns["artist"] = "IP1"
    else:
        fixed["artist"] = "Person 1"
    body = {"columns": columns, "fixed": fixed, "name": f"PRS {with_party}"}
    response = flow.client.put(
        f"/api/files/salesfiles/{file_id}/mapping/", body, content_type="application/json"
    )
    assert response.status_code == 202, response.content
    data = flow.file(file_id)
    assert data["status"] == "PROCESSED"
    revenue = sum((Decimal(row[3]) for row in PRS_ROWS), Decimal(0))
    assert data["totals"] == {"GBP": {"lines": 4, "units": 0, "revenue": str(revenue)}}


def test_fixed_units_must_be_a_whole_number(flow):
    run_id = flow.create_run(currency="GBP")
    file_id = flow.processed_file(prs_bytes(), run_id=run_id, name="prs_statement.csv")
    body = {
        "columns": {"title": "Work Title", "revenue": "Amount (performance revenue)", "artist": "IP1"},
        "fixed": {"dsp": "PRS", "territory": "GB", "currency": "GBP", "units": "1.5"},
        "name": "PRS",
    }
    response = flow.client.put(
        f"/api/files/salesfiles/{file_id}/mapping/", body, content_type="application/json"
    )
    assert response.status_code == 422
    assert "whole number" in response.content.decode()
    assert flow.file(file_id)["status"] == "NEEDS_MAPPING"
