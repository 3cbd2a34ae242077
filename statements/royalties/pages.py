"""The run page's royalty action: finalise (the card itself is `{% royalty_card run %}`)."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from project.decorators import group_required
from project.errors import DomainError
from project.roles import BACK_OFFICE
from statements.models import StatementRun
from statements.royalties import services


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
