from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from crm.auth_views import RateLimitedLoginView

urlpatterns = [
    path("login/", RateLimitedLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("", include("conversations.urls")),
    path("", include("crm.urls")),
    path("", include("keywords.urls")),
    path("", include("broadcasts.urls")),
    path("", include("reporting.urls")),
]
