from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from vpnconsole import views
from vpnconsole.forms import LoginForm

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="access:list"), name="home"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            authentication_form=LoginForm, redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("access/", include("access.urls")),
    path("gateways/", include("gateways.urls")),
    path("audit/", include("vpnconsole.audit_urls")),
    path("api/gateways/", include("gateways.api_urls")),
    path("admin/", admin.site.urls),
]

handler400 = views.bad_request
handler403 = views.permission_denied
handler404 = views.page_not_found
handler500 = views.server_error
