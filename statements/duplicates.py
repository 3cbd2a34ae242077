"""Sales files that look like the same sales sent twice under other bytes: the same DSPs, periods
and per-currency units and totals as a file already in another statement run.

Checked before a file's lines count anywhere: in a column mapping's preview (before it is saved
and the file processed), when a file is imported (before its lines are committed, from its
snapshot) and when a processed file joins a run. The result is a warning naming the other file and
its runs; the same bytes are refused outright (`services._duplicate_check`).
"""

from decimal import Decimal

from statements.models import SalesFile, SalesFileSnapshot

# A file's sales in short: per DSP, period and currency, its units and exact revenue.
SNAPSHOT_KEY = ("dsp", "period", "currency", "units", "revenue")
Groups = set[tuple[str, str, str, int, Decimal]]
CANDIDATES = 20  # files compared in full, of those that share the first group


def groups_of(sales_file: SalesFile) -> Groups:
    """The snapshot of an imported file as SNAPSHOT_KEY tuples."""
    return set(SalesFileSnapshot.objects.filter(sales_file=sales_file).values_list(*SNAPSHOT_KEY))


def looks_like(groups: Groups, *, sales_file: SalesFile) -> list[str]:
    """A warning per file in a run other than `sales_file`'s whose snapshot equals `groups`."""
    if not groups:
        return []
    dsp, period, currency, units, _ = min(groups)
    candidates = (
        SalesFileSnapshot.objects.filter(dsp=dsp, period=period, currency=currency, units=units)
        .exclude(sales_file=sales_file)
        .filter(sales_file__runs__isnull=False)
        .exclude(sales_file__runs__sales_files=sales_file)
        .values_list("sales_file_id", flat=True)
        .distinct()
    )
    warnings = []
    for other in SalesFile.objects.filter(pk__in=list(candidates[:CANDIDATES])).order_by("pk"):
        if groups_of(other) == groups:
            runs = ", ".join(
                f"#{pk} {name!r}" for pk, name in other.runs.order_by("pk").values_list("pk", "name")
            )
            warnings.append(
                f"looks like a duplicate of sales file #{other.pk} {other.name!r} (statement run {runs}): "
                "the same DSPs, periods and totals per currency"
            )
    return warnings
