from django.utils.functional import SimpleLazyObject

from api.models import WebhookEndpoint
from crm.scoping import managed_account


def webhook_warning(request) -> dict:
    """The account's endpoints switched off after a day of failures, for the banner on admins'
    pages. Lazy: read only when a page shows the banner, and only for admins."""

    def switched_off():
        account = managed_account(request)
        if account is None:
            return []
        return list(
            WebhookEndpoint.objects.for_account(account).filter(
                is_active=False, disabled_at__isnull=False
            )
        )

    return {"switched_off_webhooks": SimpleLazyObject(switched_off)}
