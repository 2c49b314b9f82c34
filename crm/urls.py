from django.urls import path

from crm import import_views, views

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("settings/", views.AccountSettingsView.as_view(), name="account-settings"),
    path("crm/contacts/", views.ContactListView.as_view(), name="contacts"),
    path("crm/contacts/new/", views.ContactCreateView.as_view(), name="contact-create"),
    path("crm/contacts/export.csv", views.ContactExportView.as_view(), name="contacts-export"),
    path("crm/contacts/<int:pk>/", views.ContactDetailView.as_view(), name="contact"),
    path("crm/contacts/<int:pk>/edit/", views.ContactUpdateView.as_view(), name="contact-edit"),
    path("crm/contacts/<int:pk>/record/", views.ContactRecordView.as_view(), name="contact-record"),
    path(
        "crm/contacts/<int:pk>/consent/",
        views.ContactConsentView.as_view(),
        name="contact-consent",
    ),
    path("crm/imports/", import_views.ImportUploadView.as_view(), name="imports"),
    path("crm/imports/<int:pk>/", import_views.ImportDetailView.as_view(), name="import"),
    path(
        "crm/imports/<int:pk>/map/",
        import_views.ImportMappingView.as_view(),
        name="import-mapping",
    ),
    path(
        "crm/imports/<int:pk>/resume",
        import_views.ImportResumeView.as_view(),
        name="import-resume",
    ),
    path(
        "crm/imports/<int:pk>/bad-rows.csv",
        import_views.ImportBadRowsView.as_view(),
        name="import-bad-rows",
    ),
]
