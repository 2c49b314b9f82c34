"""Settings > API keys and Settings > Webhooks, for admins."""

from django.core.exceptions import ValidationError
from django.db.models import OuterRef, Subquery
from django.urls import reverse
from django.views.generic import FormView

from api.forms import ApiKeyForm, WebhookEndpointForm
from api.models import ApiKey, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from api.services import (
    api_key_create,
    api_key_revoke,
    webhook_delivery_resend,
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_enable,
    webhook_endpoint_update,
)
from core.action_forms import ActionFormMixin, ObjectActionFormMixin, ObjectButtonView
from core.pagination import page_of
from crm.roles import MANAGE_ACCOUNT, perm
from crm.scoping import AccountPermissionMixin

NEW_KEY_SESSION = "api_new_key"
DELIVERIES_PAGE_SIZE = 50


class AdminMixin(AccountPermissionMixin):
    permission_required = perm(MANAGE_ACCOUNT)


class ApiKeyListView(AdminMixin, ActionFormMixin, FormView):
    """The account's keys and a form for a new one, whose secret is shown once, here."""

    model = ApiKey
    form_class = ApiKeyForm
    template_name = "api/api_keys.html"

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "keys": self.get_queryset().select_related("created_by"),
            "new_key": self.request.session.pop(NEW_KEY_SESSION, None),
        }

    def perform(self, form) -> ApiKey:
        api_key, secret = api_key_create(
            account=self.request.account, created_by=self.request.user, **form.cleaned_data
        )
        self.request.session[NEW_KEY_SESSION] = {"name": api_key.name, "secret": secret}
        return api_key

    def success_message(self) -> str:
        return f"Key “{self.object.name}” created. Copy it now: it is not shown again."

    def get_success_url(self) -> str:
        return reverse("api-keys")


class ApiKeyRevokeView(AdminMixin, ObjectButtonView):
    model = ApiKey

    def act(self, api_key: ApiKey) -> str:
        api_key_revoke(api_key=api_key)
        return f"Key “{api_key.name}” revoked: it no longer works."

    def next_url(self, api_key: ApiKey) -> str:
        return reverse("api-keys")


class WebhookListView(AdminMixin, ActionFormMixin, FormView):
    model = WebhookEndpoint
    form_class = WebhookEndpointForm
    template_name = "api/webhooks.html"

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "endpoints": self.get_queryset()}

    def perform(self, form) -> WebhookEndpoint:
        return webhook_endpoint_create(account=self.request.account, **form.cleaned_data)

    def success_message(self) -> str:
        return "Endpoint added. Verify our signature with its secret, shown on its page."

    def get_success_url(self) -> str:
        return reverse("webhook", args=[self.object.pk])


class WebhookDetailView(AdminMixin, ObjectActionFormMixin, ActionFormMixin, FormView):
    """An endpoint: its settings and secret, and the log of its deliveries."""

    model = WebhookEndpoint
    form_class = WebhookEndpointForm
    template_name = "api/webhook_detail.html"

    def get_initial(self) -> dict:
        return {
            "url": self.object.url,
            "description": self.object.description,
            "events": self.object.event_list,
        }

    def get_context_data(self, **kwargs):
        latest = WebhookAttempt.objects.filter(delivery=OuterRef("pk")).order_by(
            "-attempted_at", "-id"
        )
        deliveries = (
            WebhookDelivery.objects.filter(endpoint=self.object)
            .annotate(
                last_attempt_at=Subquery(latest.values("attempted_at")[:1]),
                last_code=Subquery(latest.values("response_code")[:1]),
                last_duration=Subquery(latest.values("duration_ms")[:1]),
                last_error=Subquery(latest.values("error")[:1]),
            )
            .order_by("-id")
        )
        return {
            **super().get_context_data(**kwargs),
            "endpoint": self.object,
            "page_obj": page_of(deliveries, self.request.GET.get("page")),
        }

    def perform(self, form) -> WebhookEndpoint:
        return webhook_endpoint_update(endpoint=self.object, **form.cleaned_data)

    def success_message(self) -> str:
        return "Endpoint saved."

    def get_success_url(self) -> str:
        return reverse("webhook", args=[self.object.pk])


class WebhookActionView(AdminMixin, ObjectButtonView):
    """A button on an endpoint's page."""

    model = WebhookEndpoint

    def next_url(self, endpoint: WebhookEndpoint) -> str:
        return reverse("webhook", args=[endpoint.pk])


class WebhookEnableView(WebhookActionView):
    def act(self, endpoint: WebhookEndpoint) -> str:
        webhook_endpoint_enable(endpoint=endpoint)
        return "Endpoint switched on: waiting events are being sent."


class WebhookDeleteView(WebhookActionView):
    def act(self, endpoint: WebhookEndpoint) -> str:
        webhook_endpoint_delete(endpoint=endpoint)
        return f"Endpoint {endpoint.url} removed."

    def next_url(self, endpoint: WebhookEndpoint) -> str:
        return reverse("webhooks")


class WebhookResendView(WebhookActionView):
    def act(self, endpoint: WebhookEndpoint, delivery_pk: int) -> str:
        delivery = WebhookDelivery.objects.filter(endpoint=endpoint, pk=delivery_pk).first()
        if delivery is None:
            raise ValidationError("This delivery is not in this endpoint's log.")
        webhook_delivery_resend(delivery=delivery)
        return f"{delivery.event_type} queued to be sent again."
