"""The statement report of a run: built from a GROUP BY in the database, then converted.

One row per artist x DSP x period x territory x source currency (and rate: when a sales-file
exception gives part of a group another rate, that part is its own row). The rate used is the most
specific one: a sales-file exception over a DSP exception over the run rate, a period-specific
exception over a period-less one; a line in the statement currency is converted at 1 (identity)
and needs no rate.

Money adds up: every amount is converted at full precision and summed exactly; each presented
figure (a row, an artist, a DSP, the grand total) is then rounded once, half-even, to the
statement currency's minor unit from its own exact sum (`project.money`). So the grand total
is the exact sum rounded, not a sum of rounded rows; the exact sums travel with the report.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q, QuerySet, Sum
from django.utils.translation import gettext as _

from project.errors import Conflict
from project.money import EXACT, rounded
from statements import selectors
from statements.models import SalesFile, SalesFileStatus, SalesLine, StatementRun

ONE = Decimal(1)


class ReportNotReady(Conflict):
    """Files not processed yet, or rates missing; the message and the problems name what is missing
    (`loc` ["files", id] or ["rates", currency, period]); `files` and `missing_rates` for pages."""

    default_code = "report_not_ready"

    def __init__(self, message: str, *, files: list[dict] = (), missing_rates: list[dict] = ()):
        problems = [
            {"loc": ["files", f["id"]], "msg": f"#{f['id']} {f['name']!r} is {f['status']}"} for f in files
        ]
        problems += [
            {
                "loc": ["rates", r["currency"], r["period"]],
                "msg": f"no exchange rate for {r['currency']} {r['period']}",
            }
            for r in missing_rates
        ]
        super().__init__(message, problems=problems)
        self.files = list(files)
        self.missing_rates = list(missing_rates)


@dataclass(frozen=True)
class ReportRow:
    artist: str
    dsp: str
    period: str
    territory: str
    source_currency: str
    units: int
    gross_source: Decimal
    rate: Decimal
    exact: Decimal  # gross_source x rate, unrounded
    gross: Decimal  # exact, rounded once


@dataclass
class Total:
    """A subtotal (an artist's, a DSP's): its exact sum and that sum rounded once."""

    name: str
    currency: str
    units: int = 0
    exact: Decimal = Decimal(0)
    rows: list[ReportRow] = field(default_factory=list)

    def add(self, row: ReportRow) -> None:
        self.units += row.units
        self.exact = EXACT.add(self.exact, row.exact)
        self.rows.append(row)

    @property
    def total(self) -> Decimal:
        return rounded(self.exact, self.currency)


@dataclass
class Report:
    run: StatementRun
    currency: str
    rows: list[ReportRow]
    artists: list[Total]
    dsps: list[Total]
    grand_exact: Decimal
    units: int
    files: list[dict]  # control totals per file (selectors.control_totals + id, name, format)
    control: dict  # the same, added up over the run

    @property
    def grand_total(self) -> Decimal:
        return rounded(self.grand_exact, self.currency)


def build_report(run: StatementRun) -> Report:
    """The report of `run`; ReportNotReady unless every file is PROCESSED and every rate known."""
    files = list(run.sales_files.order_by("pk"))
    if not files:
        raise ReportNotReady(_("Report not available: the run has no sales files."))
    pending = [f for f in files if f.status != SalesFileStatus.PROCESSED]
    groups = (
        _lines(run, [f.pk for f in files])
        .values("sales_file_id", "artist", "dsp", "period", "territory", "currency")
        .annotate(units=Sum("units"), revenue=Sum("revenue"))
        .order_by()
    )
    resolve = _rate_resolver(run)
    merged: dict[tuple, list] = defaultdict(lambda: [0, Decimal(0)])
    missing: set[tuple[str, str]] = set()
    for group in groups:
        rate = resolve(group)
        if rate is None:
            missing.add((group["currency"], group["period"]))
            continue
        key = (group["artist"], group["dsp"], group["period"], group["territory"], group["currency"], rate)
        merged[key][0] += group["units"]
        merged[key][1] = EXACT.add(merged[key][1], group["revenue"])
    if pending or missing:
        raise _not_ready(pending, missing)
    rows = []
    for key, (units, revenue) in sorted(merged.items()):
        exact = EXACT.multiply(revenue, key[5])
        rows.append(ReportRow(*key[:5], units, revenue, key[5], exact, rounded(exact, run.currency)))
    artists: dict[str, Total] = {}
    dsps: dict[str, Total] = {}
    for row in rows:
        artists.setdefault(row.artist, Total(row.artist, run.currency)).add(row)
        dsps.setdefault(row.dsp, Total(row.dsp, run.currency)).add(row)
    grand = Decimal(0)
    for row in rows:
        grand = EXACT.add(grand, row.exact)
    return Report(
        run=run,
        currency=run.currency,
        rows=rows,
        artists=list(artists.values()),
        dsps=sorted(dsps.values(), key=lambda total: total.name),
        grand_exact=grand,
        units=sum(row.units for row in rows),
        files=[_file_control(f) for f in files],
        control=selectors.run_control_totals(files),
    )


def _file_control(sales_file: SalesFile) -> dict:
    return {
        "id": sales_file.pk,
        "name": sales_file.name,
        "format": sales_file.format,
        "detail": sales_file.detail,
        "warnings": sales_file.warnings,
        **selectors.control_totals(sales_file),
    }


def _lines(run: StatementRun, file_ids: list[int]):
    return run_filtered(SalesLine.objects.filter(sales_file_id__in=file_ids), run)


def run_filtered(lines: QuerySet, run: StatementRun) -> QuerySet:
    """`lines` (sales lines, or sums kept per track: the same field names) that `run`'s filters keep."""
    if run.artists:
        lines = lines.filter(artist__in=run.artists)
    if run.dsps:
        lines = lines.filter(dsp__in=run.dsps)
    if run.periods:
        lines = lines.filter(period__in=run.periods)
    if run.period_from:
        lines = lines.filter(period__gte=run.period_from)
    if run.period_to:
        lines = lines.filter(period__lte=run.period_to)
    return lines


def _rate_resolver(run: StatementRun):
    rates = {(r.currency, r.period): r.rate for r in run.rates.all()}
    exceptions = defaultdict(list)
    for e in run.rate_exceptions.filter(Q(sales_file__isnull=True) | Q(sales_file__runs=run)):
        specificity = (e.sales_file_id is not None, e.dsp != "", e.period != "")
        exceptions[e.currency].append((specificity, e))
    for candidates in exceptions.values():
        candidates.sort(key=lambda item: item[0], reverse=True)

    def resolve(group: dict) -> Decimal | None:
        if group["currency"] == run.currency:
            return ONE
        for _rank, e in exceptions.get(group["currency"], ()):
            if (
                (e.sales_file_id is None or e.sales_file_id == group["sales_file_id"])
                and (not e.dsp or e.dsp.lower() == group["dsp"].lower())
                and (not e.period or e.period == group["period"])
            ):
                return e.rate
        return rates.get((group["currency"], group["period"]))

    return resolve


def _not_ready(pending: list, missing: set[tuple[str, str]]) -> ReportNotReady:
    """The message in the reader's language (pages show it), statuses by their labels."""
    parts = []
    if pending:
        listed = ", ".join(
            (
                _("#%(id)s %(name)r needs its columns mapped (no import profile reads its header)")
                if f.status == SalesFileStatus.NEEDS_MAPPING
                else _("#%(id)s %(name)r is %(status)s")
            )
            % {"id": f.pk, "name": f.name, "status": str(f.get_status_display()).lower()}
            for f in pending
        )
        parts.append(_("not every sales file is processed (%(files)s)") % {"files": listed})
    if missing:
        listed = ", ".join(f"{currency} {period}" for currency, period in sorted(missing))
        parts.append(_("no exchange rate for %(rates)s") % {"rates": listed})
    return ReportNotReady(
        _("Report not available: %(reasons)s.") % {"reasons": "; ".join(parts)},
        files=[{"id": f.pk, "name": f.name, "status": f.status} for f in pending],
        missing_rates=[{"currency": c, "period": p} for c, p in sorted(missing)],
    )
