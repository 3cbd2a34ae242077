"""The demo as `make run` sets it up, walked in Chromium (issue 21, item 4).

The demo is prepared by the Makefile's own commands: `setup_schedules` and `demo_setup` against the
test database, `demo_ftp` and `demo_moneybird` as processes on free loopback ports, one
`poll_ftp --wait`; the app is the live server, its django-q2 tasks run inline. Then the demo users
walk every section: the operator runs the day's shipping session, the back office makes a statement
run from the demo sales file, takes the draft royalty statements (JSON, a PDF, the zip), finalises
them, and syncs, exports and downloads from the demo Moneybird. Any 4xx/5xx answer (page, fetch or
download), script error or page without the site's stylesheet fails the walk.
"""

import io
import json
import os
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from decimal import Decimal as D
from pathlib import Path
from urllib.parse import urlsplit

import openpyxl
import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import Group
from django.core.management import call_command

from exports.models import PendingSync
from project.management.commands.demo_setup import DEMO_USERS, PAST_DAYS
from project.roles import ALL_GROUPS
from sessions_app.services import today
from statements.models import ImportProfile
from tests.servers import free_port
from tests.servers.postgres import database_url_of

# Not serialized_rollback: after another transactional test's flush its restore either clashes with the
# content types post_migrate made again or is not there at all; the fixture puts back what it needs.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "fixtures" / "demo"
PASSWORDS = {username: password for username, password, _, _ in DEMO_USERS}


class DemoProcess:
    """`manage.py <command>` as `make run` starts it, serving until stopped; `ready` is the line it
    prints once it serves."""

    def __init__(self, *args: str, env: dict, ready: str, log: Path):
        with log.open("w") as output:
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", *args],
                cwd=ROOT,
                env={**env, "PYTHONUNBUFFERED": "1"},
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        try:
            while ready not in log.read_text():
                assert self.process.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)
        except BaseException:
            self.stop()  # not left running when it did not start in time
            raise

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture
def demo(settings, live_server, tmp_path) -> Iterator[None]:
    """The demo of `make run` (scripts/run-demo), with its FTP server and Moneybird on free ports of
    127.0.0.1 and the live server in place of runserver."""
    ftp_port, moneybird_port = free_port(), free_port()
    remote_log = settings.VAR_DIR / "remote-log"
    settings.INGESTION_FTP_URL = f"ftp://demo:demo@127.0.0.1:{ftp_port}/inbound"
    settings.SESSIONS_FTP_URL = f"ftp://demo:demo@127.0.0.1:{ftp_port}/outbound"
    settings.SESSIONS_LOG_FS_URL = f"osfs://{remote_log}"
    settings.SESSIONS_LOG_POLL_INTERVAL = 1
    settings.MONEYBIRD_API_URL = settings.MONEYBIRD_TOKEN = settings.MONEYBIRD_ADMINISTRATION_ID = ""
    settings.MONEYBIRD_DEMO_PORT = moneybird_port
    settings.MONEYBIRD_RETRY_DELAY = 0.1

    # The rows the data migrations make, as `make run`'s migrated database has them: a transactional
    # test run before (in any app) flushes them, and demo_setup puts its users in the groups that exist.
    for group in ALL_GROUPS:
        Group.objects.get_or_create(name=group)
    if not ImportProfile.objects.filter(builtin=True).exists():
        ImportProfile.objects.load_builtin()
    call_command("setup_schedules", verbosity=0)
    call_command("demo_setup", stdout=io.StringIO())
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "MONEYBIRD_", "SESSIONS_"))},
        "DATABASE_URL": database_url_of(),
        "VAR_DIR": str(settings.VAR_DIR),
        "SESSIONS_LOG_FS_URL": settings.SESSIONS_LOG_FS_URL,
        # As `make run PORT=… DEMO_FTP_PORT=… MONEYBIRD_DEMO_PORT=…`: the demo Moneybird's webhook
        # goes to the web server's port.
        "PORT": str(urlsplit(live_server.url).port),
        "DEMO_FTP_PORT": str(ftp_port),
        "MONEYBIRD_DEMO_PORT": str(moneybird_port),
    }
    ftp = DemoProcess(
        "demo_ftp", "--port", str(ftp_port), env=env, ready="demo FTP on", log=tmp_path / "ftp.log"
    )
    moneybird = None
    try:
        moneybird = DemoProcess(
            "demo_moneybird", env=env, ready="demo Moneybird on", log=tmp_path / "moneybird.log"
        )
        poll = io.StringIO()
        call_command("poll_ftp", wait=15, stdout=poll)
        assert "imported" in poll.getvalue(), poll.getvalue()
        yield
    finally:
        for process in (moneybird, ftp):
            if process is not None:
                process.stop()


class Walk:
    """The browser page with the walk's checks: every answer below 400, no script error, every page
    the site's styled page."""

    def __init__(self, page, shots: Path):
        self.page, self.shots = page, shots
        self.failures: list[str] = []
        self.count = 0
        page.context.on("response", self._response)
        page.on("pageerror", lambda error: self.failures.append(f"script error: {error}"))

    def _response(self, response) -> None:
        self.count += 1
        if response.status >= 400:
            self.failures.append(f"{response.status} {response.request.method} {response.url}")

    def check(self, shot: str | None = None) -> None:
        """The page is styled by the site's stylesheet (not Django's technical or plain error page)
        and nothing failed so far."""
        page = self.page
        page.wait_for_load_state()
        assert not self.failures, self.failures
        rules = page.evaluate(
            """() => [...document.styleSheets]
                .filter(sheet => sheet.href && sheet.href.endsWith("/static/css/app.css"))
                .map(sheet => sheet.cssRules.length)"""
        )
        assert rules and rules[0] > 0, f"{page.url} is not styled by app.css"
        assert page.locator("header.top .brand").is_visible(), f"{page.url} lacks the site header"
        text = page.locator("body").inner_text()
        assert "Traceback" not in text and "Server Error" not in text, text[:500]
        if shot:
            page.screenshot(path=self.shots / f"demo-walk-{shot}.png", full_page=True)

    def check_admin(self) -> None:
        """An admin page: the admin's own stylesheet, no error and no failed request."""
        page = self.page
        page.wait_for_load_state()
        assert not self.failures, self.failures
        assert page.locator("link[href$='/static/admin/css/base.css']").count() == 1, page.url
        assert page.locator("#content").is_visible(), page.url

    def admin(self) -> int:
        """Every model list the admin links (as a staff superuser), its add page and the change
        page of its first item; returns how many pages were opened."""
        page = self.page
        page.goto("/admin/")
        self.check_admin()
        lists = [a.get_attribute("href") for a in page.locator("#content-main th[scope=row] a").all()]
        opened = 1
        for href in lists:
            page.goto(href)
            self.check_admin()
            pages = [a.get_attribute("href") for a in page.locator("#content-main a.addlink").all()]
            pages += [a.get_attribute("href") for a in page.locator("#result_list tbody tr th a").all()[:1]]
            for other in pages:
                page.goto(other)
                self.check_admin()
            opened += 1 + len(pages)
        return opened

    def log_in(self, username: str, path: str) -> None:
        self.page.goto(f"/accounts/login/?next={path}")
        self.check()
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", PASSWORDS[username])
        self.page.press("#id_password", "Enter")  # the language switcher has submit buttons too
        self.page.wait_for_url(f"**{path}")
        self.check()

    def log_out(self) -> None:
        with self.page.expect_navigation():
            self.page.click("header.top button[type=submit]")
        self.check()

    def download(self, click: str, target: Path) -> bytes:
        with self.page.expect_download() as info:
            self.page.click(click)
        download = info.value
        assert download.failure() is None, download.failure()
        download.save_as(target)
        assert not self.failures, self.failures
        return target.read_bytes()


def test_the_demo_works_end_to_end_in_the_browser(demo, page, artifacts_dir, tmp_path):
    walk = Walk(page, artifacts_dir)

    # --- operator: the day's shipping session (the demo FTP's file was imported by poll_ftp) ---
    walk.log_in("operator", "/sessions/")
    assert "the session can be started" in page.locator("#phase").inner_text()
    walk.check("sessions-before")
    with page.expect_navigation():  # the run is a task: inline here, so the page returns once it is done
        page.click("#start-button")
    walk.check()
    assert "Session started for" in page.locator(".messages").inner_text()
    page.click("#status-button")  # refreshes the status in place
    page.wait_for_function("document.getElementById('session').dataset.state === 'succeeded'")
    assert "Session completed for" in page.locator("#status-line").inner_text()
    # The demo FTP's receiver counted the rows of the CSV the session uploaded to it.
    [sent] = (django_settings.VAR_DIR / "ftp" / "outbound").glob(f"shipments_{today():%Y%m%d}_*.csv")
    rows = len(sent.read_text().splitlines()) - 1
    assert rows > 0
    assert (
        f"Completed: the receiver read {rows} records of {sent.name}." == page.locator("#phase").inner_text()
    )
    walk.check("sessions-completed")
    with page.expect_navigation():
        page.click("#close-button")
    walk.check("sessions-closed")
    assert "Session closed for" in page.locator(".messages").inner_text()
    assert "Session closed for" in page.locator("#status-line").inner_text()
    assert page.locator("#start-button").is_disabled() and page.locator("#close-button").is_disabled()
    # demo_setup ran a few past days through real sessions: one of their CSVs, as sent.
    assert page.locator("#past tbody tr").count() == PAST_DAYS
    past_csv = walk.download("#past tbody tr >> nth=0 >> a[download]", tmp_path / "past.csv").decode()
    assert past_csv.splitlines()[0].split(";")[0] == "invoice_number"
    walk.log_out()

    # --- back office: a statement run with the demo sales file ---
    walk.log_in("admin", "/statements/")
    page.fill("#id_name", "Demo November")
    page.fill("#id_currency", "EUR")
    with page.expect_navigation():
        page.click("text=Create the run")
    walk.check()
    [sales] = DEMO.glob("royalty_sales_*.csv")
    page.set_input_files("#id_upload-files", str(sales))
    with page.expect_navigation():  # the page reloads once the file is uploaded and processed
        page.click("text=Upload and process")
    walk.check()
    assert page.locator("[data-file-status]").all_inner_texts() == ["Processed"]
    assert page.locator("#run-status").inner_text() == "Processed"
    lines = sales.read_text().splitlines()[1:]
    revenue = sum(D(line.rsplit(",", 3)[1]) for line in lines)
    # "read" counts the header line too.
    assert (
        f"{len(lines) + 1} read, {len(lines)} imported, 0 rejected"
        in page.locator("#control-lines").inner_text()
    )
    assert page.locator("#grand-total").inner_text() == f"{revenue.quantize(D('0.01'))} EUR"
    walk.check("statement-run")
    report = walk.download("text=Download XLSX", tmp_path / "report.xlsx")
    assert openpyxl.load_workbook(io.BytesIO(report)).sheetnames
    csv = walk.download("text=Download CSV", tmp_path / "report.csv").decode()
    assert csv.splitlines()[-1].startswith("grand_total,")

    # --- draft royalty statements: JSON, one payee's PDF, the zip, then finalise ---
    with page.expect_navigation():
        page.click("#royalties >> text=Statements (JSON)")
    assert not walk.failures, walk.failures
    data = json.loads(page.locator("body").inner_text())
    page.go_back()
    walk.check()
    earnings = {s["payee"]["name"]: D(s["summary"]["earnings"]["amount"]) for s in data["statements"]}
    # Independently: revenue x the contract's rate for the sale type, then the payee's share, rounded once.
    aurora = D("36.0125") * D("0.20") + D("25.6") * D("0.20") + D("27.72") * D("0.15")
    quiet = D("8.125") * D("0.25") + D("105") * D("0.15")
    cent = D("0.01")
    assert earnings == {
        "Aurora Lane": (aurora * D("0.75")).quantize(cent),
        "Mika Sato": (aurora * D("0.25")).quantize(cent),
        "The Quiet Hours": quiet.quantize(cent),
    }
    assert [g["artist"] for g in data["unallocated"]] == ["Unsigned Demo Artist"]

    payee_id = next(s["payee"]["id"] for s in data["statements"] if s["payee"]["name"] == "Mika Sato")
    # The draft card links no PDF (the finalised one does): the payee's PDF by the API's link.
    page.evaluate(
        """href => { const a = document.createElement("a"); a.href = href; a.id = "payee-pdf";
                     a.textContent = "PDF"; document.body.append(a); }""",
        f"/api/statement_run/{data['run']['id']}/statements/{payee_id}.pdf",
    )
    pdf = walk.download("#payee-pdf", tmp_path / "payee.pdf")
    assert pdf.startswith(b"%PDF")

    archive = walk.download("#statements-zip", tmp_path / "statements.zip")
    with zipfile.ZipFile(io.BytesIO(archive)) as opened:
        pdfs = [name for name in opened.namelist() if name.endswith(".pdf")]
        assert len(pdfs) == len(earnings) == 3
        assert all(opened.read(name).startswith(b"%PDF") for name in pdfs)

    with page.expect_navigation():
        page.click("#finalize")
    walk.check("statements-finalise-confirmation")  # the totals and what finalising locks, first
    assert page.locator("#total-payees").inner_text() == "3"
    with page.expect_navigation():
        page.click("#confirm-finalize")
    walk.check("statements-finalised")
    assert "Statements finalised as #1." in page.locator(".messages").inner_text()
    finalised = page.locator("#royalty-finalized").inner_text()
    assert "Finalised as #1" in finalised
    assert page.locator("#royalties table tr").count() == 1 + 3
    # The run is locked: the page no longer offers to add or process files again.
    assert page.locator("#files-locked").is_visible()
    assert page.locator("#upload-form").count() == 0 and page.locator("text=Process again").count() == 0
    pdf = walk.download("#royalties >> text=PDF >> nth=0", tmp_path / "finalised.pdf")
    assert pdf.startswith(b"%PDF")

    # --- back office: the exports page against the demo Moneybird ---
    page.goto("/exports/")
    walk.check()
    assert page.locator("#demo-note").is_visible()
    page.click("#sync-now")
    page.wait_for_selector("text=25 new")  # 24 documents and a draft (stored, never listed)
    walk.check()
    first = page.locator("#pending tbody input").first.get_attribute("value")
    page.check(f"#pending input[value='{first}']")
    page.click("#export-selected")
    page.wait_for_selector("text=with 1 document.")
    walk.check("exports")
    xlsx = walk.download("#export-files >> text=Download", tmp_path / "export.xlsx")
    workbook = openpyxl.load_workbook(io.BytesIO(xlsx))
    cells = [str(cell) for row in workbook.active.iter_rows(values_only=True) for cell in row]
    assert any(first in cell for cell in cells)
    # A change in the demo Moneybird reaches the app by its webhook (registered for the web server's
    # port, as `make run` does), and the next sync lists the exported document as changed.
    page.select_option("#demo-document", first)
    with page.expect_navigation():
        page.click("#demo-amend")
    walk.check()
    deadline = time.monotonic() + 30
    while not PendingSync.objects.filter(moneybird_id=first).exists():
        assert time.monotonic() < deadline, "the demo Moneybird's webhook call did not arrive"
        time.sleep(0.2)
    page.click("#sync-now")
    page.wait_for_selector(f"#mutated >> text={first}")
    walk.check("exports-changed")

    # --- the start page, the API docs and every admin list with its add page and first item ---
    page.goto("/")
    walk.check()
    assert page.locator("main a").count() >= 3  # the sections the admin may open
    page.goto("/api/docs/")
    walk.check()
    admin_pages = walk.admin()
    assert admin_pages > 20

    assert walk.count > 0 and not walk.failures, walk.failures

    # A second `make run` prepares the same demo again over what the walk left (a finalised run).
    call_command("demo_setup", stdout=io.StringIO())
