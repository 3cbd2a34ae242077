"""The back-office page: documents to export, mutated documents, export files, sync now."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from exports import files, selectors, services
from exports.forms import DeleteExportForm, DocumentFilterForm, ExportForm
from exports.moneybird import MoneybirdError, client_from_settings
from project.api import BadRequest
from project.decorators import group_required
from project.roles import BACK_OFFICE


@group_required(BACK_OFFICE)
def index(request: HttpRequest) -> HttpResponse:
    filter_form = DocumentFilterForm(request.GET or None)
    pending = selectors.not_exported_documents(filter_form.filters())
    context = {
        "filter_form": filter_form,
        "export_form": ExportForm(),
        "pending": pending,
        "pending_ranges": selectors.document_ranges(pending),
        "mutated": selectors.mutated_documents(),
        "export_files": selectors.export_files(),
        "statuses": selectors.document_status_choices(),
        "last_sync": selectors.last_sync(),
    }
    return render(request, "exports/index.html", context)


def _back(request: HttpRequest) -> HttpResponse:
    return redirect(
        f"/exports/?{request.POST.get('query', '')}" if request.POST.get("query") else "/exports/"
    )


@group_required(BACK_OFFICE)
@require_POST
def sync_now(request: HttpRequest) -> HttpResponse:
    try:
        result = services.sync_documents(client=client_from_settings())
    except (MoneybirdError, services.SyncConflict, files.StorageUnavailable) as exc:
        messages.error(request, f"Sync failed: {exc}")
    else:
        if result.changed:
            messages.success(
                request,
                f"Synced: {result.created} new, {result.updated} updated, {result.removed} removed, "
                f"{result.mutations} mutations.",
            )
        else:
            messages.info(request, "Synced: no changes in Moneybird.")
    return _back(request)


@group_required(BACK_OFFICE)
@require_POST
def export(request: HttpRequest) -> HttpResponse:
    form = ExportForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Invalid export request: " + "; ".join(form.errors.get("ext", [])))
        return _back(request)
    try:
        created = services.create_export(
            client=client_from_settings(),
            ids=request.POST.getlist("ids"),
            ext=form.cleaned_data["ext"],
            no_log=form.cleaned_data["no_log"],
            user=request.user,
        )
    except (BadRequest, MoneybirdError, files.StorageUnavailable) as exc:
        messages.error(request, f"Export failed: {exc}")
    else:
        messages.success(request, f"Created {created.name} with {created.document_count} documents.")
    return _back(request)


@group_required(BACK_OFFICE)
@require_POST
def delete_export(request: HttpRequest) -> HttpResponse:
    form = DeleteExportForm(request.POST)
    try:
        if not form.is_valid():
            raise BadRequest("filename is required")
        deleted = services.delete_export(filename=form.cleaned_data["filename"])
    except (BadRequest, services.NotFound, files.StorageUnavailable) as exc:
        messages.error(request, f"Delete failed: {exc}")
    else:
        messages.success(request, f"Deleted {deleted.name}; its documents can be exported again.")
    return _back(request)
