from django.db.models import Count, Q
from django.views.generic import ListView

from crm.models import ConsentStatus, Line
from crm.roles import WORK_CONVERSATIONS, perm
from crm.scoping import AccountPermissionMixin


class HomeView(AccountPermissionMixin, ListView):
    """The account at a glance: its lines and how many contacts opted in or out of each."""

    permission_required = perm(WORK_CONVERSATIONS)
    model = Line
    template_name = "crm/home.html"
    context_object_name = "lines"

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .annotate(
                opted_in=Count("consents", filter=Q(consents__status=ConsentStatus.OPTED_IN)),
                opted_out=Count("consents", filter=Q(consents__status=ConsentStatus.OPTED_OUT)),
            )
            .order_by("name", "number")
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["contact_count"] = self.request.account.contacts.count()
        return context
