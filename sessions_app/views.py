"""The operators' page: four POST buttons and a JSON status endpoint polled by the page."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from ingestion.services import InvalidFileName
from project.decorators import group_required
from project.roles import OPERATORS
from sessions_app import selectors, services
from sessions_app.forms import CloseForm, ManualUploadForm

operators_only = group_required(OPERATORS)


@operators_only
@require_GET
def page(request: HttpRequest) -> HttpResponse:
    status = selectors.day_status(services.today())
    context = {"status": status, "upload_form": ManualUploadForm(), "close_form": CloseForm()}
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
    values = {"name": report.name, "records": report.records, "day": day.isoformat()}
    if report.status == "duplicate":
        messages.error(
            request,
            _("%(name)s was already received (same name or same content): nothing imported.") % values,
        )
    elif report.status == "rejected":
        values["reason"] = report.file.reason if report.file else ""
        messages.error(request, _("%(name)s was rejected: %(reason)s") % values)
    elif not result.for_today:
        values["file_day"] = report.file.business_date.isoformat()
        messages.warning(
            request,
            _("%(name)s was imported, but it is the file of %(file_day)s, not of %(day)s.") % values,
        )
    else:
        values.update(
            imported=report.imported,
            invalid=len(report.invalid),
            not_found=len(report.not_found),
            past=len(report.past),
        )
        messages.success(
            request,
            _(
                "%(name)s imported: %(imported)s lines (%(invalid)s invalid, %(not_found)s invoices not found,"
                " %(past)s in the past). The session for %(day)s can be started."
            )
            % values,
        )
