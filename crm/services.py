"""Writes for accounts, memberships and contacts (consent has its own module, crm.consent)."""

from django.contrib.auth.models import AbstractBaseUser, Group
from django.db import transaction

from core.phones import normalize_phone
from crm.models import Account, Contact, Membership
from crm.roles import Role


@transaction.atomic
def membership_set(*, user: AbstractBaseUser, account: Account, role: Role) -> Membership:
    """Put the user in the account with exactly this role."""
    membership, _ = Membership.objects.update_or_create(user=user, defaults={"account": account})
    user.groups.set([Group.objects.get(name=role.value)])
    return membership


def contact_get_or_create(
    *, account: Account, phone: str, name: str = "", email: str = ""
) -> tuple[Contact, bool]:
    """The account's contact with this number (normalised to E.164), created if new."""
    return Contact.objects.get_or_create(
        account=account, phone=normalize_phone(phone), defaults={"name": name, "email": email}
    )
