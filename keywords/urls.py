from django.urls import path

from keywords import views

urlpatterns = [
    path("keywords/", views.ResponderListView.as_view(), name="responders"),
    path("keywords/new/", views.ResponderCreateView.as_view(), name="responder-create"),
    path("keywords/<int:pk>/", views.ResponderUpdateView.as_view(), name="responder-edit"),
    path("keywords/<int:pk>/delete/", views.ResponderDeleteView.as_view(), name="responder-delete"),
    path("keywords/<int:pk>/active", views.ResponderActiveView.as_view(), name="responder-active"),
]
