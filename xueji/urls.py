from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import include, path

from xueji.api.main import api
from xueji.web import auth, views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", auth.PasswordChangeView.as_view(), name="password_change"),
    path("healthz", views.healthz, name="healthz"),
    path("org/", include("xueji.orgs.urls")),
    path("admissions/", include("xueji.admissions.urls")),
    path("students/", include("xueji.students.urls")),
    path("reconcile/", include("xueji.reconcile.urls")),
    path("roster/", include("xueji.roster.urls")),
    path("stats/", include("xueji.stats.urls")),
    path("campaigns/", include("xueji.campaigns.urls")),
    path("api/v1/", api.urls),
    path("api-tokens/", include("xueji.api.urls")),
    path("", include("xueji.web.urls")),
]

handler400 = "xueji.web.errors.bad_request"
handler403 = "xueji.web.errors.permission_denied"
handler404 = "xueji.web.errors.page_not_found"
handler500 = "xueji.web.errors.server_error"
