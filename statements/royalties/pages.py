"""The run page's royalty actions: finalise (after a confirmation page, and with four eyes when
ROYALTY_FINALISE_APPROVALS asks for them), the zip of every statement (the card itself is
`{% royalty_card run %}`), the review pages, and the unmatched income with its actions."""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from project.decorators import group_required
from project.errors import DomainError, NotFound
from project.roles import BACK_OFFICE
from statements import report_files
from statements.models import StatementRun
from statements.royalties import documents, selectors, services
from statements.royalties.documents import SUMMARY_LABELS
from statements.royalties.forms import UnmatchedActionForm
from statements.royalties.models import Contract, LabelIncome
from statements.royalties.presentation import PayeeLines


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
    fingerprint = selectors.fingerprint(run)
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


LINES_PER_PAGE = 100
PAYEES_PER_PAGE = 100


@require_GET
@group_required(BACK_OFFICE)
def run_page_royalties(request: HttpRequest, run_id: int) -> HttpResponse:
    """The run's royalty statements for review: one row per payee with the totals, and the income
    no contract matched (a draft's computed now; a finalised run's as posted)."""
    run = get_object_or_404(StatementRun, pk=run_id)
    try:
        data = selectors.run_statements(run)
    except DomainError as exc:
        messages.error(request, str(exc))
        return redirect("statements:run-page", run_id=run.pk)
    labels = [SUMMARY_LABELS[name] for name in selectors.REVIEW_COLUMNS]
    review = selectors.review(data)
    # Thousands of payees: a page of them at a time (rendering 5,000 rows took seconds); the totals
    # are of them all.
    payees = Paginator(review["rows"], PAYEES_PER_PAGE).get_page(request.GET.get("page"))
    for row in payees:
        row["cells"] = list(zip(labels, row["figures"], strict=True))  # a phone labels each cell
    context = {
        "run": run,
        "data": data,
        "currency": data["run"]["currency"],
        "labels": labels,
        "review": review,
        "payees": payees,
        "totals": selectors.totals(data),
    }
    return render(request, "statements/royalty_review.html", context)


@require_GET
@group_required(BACK_OFFICE)
def run_page_royalty_payee(request: HttpRequest, run_id: int, payee_id: int) -> HttpResponse:
    """One payee's statement as a page: the PDF's content, its line detail paginated."""
    run = get_object_or_404(StatementRun, pk=run_id)
    try:
        shown = selectors.statements_run(run)
        statement = selectors.payee_statement(run, payee_id, lines=False)
        lines = selectors.payee_lines(run, payee_id)
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    except DomainError as exc:
        messages.error(request, str(exc))
        return redirect("statements:run-page", run_id=run.pk)
    context = {**statement_context(shown, statement, lines, request.GET.get("page")), "run": run}
    return render(request, "statements/royalty_payee.html", context)


def statement_context(run_data: dict, statement: dict, lines: PayeeLines, page: str | None) -> dict:
    """What the statement partials show (royalty_statement_summary/_details.html): the PDF's head,
    summary, advances and charts (`documents.statement_context`), the breakdowns and one `page` of
    the `lines`. The staff page and the payee portal's."""
    return {
        **documents.statement_context(run_data, statement),
        "currency": statement["currency"],
        "breakdowns": [
            (_("By DSP"), _("DSP"), statement["by_dsp"]),
            (_("By month"), _("Month"), statement["by_month"]),
            (_("By territory"), _("Territory"), statement["by_territory"]),
            (_("By track"), _("Track"), statement["by_track"]),
        ],
        "lines": Paginator(lines, LINES_PER_PAGE).get_page(page),
    }


GROUPS_PER_PAGE = 50
FILTERS = ("q", "dsp", "page")


@require_GET
@group_required(BACK_OFFICE)
def run_page_unmatched(request: HttpRequest, run_id: int) -> HttpResponse:
    """The run's unmatched income by track, largest first, searched and filtered by DSP, with the
    actions that clear a group (a draft's; a finalised run's is shown as it was posted)."""
    run = get_object_or_404(StatementRun, pk=run_id)
    try:
        data = selectors.run_statements(run)
    except DomainError as exc:
        messages.error(request, str(exc))
        return redirect("statements:run-page", run_id=run.pk)
    currency = data["run"]["currency"]
    search, dsp = request.GET.get("q", ""), request.GET.get("dsp", "")
    every = selectors.unmatched_groups(data["unallocated"], currency)
    groups = selectors.search_groups(every, search=search, dsp=dsp)
    page = Paginator(groups, GROUPS_PER_PAGE).get_page(request.GET.get("page"))
    add_contract = reverse("admin:statements_contract_add")
    for group in page:
        group["matches"] = selectors.group_scopes(group)
        group["new_contract"] = f"{add_contract}?{urlencode(selectors.contract_prefill(group))}"
    context = {
        "run": run,
        "data": data,
        "currency": currency,
        "totals": selectors.totals(data),
        "groups": page,
        "found": len(groups),
        "group_count": len(every),
        "search": search,
        "dsp": dsp,
        "dsps": selectors.unmatched_dsps(data["unallocated"]),
        "query": urlencode({k: v for k, v in (("q", search), ("dsp", dsp)) if v}),
        "contracts": Contract.objects.values_list("name", flat=True),
        "marked": Paginator(selectors.label_income(), GROUPS_PER_PAGE).get_page(
            request.GET.get("marked_page")
        ),
        "editable": not data["run"]["finalized"],
    }
    return render(request, "statements/royalty_unmatched.html", context)


@require_POST
@group_required(BACK_OFFICE)
def run_page_unmatched_action(request: HttpRequest, run_id: int) -> HttpResponse:
    """Add a group to a contract's scope or keep it as label income; back to the page as it was."""
    run = get_object_or_404(StatementRun, pk=run_id)
    form = UnmatchedActionForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return _back_to_unmatched(request, run)
    (scope, value), data = form.cleaned_data["match"], form.cleaned_data
    try:
        if data["action"] == form.SCOPE:
            added = services.add_to_contract_scope(
                contract=data["contract"], scope=scope, value=value, user=request.user
            )
            note = (
                _("%(value)s added to contract “%(contract)s”.")
                if added
                else _("%(value)s was already in contract “%(contract)s”.")
            )
            messages.success(request, note % {"value": value, "contract": data["contract"].name})
        else:
            services.mark_label_income(scope=scope, value=value, note=data["note"], user=request.user)
            messages.success(request, _("The income of %(value)s is kept by the label.") % {"value": value})
    except DomainError as exc:
        messages.error(request, str(exc))
    return _back_to_unmatched(request, run)


@require_POST
@group_required(BACK_OFFICE)
def run_page_label_income_remove(request: HttpRequest, run_id: int, label_income_id: int) -> HttpResponse:
    """Lines kept by the label go back to the unmatched income."""
    run = get_object_or_404(StatementRun, pk=run_id)
    marked = get_object_or_404(LabelIncome, pk=label_income_id)
    services.unmark_label_income(label_income=marked, user=request.user)
    messages.success(request, _("The income of %(value)s is unmatched again.") % {"value": marked.value})
    return _back_to_unmatched(request, run)


def _back_to_unmatched(request: HttpRequest, run: StatementRun) -> HttpResponse:
    url = reverse("statements:run-page-royalty-unmatched", kwargs={"run_id": run.pk})
    query = urlencode({name: request.POST[name] for name in FILTERS if request.POST.get(name)})
    return redirect(f"{url}?{query}" if query else url)


SCOPE_OF_FIELD = {"isrcs": "isrc", "upcs": "upc", "artists": "artist"}


@require_GET
@group_required(BACK_OFFICE)
def catalogue_suggestions(request: HttpRequest) -> JsonResponse:
    """A contract scope field's choices as you type, in the answer select2 reads (the admin's
    autocomplete script asks with `field_name` and `term`)."""
    scope = SCOPE_OF_FIELD.get(request.GET.get("field_name", ""))
    if scope is None:
        raise Http404("no catalogue scope for this field")
    results = selectors.catalogue_suggestions(scope=scope, search=request.GET.get("term", ""))
    return JsonResponse({"results": results, "pagination": {"more": False}})
