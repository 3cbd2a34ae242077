"""The operators' day in headless Chromium against the live server and real FTP/SSH/PostgreSQL:
check the FTP, start, watch, read the log and past sessions, fit a phone; the error pages.

Screenshots go to tests/artifacts/, or to docs/ (the pictures of docs/*.md) with UPDATE_DOCS_SCREENSHOTS=1.
"""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from project import storage
from sessions_app.models import Session
from tests.sessions_app.conftest import invoice_content, invoice_file_name, numbers

PHONE = {"width": 375, "height": 812}


def log_in(page, username: str, next_path: str) -> None:
    page.goto(f"/accounts/login/?next={next_path}")
    page.fill("#id_username", username)
    page.fill("#id_password", f"pw-{username}-123")
    page.click("button[type=submit]")


def overflowing(page) -> list[str]:
    """Elements sticking out of the viewport or of their scroll box (cut off at this width)."""
    return page.evaluate(
        """() => {
          const width = document.documentElement.clientWidth;
          const out = [];
          if (document.documentElement.scrollWidth > width) out.push("page scrolls sideways");
          for (const el of document.querySelectorAll("main *, header *")) {
            const box = el.getBoundingClientRect();
            if (box.width === 0 || getComputedStyle(el).visibility === "hidden") continue;
            if (box.right > width + 1 || box.left < -1) out.push(el.tagName + "#" + el.id + "." + el.className);
          }
          for (const el of document.querySelectorAll(".card")) {
            if (el.scrollWidth > el.clientWidth + 1) out.push("card " + el.id + " scrolls sideways");
          }
          return out;
        }"""
    )


@pytest.fixture
def yesterdays_session(import_day_file):
    yesterday = timezone.localdate() - timedelta(days=1)
    invoice_file = import_day_file(numbers(3, start=500), day=yesterday)
    path = f"sessions/{yesterday:%Y-%m-%d}/shipments_yesterday.csv"
    storage.save(path, b"invoice_number;quantity\n600000500;1\n600000501;2\n")
    now = timezone.now()
    return Session.objects.create(
        day=yesterday,
        invoice_file=invoice_file,
        status="succeeded",
        total=2,
        records_read=2,
        csv_name="shipments_yesterday.csv",
        csv_path=path,
        generated_at=now,
        uploaded_at=now,
        finished_at=now,
        closed_at=now,
        not_found=["600000502"],
    )


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_operator_checks_the_ftp_runs_the_day_and_the_page_fits_a_phone(
    page, make_user, known_invoices, receiver, inbound_ftp, yesterdays_session, settings, docs_screenshots
):
    settings.SESSIONS_LOG_TIMEOUT = 20
    make_user("olga", groups=["operators"])
    invoices = numbers(5)
    known_invoices(found=[*invoices[:4], "600000500", "600000501"])
    name = invoice_file_name(len(invoices))
    (inbound_ftp.folder / name).write_bytes(invoice_content(invoices))
    day = timezone.localdate().isoformat()
    from django_q.models import Schedule

    Schedule.objects.create(
        name="backoffice:ingestion-poll-ftp",
        func="ingestion.tasks.poll_ftp",
        schedule_type=Schedule.CRON,
        cron="*/30 8-19 * * 1-5",
        next_run=timezone.now() + timedelta(minutes=30),
    )

    log_in(page, "olga", "/sessions/")
    page.wait_for_url("**/sessions/")
    heading = page.locator("#status-line")
    assert heading.inner_text() == f"No session for {day} - waiting for the day's invoice file"
    assert page.locator("#ftp-last").inner_text() == "The inbound FTP server has not been checked yet."
    assert page.locator("#start-button").is_disabled()

    page.click("#poll-button")  # tasks run inline here: the poll is done when the page reloads
    page.wait_for_selector("text=The inbound FTP server is being checked now")
    heading.filter(has_text="ready to process").wait_for(timeout=5000)
    assert heading.inner_text() == f"No session for {day} yet - 4 shipments ready to process"
    assert page.locator("#ftp-last").inner_text().startswith("Inbound FTP last checked at ")
    assert page.locator("#ftp-next").inner_text().startswith("Next scheduled check: ")

    page.click("#start-button")
    heading.filter(has_text="waiting to close").wait_for(timeout=20000)
    assert (
        heading.inner_text()
        == f"Session completed for {day} - waiting to close, 4 shipments processed out of 4 total"
    )
    page.click("#status-button")
    assert re.fullmatch(r"\d\d:\d\d:\d\d", page.locator("#updated-at").inner_text())
    steps = page.locator("#steps").inner_text()
    assert "CSV generation" in steps and "Receiver's log check" in steps and "log_check" not in steps
    assert re.search(rf"{day} \d\d:\d\d:\d\d", steps)

    past = page.locator("#past")
    assert "completed" in past.inner_text() and "1 invoice" in past.inner_text()
    past.locator("summary").click()
    assert "600000502" in past.inner_text()
    with page.expect_download() as download:
        past.locator("a", has_text="shipments_yesterday.csv").click()
    assert Path(download.value.path()).read_bytes().startswith(b"invoice_number;quantity")
    page.screenshot(path=str(docs_screenshots / "sessions.png"), full_page=True)

    page.set_viewport_size(PHONE)
    page.reload()
    assert overflowing(page) == []
    page.screenshot(path=str(docs_screenshots / "sessions-phone.png"), full_page=True)

    page.click("#close-button")
    page.wait_for_selector(f"text=Session closed for {day}.")
    assert heading.inner_text().startswith(f"Session closed for {day} - completed")
    assert overflowing(page) == []


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_error_pages_say_what_is_missing_and_lead_back(page, make_user, docs_screenshots):
    make_user("olga", groups=["operators"])
    log_in(page, "olga", "/exports/")

    assert page.locator("h1").inner_text() == "You may not open this page"
    assert page.locator("#error-message").inner_text() == "This page is for back-office staff."
    nav = page.locator("header nav")
    assert nav.inner_text().split() == ["Shipping", "sessions"]
    page.screenshot(path=str(docs_screenshots / "403.png"), full_page=True)
    page.set_viewport_size(PHONE)
    assert overflowing(page) == []

    page.goto("/sessions/nothing-here/")
    assert page.locator("#error-message").inner_text() == "There is no page at /sessions/nothing-here/."
    assert overflowing(page) == []
    page.set_viewport_size({"width": 1100, "height": 800})
    page.screenshot(path=str(docs_screenshots / "404.png"), full_page=True)
    page.click("text=Back to the start page")
    page.wait_for_url("**/")
    assert page.locator("main >> text=Shipping sessions").is_visible()
