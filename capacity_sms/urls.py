from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from api.errors import handler_for
from capacity_sms.health import healthz
from crm.auth_views import RateLimitedLoginView

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("login/", RateLimitedLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("", include("conversations.urls")),
    path("", include("crm.urls")),
    path("", include("keywords.urls")),
    path("", include("broadcasts.urls")),
    path("", include("reporting.urls")),
    path("", include("api.urls")),
    path("", include("api.pages_urls")),
]

# Under /api/ errors are JSON; elsewhere the pages' templates.
handler400 = handler_for(400)
handler403 = handler_for(403)
handler404 = handler_for(404)
handler500 = handler_for(500)
