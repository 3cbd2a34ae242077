"""The staff run page in headless Chromium on the live server."""

import pytest

from tests.statements.conftest import fixture_bytes


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_back_office_user_sees_the_run_and_downloads_the_csv(page, make_user, flow, tmp_path):
    run_id = flow.create_run(name="Q3 royalties")
    flow.processed_file(fixture_bytes("deezer_2026-09_semicolon.csv"), run_id, name="deezer.csv")
    flow.rates(run_id, [{"currency": "CHF", "period": "2026-09", "rate": "1.05"}])
    make_user("bea", groups=["back-office"])

    page.goto(f"/statements/{run_id}/")
    page.fill("#id_username", "bea")
    page.fill("#id_password", "pw-bea-123")
    page.press("#id_password", "Enter")  # the language switcher has submit buttons too
    page.wait_for_url(f"**/statements/{run_id}/")
    assert page.locator("#run-status").inner_text() == "Processed"
    assert "deezer.csv" in page.locator("table").first.inner_text()

    with page.expect_download() as download_info:
        page.click("text=Download CSV")
    path = tmp_path / "statement.csv"
    download_info.value.save_as(path)
    assert path.read_text().splitlines()[-1] == "grand_total,,,,,,3645,,,1204.74,1204.74285"
