"""Payee statement documents: the PDF renders to an image (pdftoppm) and its text carries the
figures of the JSON statement; the zip holds every payee's PDF and xlsx."""

import io
import shutil
import subprocess
import zipfile
from decimal import Decimal as D

import openpyxl
import pytest
from pypdf import PdfReader

from tests.statements.test_royalties import ANA_ROYALTY, contract, payee, processed_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def finalised(flow, api):
    ana, bo = payee("Ana"), payee("Bo")
    contract(shares=[(ana, "60"), (bo, "40")])
    run = processed_run(flow)
    assert api.post(f"/api/statement_run/{run.pk}/finalize/").status_code == 200
    return run, ana, bo


def test_pdf_statement_renders_and_carries_the_figures(api, finalised, tmp_path):
    run, ana, _ = finalised
    response = api.get(f"/api/statement_run/{run.pk}/statements/{ana.pk}.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    earnings = str((ANA_ROYALTY * D("0.6")).quantize(D("0.01")))
    assert "Royalty statement" in text and "Ana" in text
    assert f"Earnings {earnings}" in text and f"Payable {earnings}" in text
    assert "Spotify" in text and "iTunes" in text and "2026-08" in text
    pdf = tmp_path / "statement.pdf"
    pdf.write_bytes(response.content)
    pdftoppm = shutil.which("pdftoppm")
    assert pdftoppm, "poppler-utils is installed by scripts/ensure-system-packages test"
    subprocess.run([pdftoppm, "-png", "-r", "50", "-f", "1", "-l", "1", pdf, tmp_path / "page"], check=True)
    (png,) = tmp_path.glob("page*.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000


def test_xlsx_has_the_line_detail_and_the_zip_every_payee(api, finalised):
    run, ana, bo = finalised
    book = openpyxl.load_workbook(
        io.BytesIO(api.get(f"/api/statement_run/{run.pk}/statements/{ana.pk}.xlsx").content)
    )
    rows = list(book["Lines"].iter_rows(values_only=True))
    assert rows[0][:3] == ("contract_id", "sale_type", "dsp")
    assert sum(D(row[-1]) for row in rows[1:]) == ANA_ROYALTY * D("0.6")
    archive = zipfile.ZipFile(io.BytesIO(api.get(f"/api/statement_run/{run.pk}/statements.zip").content))
    names = sorted(archive.namelist())
    assert names == sorted(
        [
            "statements.json",
            *(f"statement-{run.pk}-{p.pk}-{p.name.lower()}.{k}" for p in (ana, bo) for k in ("pdf", "xlsx")),
        ]
    )


def test_run_page_finalises_and_then_lists_the_statements(flow, make_user):
    from django.test import Client

    ana = payee("Ana")
    contract(shares=[(ana, "100")])
    run = processed_run(flow)
    staff = Client()
    staff.force_login(make_user("bea", groups=["back-office"]))
    page = staff.get(f"/statements/{run.pk}/").content.decode()
    assert 'id="finalize"' in page
    response = staff.post(f"/statements/{run.pk}/finalize/", follow=True)
    page = response.content.decode()
    assert "Finalised as #1" in page and f"/statements/{ana.pk}.pdf" in page
    assert str(ANA_ROYALTY.quantize(D("0.01"))) in page
    assert "matched no contract" in page


def test_finalize_command(flow):
    from django.core.management import CommandError, call_command

    contract(shares=[(payee("Ana"), "100")])
    run = processed_run(flow)
    out = io.StringIO()
    call_command("finalize_statement_run", run.pk, stdout=out)
    assert out.getvalue().startswith(f"run {run.pk} finalised as #1: 1 statements, 1 payable, 1 unallocated")
    with pytest.raises(CommandError, match="already finalised"):
        call_command("finalize_statement_run", run.pk)
