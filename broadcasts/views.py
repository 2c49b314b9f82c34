from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.views import View
from django.views.generic import DetailView, FormView, ListView

from broadcasts.audience import GROUPS, broadcast_preview, group_contacts
from broadcasts.forms import BroadcastForm
from broadcasts.models import Broadcast, BroadcastStatus
from broadcasts.selectors import RECIPIENT_STATUSES, broadcast_totals, recipient_status, recipients
from broadcasts.services import (
    broadcast_can_cancel,
    broadcast_cancel,
    broadcast_confirm,
    broadcast_create,
)
from core.action_forms import ActionFormMixin, ObjectButtonView
from core.csv_download import csv_download
from core.htmx import FragmentForHtmxMixin
from crm.roles import SEND_BROADCASTS, WORK_CONVERSATIONS, perm
from crm.scoping import AccountPermissionMixin

RECIPIENTS_PAGE_SIZE = 50


class BroadcastsMixin(AccountPermissionMixin):
    """Everyone who texts may read broadcasts; admins and managers create and send them."""

    permission_required = perm(WORK_CONVERSATIONS)
    model = Broadcast


class BroadcastListView(BroadcastsMixin, ListView):
    template_name = "broadcasts/broadcast_list.html"
    context_object_name = "broadcasts"
    paginate_by = 25

    def get_queryset(self):
        return super().get_queryset().select_related("line", "created_by")


class BroadcastCreateView(BroadcastsMixin, ActionFormMixin, FormView):
    """Write a broadcast; saving it shows the preview, and nothing is sent before confirming."""

    permission_required = perm(SEND_BROADCASTS)
    form_class = BroadcastForm
    template_name = "broadcasts/broadcast_form.html"

    def get_form_kwargs(self) -> dict:
        return {**super().get_form_kwargs(), "account": self.request.account}

    def perform(self, form) -> Broadcast:
        return broadcast_create(
            account=self.request.account, user=self.request.user, **form.cleaned_data
        )

    def success_message(self) -> str:
        return "Check the preview, then send."

    def get_success_url(self) -> str:
        return reverse("broadcast", args=[self.object.pk])


class BroadcastDetailView(FragmentForHtmxMixin, BroadcastsMixin, DetailView):
    """A draft's preview; then progress (polled while sending), totals and each recipient."""

    template_name = "broadcasts/broadcast_detail.html"
    fragment_template_name = "broadcasts/_progress.html"
    context_object_name = "broadcast"

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related(
                "line",
                "status_line",
                "contact_import",
                "created_by",
                "confirmed_by",
                "cancelled_by",
            )
        )

    def get_context_data(self, **kwargs):
        broadcast = self.object
        context = super().get_context_data(**kwargs)
        context["can_cancel"] = broadcast_can_cancel(broadcast)
        if broadcast.status in (BroadcastStatus.DRAFT, BroadcastStatus.SCHEDULED):
            context["preview"] = broadcast_preview(broadcast)
            context["groups"] = GROUPS
            return context
        status = self.request.GET.get("status", "")
        page = Paginator(recipients(broadcast, status), RECIPIENTS_PAGE_SIZE).get_page(
            self.request.GET.get("page")
        )
        for recipient in page.object_list:
            recipient.state = recipient_status(
                recipient.message.status if recipient.message else None, broadcast
            )
            recipient.state_label = RECIPIENT_STATUSES[recipient.state]
        totals = broadcast_totals(broadcast)
        return {
            **context,
            "totals": [
                (value, label, totals[value]) for value, label in RECIPIENT_STATUSES.items()
            ],
            "chosen_status": status if status in RECIPIENT_STATUSES else "",
            "page_obj": page,
        }

    def render_to_response(self, context, **kwargs):
        response = super().render_to_response(context, **kwargs)
        add_never_cache_headers(response)
        return response


class BroadcastActionView(BroadcastsMixin, ObjectButtonView):
    """A POST that confirms or cancels; the outcome shows on the broadcast's page."""

    permission_required = perm(SEND_BROADCASTS)

    def next_url(self, broadcast: Broadcast) -> str:
        return reverse("broadcast", args=[broadcast.pk])


class BroadcastConfirmView(BroadcastActionView):
    def act(self, broadcast: Broadcast) -> str:
        confirmed = broadcast_confirm(broadcast=broadcast, user=self.request.user)
        if confirmed.status == BroadcastStatus.SCHEDULED:
            return "Broadcast scheduled."
        return "Broadcast sending."


class BroadcastCancelView(BroadcastActionView):
    def act(self, broadcast: Broadcast) -> str:
        broadcast_cancel(broadcast=broadcast, user=self.request.user)
        return "Broadcast cancelled: texts not yet handed over will not go."


class BroadcastListDownloadView(BroadcastsMixin, View):
    """One list of the preview as CSV: who would get it, who is excluded and why, who waits
    for quiet hours to end."""

    def get(self, request, pk: int, group: str):
        broadcast = get_object_or_404(self.get_queryset().select_related("line", "account"), pk=pk)
        if group not in GROUPS:
            raise Http404("No such list.")
        return csv_download(
            f"broadcast-{broadcast.pk}-{group}.csv",
            ["Name", "Mobile number", "E-mail"],
            (
                (contact.name, contact.phone, contact.email)
                for contact in group_contacts(broadcast, group)
            ),
            free_text=[0, 2],
        )
