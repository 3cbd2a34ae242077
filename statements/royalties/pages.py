"""The run page's royalty actions: finalise, and the zip of every statement (the card itself is
`{% royalty_card run %}`)."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from project.decorators import group_required
from project.errors import DomainError
from project.roles import BACK_OFFICE
from statements import report_files
from statements.models import StatementRun
from statements.royalties import selectors, services


@require_POST
@group_required(BACK_OFFICE)
def run_page_finalize(request: HttpRequest, run_id: int) -> HttpResponse:
    run = get_object_or_404(StatementRun, pk=run_id)
    try:
        royalty = services.finalize_run(run=run, user=request.user)
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Statements finalised as #%(seq)s.") % {"seq": royalty.sequence})
    return redirect("statements:run-page", run_id=run.pk)


@require_POST
@group_required(BACK_OFFICE)
def run_page_archive(request: HttpRequest, run_id: int) -> HttpResponse:
    """A few payees: the zip at once. More: built in the background, its progress on the page."""
    run = get_object_or_404(StatementRun, pk=run_id)
    try:
        data = selectors.run_statements(run)
    except DomainError as exc:
        messages.error(request, str(exc))
        return redirect("statements:run-page", run_id=run.pk)
    archive = services.statements_zip(run=run, data=data)
    if isinstance(archive, bytes):
        response = HttpResponse(archive, content_type="application/zip")
        response["Content-Disposition"] = (
            f'attachment; filename="{report_files.download_name(run, "statements", "zip")}"'
        )
        return response
    messages.success(
        request,
        _("The zip of %(n)s statements is being built; this page shows its progress.") % {"n": archive.total},
    )
    return redirect(f"{reverse('statements:run-page', kwargs={'run_id': run.pk})}#royalties")
