"""URL map. Each app's urls.py owns its full paths (the specs fix them, e.g. /settlement/…,
/api/statement_run/…), so apps are included at the root."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.utils.translation import gettext_lazy
from django.views.generic import RedirectView
from django.views.i18n import set_language

from project import api, views

handler400 = "project.views.bad_request"
handler403 = "project.views.permission_denied"
handler404 = "project.views.page_not_found"

admin.site.site_header = gettext_lazy("Back office")
admin.site.site_title = gettext_lazy("Back office")
# The sidebar takes a third of a 1280 px window from every changelist; the breadcrumbs and the
# index lead to the other models.
admin.site.enable_nav_sidebar = False

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("i18n/setlang/", set_language, name="set_language"),
    path("favicon.ico", RedirectView.as_view(url=static("favicon.svg"), permanent=True)),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/docs/", api.docs_index, name="api-docs"),
    path("api/docs/<slug:name>/", api.docs, name="api-docs-one"),
    path("", include("ingestion.urls")),
    path("", include("sessions_app.urls")),
    path("", include("statements.urls")),
    path("", include("settlement.urls")),
    path("", include("exports.urls")),
    path("portal/", include("statements.royalties.portal.urls")),
]
