from django.urls import path

from broadcasts import views

urlpatterns = [
    path("broadcasts/", views.BroadcastListView.as_view(), name="broadcasts"),
    path("broadcasts/new/", views.BroadcastCreateView.as_view(), name="broadcast-create"),
    path("broadcasts/<int:pk>/", views.BroadcastDetailView.as_view(), name="broadcast"),
    path("broadcasts/<int:pk>/send", views.BroadcastConfirmView.as_view(), name="broadcast-send"),
    path(
        "broadcasts/<int:pk>/cancel",
        views.BroadcastCancelView.as_view(),
        name="broadcast-cancel",
    ),
    path(
        "broadcasts/<int:pk>/lists/<slug:group>.csv",
        views.BroadcastListDownloadView.as_view(),
        name="broadcast-list",
    ),
]
