"""The run page's royalty actions: finalise (after a confirmation page, and with four eyes when
ROYALTY_FINALISE_APPROVALS asks for them), and the zip of every statement (the card itself is
`{% royalty_card run %}`)."""

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from project.decorators import group_required
from project.errors import DomainError
from project.roles import BACK_OFFICE
from statements import report_files
from statements.models import StatementRun
from statements.royalties import selectors, services


@require_http_methods(["GET", "POST"])
@group_required(BACK_OFFICE)
def run_page_finalize(request: HttpRequest, run_id: int) -> HttpResponse:
    """GET: the confirmation (totals, what finalising locks, approvals); POST: approve (`approve`)
    or finalise the statements that were shown (`fingerprint`)."""
    run = get_object_or_404(StatementRun, pk=run_id)
    if request.method == "GET":
        return _confirmation(request, run)
    confirm = redirect("statements:run-page-finalize", run_id=run.pk)
    fingerprint = request.POST.get("fingerprint") or None
    try:
        if "approve" in request.POST:
            services.approve_run(run=run, user=request.user, fingerprint=fingerprint or "")
            messages.success(request, _("You approved these statements."))
            return confirm
        royalty = services.finalize_run(run=run, user=request.user, reviewed=fingerprint)
    except DomainError as exc:
        messages.error(request, str(exc))
        return confirm if not selectors.is_finalized(run) else redirect("statements:run-page", run_id=run.pk)
    messages.success(request, _("Statements finalised as #%(seq)s.") % {"seq": royalty.sequence})
    return redirect("statements:run-page", run_id=run.pk)


def _confirmation(request: HttpRequest, run: StatementRun) -> HttpResponse:
    if selectors.is_finalized(run):
        messages.info(request, _("These statements are already finalised."))
        return redirect("statements:run-page", run_id=run.pk)
    try:
        data = selectors.run_statements(run)
    except DomainError as exc:
        messages.error(request, str(exc))
        return redirect("statements:run-page", run_id=run.pk)
    fingerprint = services.statements_fingerprint(data)
    approvers = services.approvers(run, fingerprint)
    required = settings.ROYALTY_FINALISE_APPROVALS
    others = [user for user in approvers if user.pk != request.user.pk]
    context = {
        "run": run,
        "totals": selectors.totals(data),
        "fingerprint": fingerprint,
        "required": required,
        "approvers": approvers,
        "approved_by_me": len(others) < len(approvers),
        # The finaliser is the last of the approvals: the others must come from someone else.
        "may_finalize": not data["problems"] and len(others) >= required - 1,
    }
    return render(request, "statements/royalty_finalize.html", context)


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
