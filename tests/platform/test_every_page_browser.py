"""Every page of the site in English and Italian, at 1280 and 375 px, in Chromium (issue 25).

The data is built once (the demo's users, past sessions and contracts; a statement run with a
processed and a failed sales file; Moneybird documents synced, exported, changed and deleted), then
one logged-in browser context per language and width walks the operators' page, the statement runs,
a run page with its column-mapping and royalty review pages, the exports page, the API docs and the admin (its index
and every changelist of our apps). A page fails the walk on:
- a sideways scroll, of the page or inside a `.card`;
- a raw code: a value of the project's choices (TextChoices, run statuses, Moneybird states, email
  kinds, sale types) that is not also an ordinary word of the page's language, as a whole text (a cell, a
  label) or, when it is shaped as a code (`NO_FILES`, `pending_payment`, `ingestion/late`,
  `detailAmount`), anywhere in a text;
- on an Italian page, text that is an English msgid of our catalogue (its msgstr differs): a
  string that escaped translation.
That every msgid has an Italian msgstr is tests/platform/test_locale_files.py's check.
"""

import io
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import polib
import pytest
from django.apps import apps
from django.conf import settings as django_settings
from django.contrib import admin
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from exports import services as export_services
from exports.fake_moneybird import FakeMoneybird
from exports.models import MONEYBIRD_STATES
from exports.moneybird import client_from_settings
from exports.sync import sync_documents
from ingestion.services import ingest_bytes
from project.api import APIS
from project.management.commands.demo_setup import DEMO_USERS, PAST_DAYS
from sessions_app import services as session_services
from statements.models import ImportProfile
from statements.royalties.models import SALE_TYPES, Payee
from statements.selectors import RunStatus
from tests.statements.conftest import Flow, fixture_bytes

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "locale" / "it" / "LC_MESSAGES" / "django.po"
OUR_APPS = ("project", "ingestion", "sessions_app", "statements", "settlement", "exports")
WIDTHS = (1280, 375)
WORD = re.compile(r"[^\W\d_][\w'\u2019]*")
# What only a code looks like: an underscore or slash inside, all capitals, or camelCase.
CODE_SHAPE = re.compile(r"[a-z0-9][_/][a-z]|^[A-Z0-9_]+$|[a-z][A-Z]")


def catalogue() -> list[polib.POEntry]:
    return [entry for entry in polib.pofile(str(PO)) if entry.msgid and not entry.obsolete]


def words(texts) -> set[str]:
    return {word for text in texts for word in WORD.findall(text)}


def choice_values() -> set[str]:
    """The codes a page must never show as they are stored."""
    values = {str(value) for value in RunStatus.values} | set(MONEYBIRD_STATES) | set(SALE_TYPES)
    for model in apps.get_models():
        if model._meta.app_label in OUR_APPS:
            for field in model._meta.get_fields():
                values |= {str(value) for value, _ in getattr(field, "choices", None) or ()}
    for template in (ROOT / "templates" / "emails").glob("*/*.subject.txt"):
        values.add(f"{template.parent.name}/{template.name.removesuffix('.subject.txt')}")
    # Only codes that read as one: not punctuation (the delimiters), not a letter or two.
    return {value for value in values if re.fullmatch(r"[A-Za-z][\w/]{2,}", value)}


def raw_codes_by_language() -> dict[str, set[str]]:
    """Per language, the codes that are not ordinary words of its catalogue text."""
    entries = catalogue()
    english = words(entry.msgid for entry in entries) | words(
        entry.msgid_plural for entry in entries if entry.msgid_plural
    )
    italian = words(entry.msgstr for entry in entries) | words(
        text for entry in entries for text in entry.msgstr_plural.values()
    )
    codes = choice_values()
    return {"en": {c for c in codes if c not in english}, "it": {c for c in codes if c not in italian}}


def untranslated_texts() -> set[str]:
    """English msgids whose Italian differs: on an Italian page they are strings left in English,
    unless the same text is also Italian of the catalogue (a sale type "download"), as written or
    capitalised as the admin shows a field's name (the field "release" is "release" in Italian).
    """
    entries = catalogue()
    italian = {entry.msgstr for entry in entries} | {
        text for entry in entries for text in entry.msgstr_plural.values()
    }
    italian |= {text[:1].upper() + text[1:] for text in italian}
    return {
        entry.msgid
        for entry in entries
        if entry.msgstr and entry.msgstr != entry.msgid and "%" not in entry.msgid and "{" not in entry.msgid
    } - italian


def english_templates() -> re.Pattern:
    """English msgids with parameters whose Italian differs, as one pattern matching a whole text
    they render (a stored message shown in English on an Italian page). Only templates with a few
    words of their own: "%(file)s: %(counts)s." would match anything."""
    entries = [entry for entry in catalogue() if entry.msgstr and entry.msgstr != entry.msgid]
    entries += [entry for entry in catalogue() if entry.msgid_plural]
    patterns = set()
    for entry in entries:
        for msgid in filter(None, (entry.msgid, entry.msgid_plural)):
            if "%(" not in msgid:
                continue
            literal = re.sub(r"%\(\w+\)[sd]", " ", msgid)
            if len(WORD.findall(literal)) < 3:
                continue
            parts = re.split(r"%\(\w+\)[sd]", msgid.replace("%%", "%"))
            patterns.add(".+?".join(re.escape(part) for part in parts).strip())
    return re.compile("|".join(sorted(patterns)), re.DOTALL)


# The texts of the page's elements (own text nodes, trimmed of punctuation around), its form values
# and the widths that overflow: what the checks read, in one round trip.
PAGE_SCRIPT = """() => {
  const texts = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!parent || ["SCRIPT", "STYLE", "NOSCRIPT", "TEXTAREA"].includes(parent.tagName)) continue;
    // The API docs' Swagger UI shows the OpenAPI document: the API's contract, in English; the
    // outbox shows an email's subject and body as it was sent, in the site's language.
    if (parent.closest("[hidden], #swagger-ui, .field-subject .readonly, .field-text_body .readonly")) continue;
    const text = node.textContent.trim();
    if (text) texts.push(text);
  }
  document.querySelectorAll("input[type=submit], input[type=button]").forEach((i) => texts.push(i.value));
  document.querySelectorAll("option").forEach((o) => texts.push(o.textContent.trim()));
  // The admin's result rows and filters hold data (a category named "Home"), which may equal an
  // English msgid.
  // A detail page's title and last breadcrumb are its object's name (an email's subject).
  const data = [...document.querySelectorAll(
    "#result_list tbody td, #result_list tbody th, #changelist-filter a, #content > h2, .breadcrumbs"
  )].map(
    (cell) => cell.textContent.trim());
  const root = document.documentElement;
  const cards = [...document.querySelectorAll(".card")]
    .filter((c) => c.scrollWidth > c.clientWidth + 1)
    .map((c) => (c.id || c.className) + " " + c.scrollWidth + ">" + c.clientWidth);
  return {texts, data, pageWide: root.scrollWidth > root.clientWidth + 1 ? root.scrollWidth : 0, cards};
}"""


class Walker:
    """One logged-in context (language, width) and the problems its pages show."""

    def __init__(
        self,
        browser,
        base_url: str,
        language: str,
        width: int,
        codes: set[str],
        english: set[str],
        templates: re.Pattern,
    ):
        self.language, self.width = language, width
        self.codes = codes
        shaped = sorted((code for code in codes if CODE_SHAPE.search(code)), key=len, reverse=True)
        self.shaped = re.compile(r"(?<![\w/.:-])(" + "|".join(map(re.escape, shaped)) + r")(?![\w/-])")
        self.english, self.templates = english, templates
        self.context = browser.new_context(
            base_url=base_url,
            locale="it-IT" if language == "it" else "en-US",
            viewport={"width": width, "height": 900},
        )
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))

    def log_in(self, username: str, password: str) -> None:
        page = self.page
        page.goto("/accounts/login/?next=/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.press("#id_password", "Enter")
        page.wait_for_url("**/")
        assert page.locator("html").get_attribute("lang") == self.language

    def visit(self, path: str) -> None:
        response = self.page.goto(path)
        # A page that sends the user elsewhere (a review refused) was not walked.
        assert self.page.url.endswith(path), f"{path} redirected to {self.page.url}"
        self.page.wait_for_load_state("networkidle" if path.startswith("/api/docs/") else "load")
        where = f"[{self.language} {self.width}px] {path}"
        assert response is not None and response.status < 400, f"{where}: {response and response.status}"
        found = self.page.evaluate(PAGE_SCRIPT)
        if found["pageWide"]:
            self.problems.append(f"{where}: the page scrolls sideways ({found['pageWide']} px)")
        for card in found["cards"]:
            self.problems.append(f"{where}: a card scrolls sideways: {card}")
        for text in found["texts"]:
            bare = text.strip(" :·,.;()")
            for code in {bare} & self.codes | set(self.shaped.findall(text)):
                self.problems.append(f"{where}: raw code {code!r} in {text[:120]!r}")
            if self.language == "it" and bare in self.english and text not in found["data"]:
                self.problems.append(f"{where}: untranslated {text[:120]!r}")
            elif (
                self.language == "it"
                and self.templates.fullmatch(bare)
                and not any(text in d for d in found["data"])
            ):
                self.problems.append(f"{where}: untranslated {text[:120]!r} (a stored message?)")

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def site_data(settings, live_server, api_client, make_user) -> Iterator[dict]:
    """The demo's users and past sessions, a statement run with data, Moneybird documents in every
    state of the exports page."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    remote_log = settings.VAR_DIR / "remote-log"
    settings.SESSIONS_LOG_FS_URL = f"osfs://{remote_log}"
    settings.SESSIONS_LOG_POLL_INTERVAL = 0.1
    call_command("setup_schedules", verbosity=0)
    call_command("demo_setup", stdout=io.StringIO())
    # A transactional test run before flushes the built-in import profiles (migration rows): without
    # them the demo sales file needs mapping, the run is not ready and its royalty pages redirect.
    ImportProfile.objects.load_builtin()

    flow = Flow(api_client())
    [sales] = (ROOT / "fixtures" / "demo").glob("royalty_sales_*.csv")
    # A run whose royalty statements can be reviewed, and one with failed files as well.
    royalty_run = flow.create_run(name="Demo royalties", currency="EUR")
    flow.processed_file(sales.read_bytes(), royalty_run, name=sales.name)
    run_id = flow.create_run(name="Q3 with failures", currency="EUR")
    flow.processed_file(fixture_bytes("spotify_2026-09.csv"), run_id, name="spotify.csv")  # rates missing
    # Rejected lines (their reasons are stored as codes), and a file of nothing but rejected lines.
    flow.processed_file(fixture_bytes("with_errors.csv"), run_id, name="with_errors.csv")
    flow.processed_file(
        b"period,dsp,artist,territory,units,revenue,currency\n2026-13,T,A,NO,1,1,NOK\n", run_id
    )
    flow.processed_file(b"\x00\x01PK binary", run_id, name="export.xlsx")  # FAILED, with its reason
    # FAILED for a header no profile reads: its columns can be mapped on a page of its own.
    unmapped = flow.processed_file(b"Song;Shop;Money\nA;S;1.00\n", run_id, name="odd.csv")

    # Stored messages of the operators' side: a rejected invoice file, one with invalid records, a
    # failed (force-closed) session among the past ones.
    past = timezone.localdate() - timedelta(days=PAST_DAYS + 2)
    ingest_bytes(name=f"Letture{past:%Y%m%d}093000000_5.txt", content=b"600000001|1|x|1.00", source="ftp")
    ingest_bytes(
        name=f"Letture{past:%Y%m%d}100000000_2.txt",
        content=b"600000001|1|x|1.00\n\n60000|1|x|1",
        source="manual",
    )
    session_services.start_session(day=past, enqueue=False)
    session_services.close_session(day=past, force=True)

    fake = FakeMoneybird()
    settings.MONEYBIRD_API_URL = fake.base_url
    settings.MONEYBIRD_ADMINISTRATION_ID = fake.administration_id
    settings.MONEYBIRD_TOKEN = fake.token
    settings.MONEYBIRD_RETRY_DELAY = 0.01
    settings.MONEYBIRD_RATE_LIMIT = 100_000
    fake.add_demo_documents()
    client = client_from_settings()
    sync_documents(client=client)
    ids = sorted(fake.documents["purchase_invoice"])[:3]
    export_services.create_export(client=client, ids=ids)
    fake.change(ids[0], state="paid", total_price_incl_tax="999.00")
    fake.remove(ids[1])
    sync_documents(client=client)
    try:
        yield {"run_id": run_id, "unmapped": unmapped, "royalty_run": royalty_run}
    finally:
        fake.close()


def admin_change_pages() -> list[str]:
    """The detail page of one object of every model of our apps (of every invoice file: a rejected
    one and one with invalid records show their stored reasons)."""
    pages = []
    for model in admin.site._registry:
        if model._meta.app_label not in OUR_APPS:
            continue
        objects = model._default_manager.order_by("pk")
        for pk in objects.values_list("pk", flat=True)[: 5 if model._meta.model_name == "invoicefile" else 1]:
            pages.append(reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[pk]))
    return sorted(pages)


def admin_changelists() -> list[str]:
    return sorted(
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for model in admin.site._registry
        if model._meta.app_label in OUR_APPS
    )


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_every_page_in_english_and_italian_at_1280_and_375_px(browser, live_server, site_data):
    username, password = next((u, p) for u, p, staff, _ in DEMO_USERS if staff)
    codes = raw_codes_by_language()
    english = untranslated_texts()
    templates = english_templates()
    run = f"/statements/{site_data['run_id']}/"
    payees = Payee.objects.order_by("name").values_list("pk", flat=True)
    paths = [
        "/",
        "/sessions/",
        "/statements/",
        run,
        f"{run}files/{site_data['unmapped']}/mapping/",
        f"/statements/{site_data['royalty_run']}/",
        f"/statements/{site_data['royalty_run']}/royalties/",
        f"/statements/{site_data['royalty_run']}/royalties/unmatched/",
        *(f"/statements/{site_data['royalty_run']}/royalties/{payee}/" for payee in payees[:2]),
        "/exports/",
        "/api/docs/",
        *(f"/api/docs/{name}/" for name in sorted(APIS)),
        "/admin/",
        *admin_changelists(),
        *admin_change_pages(),
    ]
    problems, errors = [], []
    for language in ("en", "it"):
        for width in WIDTHS:
            walker = Walker(browser, live_server.url, language, width, codes[language], english, templates)
            try:
                walker.log_in(username, password)
                for path in paths:
                    walker.visit(path)
            finally:
                walker.close()
            problems += walker.problems
            errors += walker.errors
    assert django_settings.LANGUAGE_CODE == "en"
    assert not errors, errors
    assert not problems, "\n".join(sorted(set(problems)))


def test_the_raw_codes_include_the_ones_users_reported():
    codes = raw_codes_by_language()
    assert {"PROCESSED", "NO_FILES", "paid", "pending_payment", "ingestion/late"} <= codes["it"]
    assert {"NO_FILES", "PROCESSED", "pending_payment", "ingestion/late"} <= codes["en"]
    assert "paid" not in codes["en"]  # an English word: the English label of the state
