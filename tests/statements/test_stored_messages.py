"""Why a sales file failed is stored as a code with parameters beside its English sentence: the API
answers in English, the run page in the reader's language."""

import re

import pytest
from django.utils import translation

from statements.models import SalesFile

pytestmark = pytest.mark.django_db

NO_HEADER = b"foo;bar\n1;2\n"


def test_a_failure_reason_is_english_in_the_api_and_italian_on_an_italian_run_page(flow, client, make_user):
    run_id = flow.create_run(name="Q3")
    binary = flow.processed_file(b"\xd0\xcf\x11\xe0\x00 xls", run_id, name="export.xls")
    unknown = flow.processed_file(NO_HEADER, run_id, name="odd.csv")
    lines = flow.processed_file(
        b"period,dsp,artist,territory,units,revenue,currency\n2026-13,T,A,NO,1,1,NOK\n", run_id
    )

    assert flow.file(binary)["failure_reason"] == (
        "unknown format: binary content (an .xls workbook or another program's file?); "
        "upload the sales report as CSV, TSV or XLSX"
    )
    assert flow.file(unknown)["failure_reason"].startswith(
        "unknown format: no import profile matches the header row (line 1: 'foo;bar'); profiles tried: "
    )
    assert flow.file(lines)["failure_reason"].startswith(
        "no valid sales lines: 1 line rejected (first: line 2:"
    )
    assert (flow.file(binary)["failure_code"], flow.file(binary)["failure_params"]) == ("binary_content", {})
    assert flow.file(lines)["failure_params"]["first"]["params"]["reason"]["code"] == "period_invalid"
    stored = SalesFile.objects.get(pk=binary)
    assert (stored.failure_code, stored.failure_params) == ("binary_content", {})

    client.force_login(make_user("bea", groups=["back-office"]))
    page = client.get(f"/statements/{run_id}/", HTTP_ACCEPT_LANGUAGE="it").content.decode()
    assert "formato sconosciuto: contenuto binario (una cartella .xls" in page
    assert "formato sconosciuto: nessun profilo di importazione corrisponde alla riga di intestazione" in page
    assert (
        "nessuna riga di vendita valida: 1 riga rifiutata"
        " (prima: riga 2: il periodo &#x27;2026-13&#x27; non è un mese né una data)"
    ) in page
    # The rejected-lines table: each line's reason in the reader's language too.
    assert "<td>2</td><td>il periodo &#x27;2026-13&#x27; non è un mese né una data</td>" in page
    failures = re.findall(r'<span class="failure">(.*?)</span>', page)
    assert len(failures) == 3 and not any("unknown format" in failure for failure in failures)


def test_a_reason_stored_before_codes_shows_as_stored(flow):
    file_id = flow.processed_file(b"PK\x03\x04 zip")
    SalesFile.objects.filter(pk=file_id).update(failure_code="", failure_reason="an old reason")
    with translation.override("it"):
        assert SalesFile.objects.get(pk=file_id).failure_text == "an old reason"


def test_what_a_file_declares_of_itself_reads_as_words_with_every_digit():
    from statements.templatetags.statuses import declared_items

    declared = {
        "totals_rows": 1,
        "revenue": {"?": "2.55", "USD": "1234.5678901234567890123456789"},
        "totals": {"Master": {"sales": "3", "currency": "GBP", "due": "1.5"}},
    }
    assert declared_items(declared) == [
        ("totals rows", "1"),
        ("revenue", "2.55 currency not given; 1,234.5678901234567890123456789 USD"),
        ("totals", "Master: sales 3, due 1.50 GBP"),
    ]
    with translation.override("it"):
        assert declared_items(declared)[1] == (
            "ricavi",
            "2,55 valuta non indicata; 1.234,5678901234567890123456789 USD",
        )


@pytest.mark.parametrize(
    ("old", "new", "italian"),
    [
        ("T7\t\tR1\ttrue\t200", "T7\t\tR1\ttrue\t2x0", "usages '2x0' non è un numero intero"),
        ("T6\t\tR1", "T6\t\tR9", "utilizzo della risorsa 'R9', non descritta nel blocco 'B2'"),
        ("\tS1\tT6", "\tS9\tT6", "utilizzo di un record di riepilogo sconosciuto 'S9'"),
    ],
)
def test_a_dsr_line_is_rejected_with_a_reason_the_reader_reads_in_italian(old, new, italian):
    from statements.texts import CATALOGUE
    from tests.statements.test_dsr import TIDAL, parse_text, read_text

    _, (problem,), _ = parse_text(read_text(TIDAL).replace(old, new))
    with translation.override("it"):
        assert CATALOGUE.render(problem.text.code, problem.text.params, problem.reason) == italian


def test_a_dsr_reason_quoting_its_summary_records_reason_reads_in_italian():
    from statements.texts import CATALOGUE

    error = {"code": "currency_invalid", "params": {"value": "'XX'"}, "text": "currency 'XX' is not…"}
    with translation.override("it"):
        assert CATALOGUE.render("summary_invalid", {"line": 5, "error": error}, "") == (
            "il suo record di riepilogo (riga 5) non è valido: la valuta 'XX' non è un codice ISO 4217"
        )


def test_clicknclear_layout_checks_and_totals_read_in_italian():
    import io

    from statements.cleaners import parse
    from statements.cleaners.base import Problem
    from statements.texts import CATALOGUE, warning_text

    report = b"T,M,2023-01-01,2023-03-31,1,USD,0,7.29,7.29\nS,X,a,b\nS,M,a,b\n"
    _, items, stats = parse(io.BytesIO(report), file_name="cnc.csv")
    problems = [item for item in items if isinstance(item, Problem)]
    assert [p.reason for p in problems] == [
        "row type 'S' / income type 'X' has no layout in the ClicknClear spec",
        "a Master sale row has 18 fields, found 4",
    ]
    with translation.override("it"):
        assert [CATALOGUE.render(p.text.code, p.text.params, p.reason) for p in problems] == [
            "il tipo di riga 'S' / tipo di ricavo 'X' non ha un tracciato nella specifica ClicknClear",
            "una riga di vendita Master ha 18 campi, trovati 4",
        ]
        assert [warning_text(warning) for warning in stats.warnings] == [
            "la riga dei totali Master dichiara 1 vendite e 7.29 dovuti; le righe di vendita ne contengono 0 e 0"
        ]


def test_rarer_reasons_a_file_fails_for_read_in_italian():
    from statements.texts import CATALOGUE
    from tests.statements.test_dsr import TIDAL, parse_text, read_text

    text = read_text(TIDAL)
    truncated = text[: text.index("FOOT")]
    second_head = text + text[: text.index("\n") + 1]
    italian = []
    bad_head = "HEAD\tdsrf/3.0\tBasicAudioProfile\t1.2\tM\tT\t1\t1\t2026-13-01\n"
    for report in (truncated, second_head, "", bad_head):
        _, problems, _ = parse_text(report)
        (fatal,) = [problem for problem in problems if problem.fatal]
        with translation.override("it"):
            italian.append(CATALOGUE.render(fatal.text.code, fatal.text.params, fatal.reason))
    assert italian == [
        "il file DSR termina senza un record FOOT: troncato?",
        "un secondo record HEAD: carica separatamente ciascun file di un messaggio DSR in più file",
        "il file è vuoto: nessun record HEAD DSR",
        "UsageStartDate '2026-13-01' di HEAD non è una data (AAAA-MM-GG)",
    ]


def test_dsr_foot_and_kept_text_warnings_read_in_italian():
    from statements.texts import warning_text

    with translation.override("it"):
        assert [
            warning_text("FOOT does not declare the number of summary records"),
            warning_text("FOOT number of blocks in the file 'x' is not a whole number"),
            warning_text("title is longer than 300 characters: the line is kept without it on 2 line(s)"),
            warning_text("… and 4 more summary records like these"),
        ] == [
            "FOOT non dichiara il numero di record di riepilogo",
            "il numero di blocchi del file 'x' in FOOT non è un numero intero",
            "title è più lungo di 300 caratteri: la riga è tenuta senza di esso su 2 righe",
            "… e altri 4 record di riepilogo come questi",
        ]


def test_a_royalty_problem_stored_in_english_reads_in_the_readers_language():
    from statements.royalties.problems import problem, problem_text

    stored = problem("splits_total", contract="Ana's 50 % deal", total="99.5")
    assert stored == "Contract “Ana's 50 % deal”: splits add up to 99.5 %, not 100 %."
    with translation.override("it"):
        assert (
            problem_text(stored) == "Contratto “Ana's 50 % deal”: le quote sommano al 99.5 %, non al 100 %."
        )
        assert problem_text("Something else went wrong.") == "Something else went wrong."
    with translation.override("en"):
        assert problem_text(stored) == stored


def test_a_finalisation_refused_for_rates_alone_says_so_in_its_code():
    from statements.royalties.problems import problem, refusal_code

    rates = problem("payee_rates_missing", currency="USD", currencies="GBP", payees="GBP (Gus)")
    splits = problem("splits_total", contract="Ana", total="99.5")
    assert refusal_code([rates]) == "payee_rates_missing"
    assert refusal_code([splits, rates]) == refusal_code([splits]) == "splits_invalid"
