from django.urls import path

from crm import views

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
]
