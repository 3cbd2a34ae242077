"""The statement-run flow in headless Chromium as a back-office user: create a run, upload two
files at once (direct upload: local storage), see statuses and control totals, process a failed
file again, enter rates, preview with charts, download."""

import pytest

from statements.models import ImportProfile
from tests.statements.conftest import fixture_bytes


def cards_scrolling_sideways(page) -> list[str]:
    """The ids of the cards whose content is wider than the card (a sideways scroll inside it)."""
    return page.evaluate(
        "[...document.querySelectorAll('.card')].filter(c => c.scrollWidth > c.clientWidth + 1)"
        ".map(c => c.id || c.className)"
    )


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_back_office_user_walks_the_statement_run_flow(page, make_user, tmp_path, docs_screenshots):
    make_user("bea", groups=["back-office"])
    # A transactional test before this one may have flushed the profiles the migration made.
    ImportProfile.objects.load_builtin()
    # No layout is known (say an admin switched the profiles off): the files fail until they are back.
    ImportProfile.objects.update(active=False)

    page.goto("/statements/")
    page.fill("#id_username", "bea")
    page.fill("#id_password", "pw-bea-123")
    page.press("#id_password", "Enter")  # the language switcher has submit buttons too
    page.wait_for_url("**/statements/")
    page.fill("#id_name", "Q3 2026 royalties")
    page.fill("#id_currency", "EUR")
    page.fill("#id_periods", "2026-09")
    page.click("text=Create the run")
    page.wait_for_url("**/statements/*/")
    assert page.locator("#run-status").inner_text() == "No files"
    assert page.locator("#downloads button[disabled]").count() == 2

    page.set_input_files(
        "#id_upload-files",
        [
            {"name": "spotify.csv", "mimeType": "text/csv", "buffer": fixture_bytes("spotify_2026-09.csv")},
            {
                "name": "apple.tsv",
                "mimeType": "text/plain",
                "buffer": fixture_bytes("applemusic_2026-10.tsv"),
            },
        ],
    )
    with page.expect_navigation():  # the page reloads once both files are uploaded and queued
        page.click("text=Upload and process")
    rows = page.locator("tr[data-file]")
    assert rows.count() == 2
    spotify, apple = rows.filter(has_text="spotify.csv"), rows.filter(has_text="apple.tsv")
    assert apple.locator("[data-file-status]").inner_text() == "Needs mapping"
    assert "unknown" in apple.locator(".failure").inner_text().lower()
    assert page.locator("#run-status").inner_text() == "Needs mapping"

    ImportProfile.objects.update(active=True)
    for row in (spotify, apple):
        with page.expect_navigation():
            row.locator("text=Process again").click()
        assert row.locator("[data-file-status]").inner_text() == "Processed"
    assert "7 read, 6 imported, 0 rejected" in spotify.inner_text()
    assert "USD: 4 lines, 7090 units, 26.108" in page.locator("#control-totals").inner_text()

    not_ready = page.locator("#not-ready").inner_text()
    assert "GBP 2026-09" in not_ready and "USD 2026-09" in not_ready
    page.fill("#id_rates-0-currency", "GBP")
    page.fill("#id_rates-0-period", "2026-09")
    page.fill("#id_rates-0-rate", "1.15")
    page.fill("#id_rates-1-currency", "USD")
    page.fill("#id_rates-1-period", "2026-09")
    page.fill("#id_rates-1-rate", "0.9")
    page.click("text=Save rates")
    page.wait_for_load_state()
    assert "Saved: 2 rows." in page.locator(".messages").inner_text()
    assert page.locator("#run-status").inner_text() == "Processed"
    # GBP 3.601234 x 1.15 + USD 19.808 x 0.9 + EUR 11.0595 = 33.0281191, rounded once.
    assert page.locator("#grand-total").inner_text() == "33.03 EUR"
    assert page.locator("#chart-dsp rect").count() == 1
    assert page.locator("#chart-month rect").count() == 1
    page.screenshot(path=docs_screenshots / "statements-run.png", full_page=True)
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 800})
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        assert cards_scrolling_sideways(page) == [], f"at {width} px"
        # Each breakdown table is as tall as its own rows, not stretched to its tallest neighbour.
        for table in page.locator("#preview table.totals").all():
            rows = table.locator("tr").count()
            assert table.bounding_box()["height"] < 60 * (rows + 1)
    page.screenshot(path=docs_screenshots / "statements-run-phone.png", full_page=True)
    page.set_viewport_size({"width": 1100, "height": 800})

    with page.expect_download() as download_info:
        page.click("text=Download CSV")
    path = tmp_path / "statement.csv"
    download_info.value.save_as(path)
    assert path.read_text().splitlines()[-1].startswith("grand_total,")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_files_go_from_the_browser_straight_to_s3(page, make_user, flow, s3_storage, s3_server):
    ImportProfile.objects.load_builtin()
    run_id = flow.create_run(name="Q3 on S3")
    make_user("bea", groups=["back-office"])
    page.goto(f"/statements/{run_id}/")
    page.fill("#id_username", "bea")
    page.fill("#id_password", "pw-bea-123")
    page.press("#id_password", "Enter")  # the language switcher has submit buttons too
    page.wait_for_url(f"**/statements/{run_id}/")
    posts = []
    page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)

    page.set_input_files(
        "#id_upload-files",
        [
            {"name": "spotify.csv", "mimeType": "text/csv", "buffer": fixture_bytes("spotify_2026-09.csv")},
            {
                "name": "deezer.csv",
                "mimeType": "text/csv",
                "buffer": fixture_bytes("deezer_2026-09_semicolon.csv"),
            },
        ],
    )
    with page.expect_navigation():
        page.click("text=Upload and process")
    statuses = page.locator("[data-file-status]").all_inner_texts()
    assert statuses == ["Processed", "Processed"]
    # The bodies went to the bucket by presigned POST; our server never saw them.
    assert sum(url.startswith(s3_server.endpoint_url) for url in posts) == 2
    assert not any(url.endswith("/content/") for url in posts)
    keys = {o["Key"] for o in s3_server.client().list_objects_v2(Bucket=s3_storage)["Contents"]}
    assert sum(key.endswith("/upload") for key in keys) == 2
