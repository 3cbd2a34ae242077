"""The back-office page: documents to export, mutated and deleted documents, export files, sync now
(queued, with its progress shown while it runs) and, in the demo, buttons that change the demo
Moneybird."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST
from django_q.tasks import async_task

from exports import selectors, services
from exports.forms import DeleteExportForm, DemoForm, DocumentFilterForm, ExportForm
from exports.moneybird import client_from_settings, configuration_problem, demo_change, demo_mode
from project.decorators import group_required
from project.errors import DomainError
from project.roles import BACK_OFFICE


@group_required(BACK_OFFICE)
def index(request: HttpRequest) -> HttpResponse:
    filter_form = DocumentFilterForm(request.GET or None)
    pending = selectors.not_exported_documents(filter_form.filters())
    demo = demo_mode()
    context = {
        "filter_form": filter_form,
        "export_form": ExportForm(),
        "pending": pending,
        "pending_ranges": selectors.document_ranges(pending),
        "mutated": [(doc, selectors.change_descriptions(doc)) for doc in selectors.mutated_documents()],
        "deleted": selectors.deleted_documents(),
        "export_files": selectors.export_files(),
        "statuses": selectors.document_status_choices(),
        "last_sync": selectors.last_sync(),
        "latest_sync": selectors.latest_sync(),
        "running": selectors.running_sync(),
        "config_problem": configuration_problem(),
        "demo": demo,
        "demo_documents": selectors.demo_documents() if demo else [],
    }
    return render(request, "exports/index.html", context)


@group_required(BACK_OFFICE)
@require_GET
def progress(request: HttpRequest) -> JsonResponse:
    """The running sync's progress, polled by the page while it runs."""
    run = selectors.running_sync()
    if run is None:
        return JsonResponse({"running": False})
    return JsonResponse({"running": True, "processed": run.processed, "total": run.total})


def _back(request: HttpRequest) -> HttpResponse:
    return redirect(
        f"/exports/?{request.POST.get('query', '')}" if request.POST.get("query") else "/exports/"
    )


@group_required(BACK_OFFICE)
@require_POST
def sync_now(request: HttpRequest) -> HttpResponse:
    problem = configuration_problem()
    if problem:
        messages.error(request, _("Sync not possible: %(problem)s") % {"problem": problem})
        return _back(request)
    try:
        async_task("exports.tasks.sync_moneybird", task_name="exports sync (page)")
    except DomainError as exc:
        # Only when django-q2 runs tasks in this process (Q_CLUSTER sync, the tests): the worker
        # re-raises. A queued sync reports its outcome in its SyncRun, shown on this page.
        messages.error(request, _("Sync failed: %(error)s") % {"error": exc})
    else:
        messages.info(request, _("Sync started; its progress and result show above."))
    return _back(request)


@group_required(BACK_OFFICE)
@require_POST
def export(request: HttpRequest) -> HttpResponse:
    form = ExportForm(request.POST)
    ids = request.POST.getlist("ids")
    if not ids:
        messages.error(request, _("Select at least one document to export."))
        return _back(request)
    if not form.is_valid():
        for error in form.errors.get("ext", []):
            messages.error(request, error)
        return _back(request)
    try:
        created = services.create_export(
            client=client_from_settings(),
            ids=ids,
            ext=form.cleaned_data["ext"],
            no_log=form.cleaned_data["no_log"],
            corrections=form.cleaned_data["corrections"],
            user=request.user,
        )
    except DomainError as exc:
        messages.error(request, _("Export failed: %(error)s") % {"error": exc})
    else:
        messages.success(
            request,
            ngettext(
                "Created %(name)s with %(count)s document.",
                "Created %(name)s with %(count)s documents.",
                created.document_count,
            )
            % {"name": created.name, "count": created.document_count},
        )
    return _back(request)


@group_required(BACK_OFFICE)
@require_POST
def delete_export(request: HttpRequest) -> HttpResponse:
    form = DeleteExportForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Delete failed: filename is required"))
        return _back(request)
    try:
        deleted = services.delete_export(filename=form.cleaned_data["filename"])
    except DomainError as exc:
        messages.error(request, _("Delete failed: %(error)s") % {"error": exc})
    else:
        messages.success(
            request, _("Deleted %(name)s; its documents can be exported again.") % {"name": deleted.name}
        )
    return _back(request)


@group_required(BACK_OFFICE)
@require_POST
def demo(request: HttpRequest) -> HttpResponse:
    """Change the demo Moneybird as a bookkeeper would in Moneybird (demo only)."""
    form = DemoForm(request.POST)
    if not demo_mode():
        messages.error(request, _("Demo actions exist only in the demo (no MONEYBIRD_API_URL)."))
        return _back(request)
    if not form.is_valid():
        for error in form.errors.get("__all__", []) or [_("Pick a document and an action.")]:
            messages.error(request, error)
        return _back(request)
    try:
        document_id = demo_change(form.cleaned_data["action"], form.cleaned_data["document"])
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        done = {
            "add": _("Demo Moneybird: document %(document)s added."),
            "pay": _("Demo Moneybird: document %(document)s marked paid."),
            "amend": _("Demo Moneybird: the amount of document %(document)s changed (+10%%)."),
            "delete": _("Demo Moneybird: document %(document)s deleted."),
        }[form.cleaned_data["action"]]
        messages.success(
            request,
            (done % {"document": document_id})
            + " "
            + _("Moneybird's webhook queues a sync of it; or press Sync now."),
        )
    return _back(request)
