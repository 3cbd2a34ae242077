from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from project.roles import BACK_OFFICE, OPERATORS, user_in_group


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Landing page: links to the parts of the back office this user may use."""
    context = {
        "is_operator": user_in_group(request.user, OPERATORS),
        "is_back_office": user_in_group(request.user, BACK_OFFICE),
    }
    return render(request, "home.html", context)


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and database reachability, for the load balancer."""
    from django.db import connection

    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        return JsonResponse({"status": "database unavailable"}, status=503)
    return JsonResponse({"status": "ok"})
