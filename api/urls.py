"""`/api/v1/` and the API's schema and docs. The API answers to keys, not sessions, so its
views are exempt from the pages' login redirect (the schema and docs are public)."""

from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from api import views

router = SimpleRouter()
router.register("contacts", views.ContactViewSet, basename="api-contact")

api_v1 = [
    path("lines/", views.LineList.as_view(), name="api-lines"),
    path("consent/", views.ConsentLookupView.as_view(), name="api-consent"),
    path("consent-events/", views.ConsentEvents.as_view(), name="api-consent-events"),
    path("messages/", views.MessageCreate.as_view(), name="api-messages"),
    path("messages/<int:pk>/", views.MessageDetail.as_view(), name="api-message"),
    *router.urls,
]
docs = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]
for pattern in [*api_v1, *docs]:
    login_not_required(pattern.callback)

urlpatterns = [
    path("api/v1/", include(api_v1)),
    path("api/", include(docs)),
]
