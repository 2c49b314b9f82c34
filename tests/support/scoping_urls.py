"""A URLconf for tests/test_access.py: a detail view built the way every object page is."""

from django.urls import path
from django.views.generic import DetailView

from capacity_sms.urls import urlpatterns as project_urls
from crm.models import Contact
from crm.roles import WORK_CONVERSATIONS, perm
from crm.scoping import AccountPermissionMixin


class ContactProbe(AccountPermissionMixin, DetailView):
    permission_required = perm(WORK_CONVERSATIONS)
    model = Contact
    template_name = "404.html"


urlpatterns = [path("probe/<int:pk>/", ContactProbe.as_view(), name="probe"), *project_urls]
