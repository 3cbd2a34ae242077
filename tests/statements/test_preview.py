"""The run page's report preview: totals per territory and month, rounded once, and bar lengths."""

from decimal import Decimal

from statements.preview import bars, by, preview
from statements.report import Report, ReportRow, Total


def _row(dsp: str, period: str, territory: str, exact: str) -> ReportRow:
    amount = Decimal(exact)
    return ReportRow("Aurora", dsp, period, territory, "EUR", 1, amount, Decimal(1), amount, amount)


def _report(rows: list[ReportRow]) -> Report:
    dsps: dict[str, Total] = {}
    for row in rows:
        dsps.setdefault(row.dsp, Total(row.dsp, "EUR")).add(row)
    grand = sum((row.exact for row in rows), Decimal(0))
    return Report(None, "EUR", rows, [], list(dsps.values()), grand, len(rows), [], {})


def test_month_and_territory_totals_are_rounded_once_from_their_exact_sums():
    report = _report([_row("Spotify", "2026-09", "IT", "0.004"), _row("Deezer", "2026-09", "IT", "0.004")])
    (month,) = by(report, "period")
    # 0.004 + 0.004 = 0.008 → 0.01; the rounded rows (0.00 + 0.00) would say 0.00.
    assert (month.name, month.total) == ("2026-09", Decimal("0.01"))
    assert [t.name for t in by(report, "territory")] == ["IT"]


def test_bars_are_percent_of_the_largest_and_a_negative_total_draws_none():
    report = _report([_row("Spotify", "2026-09", "IT", "10"), _row("Deezer", "2026-10", "IT", "-2.5")])
    data = preview(report)
    assert [(b.label, b.total, b.percent) for b in data["dsp_bars"]] == [
        ("Spotify", Decimal("10.00"), Decimal("100.0")),
        ("Deezer", Decimal("-2.50"), Decimal("0.0")),
    ]
    assert [b.label for b in data["month_bars"]] == ["2026-09", "2026-10"]
    assert bars([]) == []
