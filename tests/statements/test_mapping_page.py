"""The run page's "Map columns": a file no import profile reads is mapped, previewed and saved in
the browser by someone who writes no code; the next file with that header needs no mapping."""

from decimal import Decimal

import pytest
from django.test import Client

from statements.models import ImportProfile
from tests.statements.test_mapping import HEADER, MAPPING, SALES, expected_totals, report_bytes

OTHER_MONTH = [("02/07/2025", "Deezer", "ES", "", "Marco Blu", "Uno", "4", "2,25", "Vendita")]


def page_scrolls_sideways(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth > window.innerWidth + 1")


def cards_scrolling_sideways(page) -> list[str]:
    return page.evaluate(
        "[...document.querySelectorAll('.card')].filter(c => c.scrollWidth > c.clientWidth + 1)"
        ".map(c => c.id || c.className)"
    )


def test_map_columns_page_previews_refuses_a_wrong_mapping_and_saves(flow, make_user):
    staff = Client()
    staff.force_login(make_user("bea", groups=["back-office"]))
    run_id = flow.create_run(currency="EUR")
    file_id = flow.processed_file(report_bytes(), run_id=run_id, name="negozio.csv")
    run_page = staff.get(f"/statements/{run_id}/").content.decode()
    assert "Needs mapping" in run_page and f"/statements/{run_id}/files/{file_id}/mapping/" in run_page

    url = f"/statements/{run_id}/files/{file_id}/mapping/"
    shown = staff.get(url).content.decode()
    assert "Data vendita" in shown and "Lucia Neri" in shown
    italian = staff.get(url, HTTP_ACCEPT_LANGUAGE="it").content.decode()
    assert "Mappa le colonne" in italian and "Salva come profilo di importazione" in italian
    form = {f"column_{name}": column for name, column in MAPPING["columns"].items()}
    form |= {"fixed_currency": "EUR", "date_order": "dmy", "decimal_separator": ",", "void_values": "Storno"}
    form |= {"name": "Negozio", "save": "on"}

    wrong = {**form, "column_title": "", "column_revenue": "Brano", "action": "save"}
    response = staff.post(url, wrong)
    assert (
        response.status_code == 422
        and "revenue &#x27;Canzone&#x27; is not a number" in response.content.decode()
    )
    assert not ImportProfile.objects.filter(builtin=False).exists()

    units, revenue = expected_totals()
    preview = staff.post(url, {**form, "action": "preview"}).content.decode()
    assert f'data-exact="{revenue}"' in preview and f"{units} units" in preview

    response = staff.post(url, {**form, "action": "save"})
    assert response.status_code == 302
    assert flow.file(file_id)["status"] == "PROCESSED"
    assert ImportProfile.objects.get(name="Negozio").active


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_unknown_layout_is_mapped_in_the_browser(page, make_user, tmp_path, docs_screenshots, artifacts_dir):
    make_user("bea", groups=["back-office"])
    ImportProfile.objects.load_builtin()  # a transactional test before may have flushed them
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/statements/")
    page.fill("#id_username", "bea")
    page.fill("#id_password", "pw-bea-123")
    page.press("#id_password", "Enter")
    page.wait_for_url("**/statements/")
    page.fill("#id_name", "June shop")
    page.fill("#id_currency", "EUR")
    page.click("text=Create the run")
    page.wait_for_url("**/statements/*/")

    def upload(name: str, content: bytes) -> None:
        page.set_input_files("#id_upload-files", [{"name": name, "mimeType": "text/csv", "buffer": content}])
        with page.expect_navigation():
            page.click("text=Upload and process")

    upload("negozio_giugno.csv", report_bytes())
    row = page.locator("tr[data-file]").filter(has_text="negozio_giugno.csv")
    assert row.locator("[data-file-status]").inner_text() == "Needs mapping"
    assert page.locator("#run-status").inner_text() == "Needs mapping"
    with page.expect_navigation():
        row.get_by_role("link", name="Map columns").click()

    assert page.locator("#sample thead th").all_inner_texts() == HEADER
    assert page.locator("#sample tbody tr").count() == len(SALES) + 1
    for name, column in MAPPING["columns"].items():
        page.select_option(f"#id_column_{name}", column)
    page.fill("#id_fixed_currency", "EUR")
    page.select_option("#id_date_order", "dmy")
    page.select_option("#id_decimal_separator", ",")
    page.fill("#id_void_values", "Storno")
    # The totals row is structure anyway; named as a skip marker, it is counted in a warning.
    page.fill("#id_skip_markers", "Total")
    page.fill("#id_name", "Negozio italiano")
    units, revenue = expected_totals()
    # The preview follows the mapping as it changes (no reload): it ends with the whole mapping's.
    page.wait_for_selector(f'#mapping-totals [data-currency=EUR][data-exact="{revenue}"]')
    assert page.url.endswith("/mapping/")
    assert f"{units} units" in page.locator("#mapping-totals").inner_text()
    assert page.locator("#cleaned-lines tbody tr").count() == len(SALES)
    assert page.locator("#mapping-problems").count() == 0
    page.wait_for_selector("#mapping-preview .warning:has-text(\"1 row(s) holding 'Total' skipped\")")
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 900})
        assert not page_scrolls_sideways(page), width
        assert cards_scrolling_sideways(page) == [], width
    page.screenshot(path=str(docs_screenshots / "statements-mapping-phone.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(docs_screenshots / "statements-mapping.png"), full_page=True)

    with page.expect_navigation():
        page.click("#save-button")
    assert "Negozio italiano" in page.locator(".messages").inner_text()
    row = page.locator("tr[data-file]").filter(has_text="negozio_giugno.csv")
    assert row.locator("[data-file-status]").inner_text() == "Processed"
    assert f"EUR: 4 lines, {units} units, {revenue}" in row.inner_text()

    upload("negozio_luglio.csv", report_bytes(OTHER_MONTH))
    row = page.locator("tr[data-file]").filter(has_text="negozio_luglio.csv")
    assert row.locator("[data-file-status]").inner_text() == "Processed"
    assert f"EUR: 1 line, 4 units, {Decimal('2.25')}" in row.inner_text()
    assert page.locator("#run-status").inner_text() == "Processed"

    # In Italian, the file's warnings read in Italian too (stored in English).
    with page.expect_navigation():
        page.click("form.language button[value=it]")
    row = page.locator("tr[data-file]").filter(has_text="negozio_giugno.csv")
    assert "1 riga/e con 'Total' saltata/e: non sono vendite" in row.inner_text()
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 900})
        assert not page_scrolls_sideways(page), width
        page.screenshot(path=str(artifacts_dir / f"statements-run-warnings-it-{width}.png"), full_page=True)
