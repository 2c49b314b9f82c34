from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "API and webhooks"

    def ready(self) -> None:
        # The receivers that turn consent and message changes into webhook deliveries.
        # And the schema's description of API keys.
        from api import receivers, schema  # noqa: F401
        from api.models import WebhookEndpoint
        from core.config_cache import watch_configuration

        # Delivery health is recorded on the endpoint; who listens does not change with it.
        watch_configuration(WebhookEndpoint, ignoring=frozenset({"failing_since"}))
