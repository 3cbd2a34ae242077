"""An operator drives the page in headless Chromium against the live server and real FTP/SSH."""

import pytest
from django.utils import timezone

from tests.sessions_app.conftest import invoice_content, invoice_file_name, numbers


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_operator_uploads_starts_watches_the_counter_and_closes(
    page, make_user, known_invoices, receiver, settings, tmp_path, artifacts_dir
):
    # The live server runs the task inline (django-q2 sync mode in tests), so Start returns after
    # the run; the receiver thread writes the log line as soon as the CSV lands on the FTP server.
    settings.SESSIONS_LOG_TIMEOUT = 20
    make_user("olga", groups=["operators"])
    invoices = numbers(7)
    known_invoices(found=invoices[:6])
    upload = tmp_path / invoice_file_name(len(invoices))
    upload.write_bytes(invoice_content(invoices))
    day = timezone.localdate().isoformat()

    page.goto("/sessions/")
    page.fill("#id_username", "olga")
    page.fill("#id_password", "pw-olga-123")
    page.click("button[type=submit]")
    page.wait_for_url("**/sessions/")
    assert page.locator("#start-button").is_disabled()
    assert "No invoice file" in page.locator("#start-reason").inner_text()

    page.set_input_files("#id_file", str(upload))
    page.click("#upload-button")
    page.wait_for_selector(f"text={upload.name}: 7 records, 7 imported")
    assert (
        page.locator("#status-line").inner_text()
        == f"No session for {day} yet - 6 shipments ready to process"
    )

    page.click("#start-button")
    page.wait_for_selector(f"text=Session started for {day}")
    status_line = page.locator("#status-line")
    status_line.filter(has_text="6 shipments processed out of 6 total").wait_for(timeout=20000)
    assert (
        status_line.inner_text()
        == f"Session completed for {day} - waiting to close, 6 shipments processed out of 6 total"
    )
    assert page.locator("#progress").get_attribute("value") == "6"
    assert "Completed" in page.locator("#phase").inner_text()
    assert page.locator("#start-button").is_disabled() and page.locator("#upload-button").is_disabled()

    page.click("#status-button")  # refreshes in place through the JSON endpoint
    page.click("#close-button")
    page.wait_for_selector(f"text=Session closed for {day}.")
    assert (
        status_line.inner_text()
        == f"Session closed for {day} - completed, 6 shipments processed out of 6 total"
    )
    assert page.locator("#close-button").is_disabled()
    page.screenshot(path=str(artifacts_dir / "sessions_page.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(artifacts_dir / "sessions_page_mobile.png"), full_page=True)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_force_close_asks_for_confirmation_in_the_browser(page, make_user, eligible_day):
    from sessions_app.models import Session

    Session.objects.create(
        day=timezone.localdate(), invoice_file=eligible_day, status="failed", failure_reason="boom"
    )
    make_user("olga", groups=["operators"])
    page.goto("/accounts/login/?next=/sessions/")
    page.fill("#id_username", "olga")
    page.fill("#id_password", "pw-olga-123")
    page.click("button[type=submit]")
    page.wait_for_url("**/sessions/")
    assert "Failed: boom" in page.locator("#phase").inner_text()

    dialogs = []
    page.once("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.click("#close-button")
    assert dialogs and "Force-close" in dialogs[0]
    assert Session.objects.get().closed_at is None

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#close-button")
    page.wait_for_selector("text=Session force-closed for")
    assert Session.objects.get().force_closed
