from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from project import health
from project.api import api_error_for_path
from project.roles import BACK_OFFICE, OPERATORS, is_payee_user, user_in_group


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Landing page: links to the parts of the back office this user may use; a payee's user goes
    to the payee portal."""
    if is_payee_user(request.user):
        return redirect("portal:home")
    context = {
        "is_operator": user_in_group(request.user, OPERATORS),
        "is_back_office": user_in_group(request.user, BACK_OFFICE),
    }
    return render(request, "home.html", context)


def healthz(request: HttpRequest) -> JsonResponse:
    """No auth, no data: 200 when every dependency works, else 503 naming the failed checks."""
    checks = health.run_checks()
    failed = sorted(name for name, check in checks.items() if not check.ok)
    body = {
        "status": "fail" if failed else "ok",
        "failed": failed,
        "checks": {name: check.as_json() for name, check in checks.items()},
    }
    response = JsonResponse(body, status=503 if failed else 200)
    response["Cache-Control"] = "no-store"
    return response


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    """403 page saying who the page is for (the guard's message) with a way back."""
    message = exception.args[0] if exception.args and isinstance(exception.args[0], str) else ""
    context = {"message": message or _("Your account may not open this page.")}
    return render(request, "403.html", context, status=403)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """404 page naming what was not found (a view's Http404 message, else the path) with a way back;
    under an API's path, that API's JSON error instead (API clients read no HTML)."""
    message = exception.args[0] if exception.args and isinstance(exception.args[0], str) else ""
    api_response = api_error_for_path(request, 404, message or f"No API endpoint at {request.path}")
    if api_response is not None:
        return api_response
    return render(request, "404.html", {"message": message, "path": request.path}, status=404)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """400 for a request Django refuses before any view (a Host header not allowed, a malformed
    multipart body, too many fields): under an API's path that API's JSON error, else a page.
    The exception's text is not shown: it may quote the request back (it is logged by Django)."""
    message = _("The request could not be understood (for example a bad Host header or a malformed body).")
    api_response = api_error_for_path(request, 400, str(message))
    if api_response is not None:
        return api_response
    return render(request, "400.html", {"message": message}, status=400)
