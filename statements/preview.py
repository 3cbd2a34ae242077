"""The run page's report preview: the report's totals by artist, DSP, territory and month, and
the bar lengths of its charts (pure: a Report in, plain data out; drawn as inline SVG)."""

from dataclasses import dataclass
from decimal import Decimal

from statements.report import Report, Total

BAR_WIDTH = 100  # the charts' bars are drawn in percent of the largest figure


@dataclass(frozen=True)
class Bar:
    label: str
    total: Decimal
    percent: Decimal  # 0-100, of the largest total; a negative total draws no bar


def by(report: Report, attribute: str) -> list[Total]:
    """Totals per value of a row attribute, each rounded once from its exact sum."""
    totals: dict[str, Total] = {}
    for row in report.rows:
        name = getattr(row, attribute)
        totals.setdefault(name, Total(name, report.currency)).add(row)
    return sorted(totals.values(), key=lambda total: total.name)


def bars(totals: list[Total]) -> list[Bar]:
    top = max((total.total for total in totals), default=Decimal(0))
    return [
        Bar(
            total.name,
            total.total,
            (BAR_WIDTH * max(total.total, Decimal(0)) / top).quantize(Decimal("0.1"))
            if top > 0
            else Decimal(0),
        )
        for total in totals
    ]


def preview(report: Report) -> dict:
    months = by(report, "period")
    return {
        "currency": report.currency,
        "grand_total": report.grand_total,
        "units": report.units,
        "artists": report.artists,
        "dsps": report.dsps,
        "territories": by(report, "territory"),
        "months": months,
        "dsp_bars": bars(report.dsps),
        "month_bars": bars(months),
    }
