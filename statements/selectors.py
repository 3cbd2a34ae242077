"""Read operations of the statements app: runs and sales files as plain data."""

from decimal import Decimal

from django.db import models
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from project.errors import NotFound
from project.money import EXACT, exact_text
from statements.cleaners.profiles import ProfileSpec
from statements.models import ImportProfile, SalesFile, SalesFileSnapshot, SalesFileStatus, StatementRun
from statements.services import IN_PROGRESS, PROFILE_FIELDS, is_held


class RunStatus(models.TextChoices):
    """Derived from the run's files: a run is as far as its least advanced file."""

    NO_FILES = "NO_FILES", _("No files")
    PROCESSING = "PROCESSING", _("Processing")
    FAILED = "FAILED", _("Failed")
    NEEDS_MAPPING = "NEEDS_MAPPING", _("Needs mapping")
    PROCESSED = "PROCESSED", _("Processed")


def run_status(files: list[SalesFile]) -> str:
    statuses = {f.status for f in files}
    if not statuses:
        return RunStatus.NO_FILES
    if SalesFileStatus.FAILED in statuses:
        return RunStatus.FAILED
    if SalesFileStatus.NEEDS_MAPPING in statuses:
        return RunStatus.NEEDS_MAPPING
    if statuses == {SalesFileStatus.PROCESSED}:
        return RunStatus.PROCESSED
    return RunStatus.PROCESSING


def get_run(run_id: int) -> StatementRun:
    run = StatementRun.objects.filter(pk=run_id).first()
    if run is None:
        raise NotFound(f"no statement run with id {run_id}", code="run_not_found")
    return run


def get_sales_file(file_id: int) -> SalesFile:
    sales_file = SalesFile.objects.filter(pk=file_id).first()
    if sales_file is None:
        raise NotFound(f"no sales file with id {file_id}", code="salesfile_not_found")
    return sales_file


def runs() -> QuerySet[StatementRun]:
    return StatementRun.objects.prefetch_related("sales_files")


def sales_file_data(sales_file: SalesFile) -> dict:
    total = sales_file.progress_total
    return {
        "id": sales_file.pk,
        "name": sales_file.name,
        "status": sales_file.status,
        # In the request's language (English unless the client asks), and as its code and parameters.
        "failure_reason": sales_file.failure_text,
        "failure_code": sales_file.failure_code,
        "failure_params": sales_file.failure_params,
        "profile": sales_file.profile or None,
        "format": sales_file.format,
        # A DSR file's income column: asked for (None: the default), then the one used.
        "revenue_basis": sales_file.revenue_basis or None,
        "detail": sales_file.detail,
        "warnings": sales_file.warnings,
        "size": sales_file.size,
        **control_totals(sales_file),
        # Per currency: the file's amounts = imported + rejected (exact; "difference" is zero).
        "reconciliation": sales_file.reconciliation,
        "sha256": sales_file.sha256,
        "duplicate_of": sales_file.duplicate_of_id,
        "duplicate_reason": sales_file.duplicate_reason,
        "progress": {
            "processed": sales_file.progress_processed,
            "total": total,
            "percent": round(100 * sales_file.progress_processed / total, 1) if total else None,
        },
        "rejected_report": (
            reverse("statements:api:salesfile_rejected", args=[sales_file.pk])
            if sales_file.lines_rejected
            else None
        ),
        "lease_until": sales_file.lease_until.isoformat() if sales_file.lease_until else None,
        # Mid-pipeline with no live task (its lease lapsed): it can be processed again.
        "stale": sales_file.status in IN_PROGRESS and not is_held(sales_file),
        "created_at": sales_file.created_at.isoformat(),
        "status_changed_at": sales_file.status_changed_at.isoformat(),
    }


def control_totals(sales_file: SalesFile) -> dict:
    """Lines read / imported / rejected, units and revenue per source currency as imported, and
    the totals the file declares about itself."""
    return {
        "lines_read": sales_file.lines_read,
        "lines_valid": sales_file.lines_valid,
        "lines_imported": sales_file.lines_valid if sales_file.status == SalesFileStatus.PROCESSED else 0,
        "lines_rejected": sales_file.lines_rejected,
        "totals": sales_file.totals,
        "declared": sales_file.declared,
    }


def run_control_totals(files: list[SalesFile]) -> dict:
    """The control totals of a run's files added up (per source currency)."""
    per_file = [control_totals(f) for f in files]
    totals: dict[str, dict] = {}
    for data in per_file:
        for currency, total in data["totals"].items():
            into = totals.setdefault(currency, {"lines": 0, "units": 0, "revenue": Decimal(0)})
            into["lines"] += total["lines"]
            into["units"] += total["units"]
            into["revenue"] = EXACT.add(into["revenue"], Decimal(total["revenue"]))
    return {
        "lines_read": sum(d["lines_read"] for d in per_file),
        "lines_imported": sum(d["lines_imported"] for d in per_file),
        "lines_rejected": sum(d["lines_rejected"] for d in per_file),
        "totals": {
            currency: {**total, "revenue": exact_text(total["revenue"])}
            for currency, total in sorted(totals.items())
        },
    }


def run_data(run: StatementRun) -> dict:
    files = list(run.sales_files.order_by("pk"))
    return {
        "id": run.pk,
        "name": run.name,
        "currency": run.currency,
        "status": run_status(files),
        "filters": {
            "artists": run.artists,
            "dsps": run.dsps,
            "periods": run.periods,
            "period_from": run.period_from or None,
            "period_to": run.period_to or None,
        },
        "files": [sales_file_data(f) for f in files],
        "control": run_control_totals(files),
        "rates": [{"currency": r.currency, "period": r.period, "rate": str(r.rate)} for r in run.rates.all()],
        "currency_exceptions": [
            {
                "currency": e.currency,
                "rate": str(e.rate),
                "dsp": e.dsp or None,
                "salesfile": e.sales_file_id,
                "period": e.period or None,
            }
            for e in run.rate_exceptions.all()
        ],
        "payee_currencies": [
            {"currency": r.currency, "rate": str(r.rate), "source": r.source, "date": r.date.isoformat()}
            for r in run.payee_rates.all()
        ],
        "report_generated_at": run.report_generated_at.isoformat() if run.report_generated_at else None,
        "created_at": run.created_at.isoformat(),
    }


def import_profiles(*, including: str = "") -> list[ProfileSpec]:
    """The active import profiles, as the cleaning reads them (highest priority first), and the
    profile `including` names even if inactive (a one-off column mapping a sales file was given)."""
    chosen = ImportProfile.objects.filter(Q(active=True) | Q(slug=including) if including else Q(active=True))
    return [ProfileSpec.from_model(profile) for profile in chosen]


def profiles_for_export(*, slugs: list[str] = (), builtin: bool = False) -> list[dict]:
    """Import profiles as records of the built-in fixture's shape ({"model", "fields"}): the
    ones named, else every profile added here (and the built-in ones too with `builtin`)."""
    chosen = ImportProfile.objects.order_by("slug")
    if slugs:
        chosen = chosen.filter(slug__in=slugs)
        missing = sorted(set(slugs) - set(chosen.values_list("slug", flat=True)))
        if missing:
            raise NotFound(f"no import profile {', '.join(missing)}", code="profile_not_found")
    elif not builtin:
        chosen = chosen.filter(builtin=False)
    return [
        {"model": "statements.importprofile", "fields": {name: getattr(p, name) for name in PROFILE_FIELDS}}
        for p in chosen
    ]


def known_dsps() -> list[str]:
    """The DSP names of imported sales (from the per-file snapshots, a small table)."""
    return list(SalesFileSnapshot.objects.order_by("dsp").values_list("dsp", flat=True).distinct())
