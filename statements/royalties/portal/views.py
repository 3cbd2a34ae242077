"""The payee portal's pages. Every page but the invitation link is for a payee's own user
(`payee_required`): staff and other users get 403, another payee's objects 404, the user of a
payee no longer active 403 saying their access has ended (a disabled user is not logged in at all)."""

from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import SetPasswordForm
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from project.errors import InvalidInput, NotFound
from statements.royalties import documents, invoices, payee_details
from statements.royalties.api import attachment
from statements.royalties.pages import statement_context
from statements.royalties.portal import selectors, services
from statements.royalties.portal.forms import PaymentDetailsForm


def payee_required(view: Callable) -> Callable:
    """Login required, then a portal account of an active payee: the view gets the user's payee as
    `request.payee`."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        account = selectors.account_of(request.user)
        if account is None:
            raise PermissionDenied(_("This page is for payees invited to the portal."))
        if not account.payee.active:
            raise PermissionDenied(
                _(
                    "Your access to the portal has ended: the label no longer lists you as an active "
                    "payee. Write to the label if you think this is a mistake."
                )
            )
        request.payee = account.payee
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:  # another payee's run or invoice, or none: the same answer
            raise Http404(str(exc)) from exc

    return wrapper


@require_GET
@payee_required
def home(request: HttpRequest) -> HttpResponse:
    """Balance, earnings over time (by run, DSP, territory), statements with their invoices and the
    payments, latest first."""
    found = selectors.statements(request.payee)
    context = {
        "payee": request.payee,
        "balances": selectors.balances(request.payee),
        "charts": selectors.earnings_charts(found),
        "statements": found[::-1],
        "payments": selectors.payments(request.payee),
    }
    return render(request, "portal/home.html", context)


@require_GET
@payee_required
def statement_page(request: HttpRequest, run_id: int) -> HttpResponse:
    run, statement, lines = selectors.statement(request.payee, run_id)
    context = {"run": run, **statement_context(run, statement, lines, request.GET.get("page"))}
    return render(request, "portal/statement.html", context)


@require_GET
@payee_required
def statement_document(request: HttpRequest, run_id: int, kind: str) -> HttpResponse:
    run, statement, _ = selectors.statement(request.payee, run_id, lines=True)
    render_document = documents.pdf if kind == "pdf" else documents.xlsx
    return attachment(render_document(run, statement), f"{documents.document_name(run, statement)}.{kind}")


@require_GET
@payee_required
def invoice_document(request: HttpRequest, invoice_id: int) -> HttpResponse:
    invoice = selectors.invoice(request.payee, invoice_id)
    return attachment(invoices.document(invoice), invoices.document_name(invoice))


@require_http_methods(["GET", "POST"])
@payee_required
def payment_details(request: HttpRequest) -> HttpResponse:
    """The payee's payment details; a change is submitted for staff approval, used once approved."""
    payee = request.payee
    form = PaymentDetailsForm(request.POST or None, instance=payee)
    if request.method == "POST" and form.is_valid():
        try:
            payee_details.submit_payment_details_change(
                payee=payee, data=form.cleaned_data, by_user=request.user
            )
        except InvalidInput as exc:
            for problem in exc.problems:
                form.add_error(
                    problem["loc"][0] if problem["loc"][0] in form.fields else None, problem["msg"]
                )
        else:
            messages.success(request, _("Your new payment details wait for the label's approval."))
            return redirect("portal:payment-details")
    payee.refresh_from_db()  # the form's validation set the submitted values on it
    context = {"payee": payee, "form": form, "pending": selectors.pending_change(payee)}
    return render(request, "portal/payment_details.html", context)


@require_http_methods(["GET", "POST"])
def invitation(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    """The link of the invitation email: set a password once, then log in."""
    user = services.invited_user(uidb64, token)
    if user is None:
        return render(request, "portal/invitation.html", {"form": None}, status=404)
    form = SetPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.activate(user=user, password=form.cleaned_data["new_password1"])
        messages.success(request, _("Your password is set. Log in with your email address and it."))
        return redirect("login")
    return render(request, "portal/invitation.html", {"form": form, "username": user.get_username()})
