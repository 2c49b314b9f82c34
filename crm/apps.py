from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.db.models.signals import post_migrate


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = "CRM and consent"
    default = True

    def ready(self) -> None:
        from core.config_cache import watch_configuration
        from crm.consent_days import rebuild_after_migrate
        from crm.models import Account, AccountLanguage, Line

        watch_configuration(Account, Line, AccountLanguage)
        post_migrate.connect(rebuild_after_migrate, sender=self, dispatch_uid="crm.consent_days")


class AdminConfig(admin_apps.AdminConfig):
    """The Django admin, on a site whose login counts failed passwords (crm.auth_views)."""

    default = False
    default_site = "crm.auth_views.AdminSite"
