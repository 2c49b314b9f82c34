"""The roles users hold in their account, as Django groups of permissions.

The permissions are custom ones on `Account`; views check them, never group names, so a
role's reach is changed here and applied by a migration calling `sync_role_groups`.
"""

from django.db import models


class Role(models.TextChoices):
    AGENT = "agent", "Agent"
    ADMIN = "admin", "Admin"
    MANAGER = "manager", "Manager"


WORK_CONVERSATIONS = "work_conversations"
MANAGE_ACCOUNT = "manage_account"
RECORD_OPT_IN = "record_opt_in"
VIEW_REPORTS = "view_reports"
SEND_BROADCASTS = "send_broadcasts"

PERMISSIONS = (
    (WORK_CONVERSATIONS, "Can use conversations and contacts and send messages"),
    (MANAGE_ACCOUNT, "Can manage keyword responders, lines and account settings"),
    (RECORD_OPT_IN, "Can record an opt-in by hand, with evidence"),
    (VIEW_REPORTS, "Can view and download reports"),
    (SEND_BROADCASTS, "Can create, send and cancel broadcasts"),
)

ROLE_PERMISSIONS = {
    Role.AGENT: (WORK_CONVERSATIONS,),
    Role.ADMIN: (
        WORK_CONVERSATIONS,
        MANAGE_ACCOUNT,
        RECORD_OPT_IN,
        VIEW_REPORTS,
        SEND_BROADCASTS,
    ),
    Role.MANAGER: (WORK_CONVERSATIONS, VIEW_REPORTS, SEND_BROADCASTS),
}


def perm(codename: str) -> str:
    """The full permission name for `has_perm` and `permission_required`."""
    return f"crm.{codename}"


def sync_role_groups(apps, schema_editor=None) -> None:
    """Make each role's group hold exactly its permissions (used by data migrations)."""
    from django.contrib.auth.management import create_permissions

    crm_config = apps.get_app_config("crm")
    crm_config.models_module = True
    create_permissions(crm_config, verbosity=0, apps=apps)

    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for role, codenames in ROLE_PERMISSIONS.items():
        group, _ = group_model.objects.get_or_create(name=role.value)
        group.permissions.set(
            permission_model.objects.filter(content_type__app_label="crm", codename__in=codenames)
        )
