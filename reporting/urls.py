from django.urls import path

from reporting import views

urlpatterns = [
    path("reporting/", views.ReportListView.as_view(), name="reports"),
    path("reporting/snapshot/", views.SnapshotView.as_view(), name="snapshot"),
    path(
        "reporting/snapshot/download.csv",
        views.SnapshotDownloadView.as_view(),
        name="snapshot-download",
    ),
    path("reporting/compliance/", views.ComplianceView.as_view(), name="compliance"),
    path(
        "reporting/compliance/<slug:section>.csv",
        views.ComplianceDownloadView.as_view(),
        name="compliance-download",
    ),
]
