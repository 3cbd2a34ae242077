"""A payee's statement PDF is written in the site's language (LANGUAGE_CODE), like the email it
goes with, whatever language the browser that downloads it asks for."""

import io
from decimal import Decimal as D

import pytest
from pypdf import PdfReader

from tests.statements.test_royalties import ANA_ROYALTY
from tests.statements.test_royalty_documents import finalised  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


def test_pdf_statement_in_the_site_language(api, finalised, settings):  # noqa: F811
    settings.LANGUAGE_CODE = "it"
    run, ana, _ = finalised
    response = api.get(f"/api/statement_run/{run.pk}/statements/{ana.pk}.pdf", HTTP_ACCEPT_LANGUAGE="en")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    earnings = str((ANA_ROYALTY * D("0.6")).quantize(D("0.01"))).replace(".", ",")  # Italian decimals
    assert "Rendiconto delle royalty" in text and "Riepilogo" in text and "Proventi per DSP" in text
    assert f"Proventi {earnings}" in text and f"Da pagare {earnings}" in text
    assert "Pagina 1 di " in text and "Periodo 2026-08 \u2013 2026-09" in text
