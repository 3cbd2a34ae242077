"""The back-office pages of statement runs: the whole flow of the JSON API in the browser, through
the same services, selectors and report. The page's script uploads files through the JSON API with
the session (straight to S3 where it is configured); everything else is a form posted here."""

import csv
import io
from itertools import islice

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from project import storage
from project.decorators import group_required
from project.errors import Conflict, InvalidInput, NotFound
from project.roles import BACK_OFFICE
from statements import mapping, pipeline, preview, rates, report_files, selectors, services
from statements.forms import (
    ExceptionFormSet,
    MappingForm,
    PayeeRateFormSet,
    RateFormSet,
    RateUploadForm,
    RevenueBasisForm,
    RunForm,
    SalesFilesForm,
)
from statements.models import SalesFile, SalesFileStatus, StatementRun
from statements.report import ReportNotReady, build_report
from statements.royalties import services as royalty_services
from statements.royalties.selectors import is_finalized, missing_payee_rates
from statements.texts import line_reason

REJECTED_SHOWN = 20
DOWNLOADS = {
    "csv": ("text/csv; charset=utf-8", report_files.as_csv),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", report_files.as_xlsx),
}
# The two rate sets of a run: the parser and the service the API uses for each.
RATE_SETS = {
    "rates": (RateFormSet, rates.parse_rates, services.replace_rates),
    "exceptions": (ExceptionFormSet, rates.parse_exceptions, services.replace_exceptions),
    "payee_rates": (PayeeRateFormSet, rates.parse_payee_rates, royalty_services.replace_payee_rates),
}


@group_required(BACK_OFFICE)
def run_list_page(request: HttpRequest) -> HttpResponse:
    form = RunForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        run = services.create_run(**form.cleaned_data, sales_file_ids=[], user=request.user)
        messages.success(request, _("Statement run created: now upload its sales files."))
        return redirect("statements:run-page", run_id=run.pk)
    rows = [(run, selectors.run_status(list(run.sales_files.all()))) for run in selectors.runs()[:200]]
    return render(request, "statements/run_list.html", {"rows": rows, "form": form})


@require_GET
@group_required(BACK_OFFICE)
def run_page(request: HttpRequest, run_id: int) -> HttpResponse:
    return _run_page(request, get_object_or_404(StatementRun, pk=run_id))


def _run_page(request: HttpRequest, run: StatementRun, status: int = 200, **bound) -> HttpResponse:
    """The run page; `bound` holds a form posted with errors, shown in place of the blank one."""
    data = selectors.run_data(run)
    try:
        report, not_ready = preview.preview(build_report(run)), None
    except ReportNotReady as exc:
        report, not_ready = None, exc
    sales_files = [(f["id"], f"#{f['id']} {f['name']}") for f in data["files"]]
    context = {
        "run": run,
        "data": data,
        "rejected": {
            f.pk: _rejected_lines(f)
            for f in run.sales_files.all()
            if f.lines_rejected or f.status in (SalesFileStatus.FAILED, SalesFileStatus.NEEDS_MAPPING)
        },
        "upload_form": bound.get("upload_form") or _upload_form(),
        "rates_formset": bound.get("rates_formset")
        or RateFormSet(initial=_current(run, "rates"), prefix="rates"),
        "exceptions_formset": bound.get("exceptions_formset")
        or ExceptionFormSet(
            initial=_current(run, "exceptions"),
            prefix="exceptions",
            form_kwargs={"sales_files": sales_files},
        ),
        "payee_rates_formset": bound.get("payee_rates_formset")
        or PayeeRateFormSet(initial=_current(run, "payee_rates"), prefix="payee_rates"),
        "missing_payee_rates": missing_payee_rates(run),
        "rates_upload": bound.get("rates_upload") or RateUploadForm(prefix="rates-upload"),
        "exceptions_upload": bound.get("exceptions_upload") or RateUploadForm(prefix="exceptions-upload"),
        "payee_rates_upload": bound.get("payee_rates_upload") or RateUploadForm(prefix="payee_rates-upload"),
        "preview": report,
        "not_ready": not_ready,
        "frozen": run.report_generated_at is not None,
        "finalized": is_finalized(run),
        "known_dsps": selectors.known_dsps(),
        "basis_form": RevenueBasisForm(),
    }
    return render(request, "statements/run_detail.html", context, status=status)


@require_POST
@group_required(BACK_OFFICE)
def run_page_upload(request: HttpRequest, run_id: int) -> HttpResponse:
    """Sales files through the server (the page without JavaScript): each is created, added to
    the run, stored and queued for processing, as the script does through the API."""
    run = get_object_or_404(StatementRun, pk=run_id)
    form = _upload_form(request.POST, request.FILES)
    if not form.is_valid():
        return _run_page(request, run, status=400, upload_form=form)
    for upload in form.cleaned_data["files"]:
        try:
            # A run finalised since the page was shown takes no file: none is left behind.
            with transaction.atomic():
                sales_file = services.create_sales_file(
                    name=upload.name,
                    user=request.user,
                    profile=form.cleaned_data["profile"],
                    revenue_basis=form.cleaned_data["revenue_basis"],
                )
                services.add_sales_file(run=run, sales_file_id=sales_file.pk)
        except Conflict as exc:
            messages.error(request, str(exc))
            break
        try:
            services.store_content(sales_file=sales_file, content=upload)
            pipeline.start(sales_file, source="page")
        except (Conflict, storage.Unavailable) as exc:
            messages.error(request, f"{upload.name}: {exc}")
        else:
            messages.success(
                request, _("%(name)s uploaded and queued for processing.") % {"name": upload.name}
            )
    return redirect("statements:run-page", run_id=run.pk)


@require_POST
@group_required(BACK_OFFICE)
def run_page_process(request: HttpRequest, run_id: int, file_id: int) -> HttpResponse:
    """The run page's "Process again" button: a FAILED, PROCESSED or abandoned file; a DDEX DSR
    file's form also names the revenue basis to process it with."""
    run = get_object_or_404(StatementRun, pk=run_id)
    sales_file = get_object_or_404(run.sales_files, pk=file_id)
    form = RevenueBasisForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.errors.as_text())
        return redirect("statements:run-page", run_id=run.pk)
    # A form without the field (a file not read as DSR) leaves the file's basis as it is.
    basis = form.cleaned_data["revenue_basis"] if "revenue_basis" in request.POST else None
    try:
        pipeline.start(sales_file, source="page", revenue_basis=basis)
    except (Conflict, storage.Unavailable) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Sales file %(id)s queued for processing.") % {"id": sales_file.pk})
    return redirect("statements:run-page", run_id=run.pk)


@require_http_methods(["GET", "POST"])
@group_required(BACK_OFFICE)
def run_page_mapping(request: HttpRequest, run_id: int, file_id: int) -> HttpResponse:
    """ "Map columns" for a file no import profile reads: its first rows, a column picker per
    field and the preview of the cleaned lines and totals (a plain form post); "Save as import
    profile" stores the mapping, once the preview has no problem, and processes the file."""
    run = get_object_or_404(StatementRun, pk=run_id)
    sales_file = get_object_or_404(run.sales_files, pk=file_id)
    try:
        table = mapping.sample(sales_file)
    except (storage.Missing, storage.Unavailable) as exc:
        messages.error(request, f"#{sales_file.pk}: {exc}")
        return redirect("statements:run-page", run_id=run.pk)
    initial = {f"column_{name}": column for name, column in mapping.suggested(table.columns).items()}
    form = MappingForm(
        request.POST or None,
        columns=table.columns,
        initial={**initial, "name": sales_file.name, "save": True},
    )
    result, status = None, 200
    if request.method == "POST" and form.is_valid():
        proposed = form.mapping()
        result = mapping.preview(sales_file, proposed, table)
        if request.POST.get("action") == "save":
            if not result["problems"]:
                return _save_mapping(request, run, sales_file, form, proposed, table)
            status = 422
    elif request.method == "POST":
        status = 400
    context = {"run": run, "sales_file": sales_file, "table": table, "form": form, "result": result}
    return render(request, "statements/mapping.html", context, status=status)


def _save_mapping(request, run, sales_file, form, proposed, table) -> HttpResponse:
    try:
        profile = services.save_mapping(
            sales_file=sales_file,
            profile=mapping.profile_fields(proposed, table),
            name=form.cleaned_data["name"],
            save=form.cleaned_data["save"],
            user=request.user,
        )
        pipeline.start(sales_file, source="page")
    except (Conflict, storage.Unavailable) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("Import profile %(name)s saved; sales file %(id)s queued for processing.")
            % {"name": profile.name, "id": sales_file.pk},
        )
    return redirect("statements:run-page", run_id=run.pk)


@require_POST
@group_required(BACK_OFFICE)
def run_page_rates(request: HttpRequest, run_id: int, kind: str) -> HttpResponse:
    """The rates (or exceptions) table saved: the table is the run's new set."""
    run = get_object_or_404(StatementRun, pk=run_id)
    formset_class, _parse, replace = RATE_SETS[kind]
    kwargs = {"form_kwargs": {"sales_files": _file_choices(run)}} if kind == "exceptions" else {}
    formset = formset_class(request.POST, prefix=kind, **kwargs)
    if not formset.is_valid():
        return _run_page(request, run, status=400, **{f"{kind}_formset": formset})
    return _replace(request, run, replace, formset.items)


@require_POST
@group_required(BACK_OFFICE)
def run_page_rates_upload(request: HttpRequest, run_id: int, kind: str) -> HttpResponse:
    """A CSV of rates (or exceptions) that replaces the run's set, or is merged into it."""
    run = get_object_or_404(StatementRun, pk=run_id)
    _formset, parse, replace = RATE_SETS[kind]
    form = RateUploadForm(request.POST, request.FILES, prefix=f"{kind}-upload")
    if form.is_valid():
        items, problems = form.merged(parse, _current(run, kind))
        if not problems:
            return _replace(request, run, replace, items)
        form.add_error("file", [_("Nothing was changed."), *problems])
    return _run_page(request, run, status=400, **{f"{kind}_upload": form})


@require_GET
@group_required(BACK_OFFICE)
def run_page_download(request: HttpRequest, run_id: int, kind: str) -> HttpResponse:
    """The report file; when it is not ready, back to the page saying why (never an error body)."""
    run = get_object_or_404(StatementRun, pk=run_id)
    content_type, render_file = DOWNLOADS[kind]
    try:
        report = build_report(run)
    except ReportNotReady as exc:
        messages.error(request, str(exc))
        return redirect("statements:run-page", run_id=run.pk)
    services.record_report_generated(run=run)
    response = HttpResponse(render_file(report), content_type=content_type)
    response["Content-Disposition"] = (
        f'attachment; filename="{report_files.download_name(run, "statement", kind)}"'
    )
    return response


# --- helpers -------------------------------------------------------------------------------------


def _upload_form(*args) -> SalesFilesForm:
    profiles = [(profile.slug, profile.name) for profile in selectors.import_profiles()]
    return SalesFilesForm(
        *args, profiles=sorted(profiles, key=lambda choice: choice[1].lower()), prefix="upload"
    )


def _file_choices(run: StatementRun) -> list[tuple[int, str]]:
    return [(f.pk, f"#{f.pk} {f.name}") for f in run.sales_files.order_by("pk")]


def _current(run: StatementRun, kind: str) -> list[dict]:
    """The run's set as the parser's items (the rows a table starts from, the base of a merge)."""
    if kind == "rates":
        return [{"currency": r.currency, "period": r.period, "rate": r.rate} for r in run.rates.all()]
    if kind == "payee_rates":
        return [
            {"currency": r.currency, "rate": r.rate, "source": r.source, "date": r.date.isoformat()}
            for r in run.payee_rates.all()
        ]
    return [
        {
            "currency": e.currency,
            "rate": e.rate,
            "dsp": e.dsp,
            "salesfile": e.sales_file_id,
            "period": e.period,
        }
        for e in run.rate_exceptions.order_by("pk")
    ]


def _replace(request: HttpRequest, run: StatementRun, replace, items: list[dict]) -> HttpResponse:
    try:
        replace(run=run, items=items, user=request.user)
    except (Conflict, NotFound, InvalidInput) as exc:
        messages.error(request, str(exc))
    else:
        count = len(items)
        messages.success(
            request, ngettext("Saved: %(count)s row.", "Saved: %(count)s rows.", count) % {"count": count}
        )
    return redirect("statements:run-page", run_id=run.pk)


def _rejected_lines(sales_file: SalesFile) -> list[tuple[str, str]]:
    """The first rejected lines (line, reason in the reader's language) of a file, from its
    rejected-lines report."""
    try:
        with storage.open_stream(sales_file.rejected_key) as stream:
            rows = csv.reader(io.TextIOWrapper(stream, encoding="utf-8", newline=""))
            next(rows, None)  # the header
            return [(row[0], line_reason(*row[1:4])) for row in islice(rows, REJECTED_SHOWN)]
    except (storage.Missing, storage.Unavailable):
        return []
