"""Template context shared by every page: the sections the signed-in user may open."""

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy

from project.roles import BACK_OFFICE, OPERATORS, user_in_group

# (label, path, groups that may open it); staff may open every section (see user_in_group).
SECTIONS = [
    (gettext_lazy("Shipping sessions"), "/sessions/", (OPERATORS,)),
    (gettext_lazy("Royalty statements"), "/statements/", (BACK_OFFICE,)),
    (gettext_lazy("Moneybird exports"), "/exports/", (BACK_OFFICE,)),
]


def navigation(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_sections": []}
    sections = [
        {"label": label, "url": url, "active": request.path.startswith(url)}
        for label, url, groups in SECTIONS
        if user_in_group(user, *groups)
    ]
    if user.is_staff:
        admin = reverse("admin:index")
        sections.append(
            {"label": gettext_lazy("Administration"), "url": admin, "active": request.path.startswith(admin)}
        )
    return {"nav_sections": sections}
