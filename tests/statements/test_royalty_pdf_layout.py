"""A payee's statement PDF reads like a statement (issue 23 item 8): the label's name, address and
logo, the payee's name and address, the run and its first and last month, the summary with the
advances outstanding and recouped, bar charts whose labels and values never overlap, the breakdowns
and a line-detail appendix. The PDF is rendered to PNG (pdftoppm) and its words' boxes are read with
`pdftotext -bbox`; expected figures are plain Decimal arithmetic."""

import html
import re
import shutil
import subprocess
from decimal import Decimal as D
from pathlib import Path

import pytest

from statements.royalties import services
from tests.statements.test_royalties import HEADER, ISRC, contract, payee, processed_run

pytestmark = pytest.mark.django_db

LONG_DSPS = (
    "Amazon Music Unlimited Family Plan",
    "YouTube Music Premium Subscriptions",
    "Spotify",
    "Apple Music",
)
SALES = HEADER + "".join(
    f"2026-0{month},{dsp},Ana,{ISRC},8712345678901,Song,NL,{100 * (i + 1)},{10 * (i + 1)}.00,EUR,stream\n"
    for month in (7, 8, 9)
    for i, dsp in enumerate(LONG_DSPS)
)
# 12 lines x 0.20 (stream rate) x 100 %: 3 months x (10 + 20 + 30 + 40) x 0.2
EARNINGS = D(3) * D(100) * D("0.20")
ADVANCE = D("25.00")
LOGO = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"
    b"\x00\x00\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe\x92\xef\x00\x00\x00\x00IEND\xaeB`\x82"
)


def words(pdf: Path, page: int) -> list[tuple[float, float, float, float, str]]:
    """(xMin, yMin, xMax, yMax, word) of every word on `page` (pdftotext -bbox)."""
    out = subprocess.run(
        ["pdftotext", "-bbox", "-f", str(page), "-l", str(page), pdf, "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    found = re.findall(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>', out
    )
    return [(float(a), float(b), float(c), float(d), html.unescape(w)) for a, b, c, d, w in found]


def overlapping(boxes) -> list[tuple]:
    pairs = []
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            # Boxes touching at an edge are neighbours, not an overlap.
            if a[0] < b[2] - 0.5 and b[0] < a[2] - 0.5 and a[1] < b[3] - 0.5 and b[1] < a[3] - 0.5:
                pairs.append((a[4], b[4]))
    return pairs


@pytest.fixture
def pdf(flow, api, settings, tmp_path) -> tuple[Path, object]:
    logo = tmp_path / "logo.png"
    logo.write_bytes(LOGO)
    settings.ROYALTY_LABEL_NAME = "Seelenluft Records"
    settings.ROYALTY_LABEL_ADDRESS = "Langstrasse 12\n8004 Zürich"
    settings.ROYALTY_LABEL_LOGO = str(logo)
    ana = payee("Ana Example", address="Via Roma 1\n00184 Roma", country="IT")
    deal = contract(shares=[(ana, "100")])
    services.post_entry(payee=ana, contract=deal, kind="advance", amount=ADVANCE, currency="EUR")
    run = processed_run(flow, SALES)
    response = api.get(f"/api/statement_run/{run.pk}/statements/{ana.pk}.pdf")
    assert response.status_code == 200
    path = tmp_path / "statement.pdf"
    path.write_bytes(response.content)
    return path, run


def test_the_statement_names_label_payee_run_and_period_and_shows_the_advance(pdf):
    path, run = pdf
    text = subprocess.run(
        ["pdftotext", "-layout", path, "-"], check=True, capture_output=True, text=True
    ).stdout
    flat = " ".join(text.split())
    for expected in (
        "Seelenluft Records",
        "Langstrasse 12",
        "8004 Zürich",
        "Ana Example",
        "Via Roma 1",
        "00184 Roma",
    ):
        assert expected in flat
    assert "Period 2026-07 \u2013 2026-09" in flat and f"{run.name} (run #{run.pk})" in flat
    assert f"Earnings {EARNINGS:.2f}" in flat
    assert f"Advances outstanding before this statement {ADVANCE:.2f}" in flat
    assert f"Recouped from these earnings {ADVANCE:.2f}" in flat and "Advances still to recoup 0.00" in flat
    assert f"Payable {EARNINGS - ADVANCE:.2f}" in flat
    assert "Appendix: line detail" in flat and flat.count("NLA012600001") >= 12


def test_chart_labels_and_values_never_overlap(pdf, tmp_path):
    path, _ = pdf
    first = words(path, 1) + words(path, 2)
    assert not overlapping(words(path, 1)) and not overlapping(words(path, 2))
    # Each DSP's bar: its label (left) and its value (right) on one row, the value right of the label.
    per_dsp = {dsp: D(3) * D(10) * (i + 1) * D("0.20") for i, dsp in enumerate(LONG_DSPS)}
    for dsp, value in per_dsp.items():
        head = dsp.split()[0]
        label_boxes = [w for w in first if w[4] == head]
        value_boxes = [w for w in first if w[4] == f"{value:.2f}"]
        assert label_boxes and value_boxes
        assert any(v[0] > lab[2] and abs(v[1] - lab[1]) < 3 for lab in label_boxes for v in value_boxes), dsp
    pdftoppm = shutil.which("pdftoppm")
    assert pdftoppm, "poppler-utils is installed by scripts/ensure-system-packages test"
    subprocess.run([pdftoppm, "-png", "-r", "60", "-f", "1", "-l", "1", path, tmp_path / "page"], check=True)
    (png,) = tmp_path.glob("page*.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_statement_page_shows_the_same_head_and_charts_at_any_width(
    page, flow, make_user, settings, tmp_path
):
    from statements.models import ImportProfile

    ImportProfile.objects.load_builtin()  # a transactional test before may have flushed them
    settings.ROYALTY_LABEL_NAME = "Seelenluft Records"
    settings.ROYALTY_LABEL_ADDRESS = "Langstrasse 12\n8004 Zürich"
    ana = payee("Ana Example", address="Via Roma 1\n00184 Roma", country="IT")
    deal = contract(shares=[(ana, "100")])
    services.post_entry(payee=ana, contract=deal, kind="advance", amount=ADVANCE, currency="EUR")
    run = processed_run(flow, SALES)
    make_user("bea", groups=["back-office"])
    page.goto("/statements/")
    page.fill("#id_username", "bea")
    page.fill("#id_password", "pw-bea-123")
    page.press("#id_password", "Enter")
    page.wait_for_url("**/statements/")
    for language, period in (("en", "2026-07 \u2013 2026-09"), ("it", "2026-07 \u2013 2026-09")):
        page.context.set_extra_http_headers({"Accept-Language": language})
        for width in (1280, 375):
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(f"/statements/{run.pk}/royalties/{ana.pk}/")
            assert page.locator("#statement-period").inner_text() == period
            head = page.locator(".statement-head").inner_text()
            assert "Seelenluft Records" in head and "Via Roma 1" in head and "Ana Example" in head
            assert page.locator("#advances").count() == 1
            overlaps = page.evaluate(
                """() => [...document.querySelectorAll('table.bars tr')].filter(row => {
                     const [label, , value] = [...row.children].map(c => c.getBoundingClientRect());
                     return label.right > value.left;
                   }).length"""
            )
            assert overlaps == 0
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            page.screenshot(path=str(tmp_path / f"statement-{language}-{width}.png"), full_page=True)
