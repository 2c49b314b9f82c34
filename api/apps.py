from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "API and webhooks"

    def ready(self) -> None:
        # The receivers that turn consent and message changes into webhook deliveries.
        from api import receivers  # noqa: F401
