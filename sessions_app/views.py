"""The operators' page: four POST buttons, "Check FTP now", past sessions with their CSVs, and a
JSON status endpoint polled by the page."""

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from ingestion import services as ingestion_services
from ingestion.services import InvalidFileName
from project import storage
from project.decorators import group_required
from project.roles import OPERATORS
from sessions_app import selectors, services
from sessions_app.forms import CloseForm, ManualUploadForm

operators_only = group_required(OPERATORS)


@operators_only
@require_GET
def page(request: HttpRequest) -> HttpResponse:
    day = services.today()
    context = {
        "status": selectors.day_status(day),
        "past_sessions": selectors.past_sessions(before=day),
        "upload_form": ManualUploadForm(),
        "close_form": CloseForm(),
    }
    return render(request, "sessions_app/page.html", context)


@operators_only
@require_GET
def status(request: HttpRequest) -> JsonResponse:
    response = JsonResponse(selectors.day_status(services.today()).as_json())
    response["Cache-Control"] = "no-store"
    return response


@operators_only
@require_POST
def start(request: HttpRequest) -> HttpResponse:
    day = services.today()
    try:
        services.start_session(day=day, user=request.user)
    except services.SessionError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Session started for %(day)s.") % {"day": day.isoformat()})
    return redirect("sessions:page")


@operators_only
@require_POST
def check(request: HttpRequest) -> HttpResponse:
    status = selectors.day_status(services.today())
    messages.info(request, f"{status.status_line}. {status.phase}")
    return redirect("sessions:page")


@operators_only
@require_POST
def poll_ftp(request: HttpRequest) -> HttpResponse:
    ingestion_services.request_poll()
    messages.info(
        request,
        _("The inbound FTP server is being checked now; the page shows the result when the check is done."),
    )
    return redirect("sessions:page")


@operators_only
@require_GET
def download_csv(request: HttpRequest, session_id: int) -> FileResponse:
    session = selectors.session_csv(session_id=session_id)
    if session is None:
        raise Http404(_("This session has no generated CSV file."))
    try:
        stream = storage.open_stream(session.csv_path)
    except storage.Missing:
        raise Http404(_("The CSV file of this session is no longer in the storage.")) from None
    return FileResponse(stream, as_attachment=True, filename=session.csv_name)


@operators_only
@require_POST
def close(request: HttpRequest) -> HttpResponse:
    form = CloseForm(request.POST)
    force = form.is_valid() and form.cleaned_data["force"]
    day = services.today()
    try:
        session = services.close_session(day=day, user=request.user, force=force)
    except services.SessionError as exc:
        messages.error(request, str(exc))
    else:
        text = (
            _("Session force-closed for %(day)s.")
            if session.force_closed
            else _("Session closed for %(day)s.")
        )
        messages.success(request, text % {"day": day.isoformat()})
    return redirect("sessions:page")


@operators_only
@require_POST
def upload(request: HttpRequest) -> HttpResponse:
    form = ManualUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("sessions:page")
    upload = form.cleaned_data["file"]
    day = services.today()
    try:
        result = services.manual_upload(day=day, name=upload.name, content=upload.read())
    except (InvalidFileName, services.SessionError) as exc:
        messages.error(request, str(exc))
        return redirect("sessions:page")
    _report_upload(request, result, day)
    return redirect("sessions:page")


def _report_upload(request: HttpRequest, result: services.UploadResult, day) -> None:
    report = result.report
    invoice_file = report.file
    values = {
        "name": report.name,
        "day": day.isoformat(),
        "reason": invoice_file.reason_text if invoice_file else "",
    }
    if report.status == "duplicate" and invoice_file.duplicate_of_id:
        values["original"] = invoice_file.duplicate_of.name
        messages.warning(
            request,
            _("%(name)s has the same content as %(original)s: recorded as a duplicate, nothing imported.")
            % values,
        )
    elif report.status == "duplicate":
        messages.error(request, _("%(name)s was already received: nothing imported.") % values)
    elif report.status == "rejected":
        messages.error(request, _("%(name)s was rejected: %(reason)s") % values)
    elif report.status == "closed_day":
        messages.error(request, _("%(name)s was not imported: %(reason)s") % values)
    else:
        text = _("%(name)s: %(counts)s.") % {"name": report.name, "counts": upload_counts(report)}
        if result.for_today:
            text += " " + _("The session for %(day)s can be started.") % values
        else:
            values["file_day"] = invoice_file.business_date.isoformat()
            text += " " + _("It is the file of %(file_day)s, not of %(day)s.") % values
        messages.add_message(request, messages.SUCCESS if result.for_today else messages.WARNING, text)


def upload_counts(report: ingestion_services.IngestReport) -> str:
    """Each figure of an import once: records, then what became of them."""
    figures = [
        (report.records, ngettext("%(count)s record", "%(count)s records", report.records)),
        (report.imported, ngettext("%(count)s imported", "%(count)s imported", report.imported)),
        (report.ignored, ngettext("%(count)s ignored", "%(count)s ignored", report.ignored)),
        (len(report.invalid), ngettext("%(count)s invalid", "%(count)s invalid", len(report.invalid))),
        (
            len(report.not_found),
            ngettext("%(count)s invoice not found", "%(count)s invoices not found", len(report.not_found)),
        ),
        (
            len(report.past),
            ngettext("%(count)s invoice in the past", "%(count)s invoices in the past", len(report.past)),
        ),
    ]
    return ", ".join(text % {"count": count} for count, text in figures)
