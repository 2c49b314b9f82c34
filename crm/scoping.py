"""Account scoping: the one place that decides which account a request acts for.

Every model that belongs to an account gets a queryset with `for_account()`; views reach data
only through it, so isolation between accounts is not left to each view's filter.
"""

from django.contrib.auth.mixins import PermissionRequiredMixin
from django.db import models
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from crm.roles import MANAGE_ACCOUNT, perm


class AccountScopedQuerySet(models.QuerySet):
    """A queryset that knows the lookup path from its model to the owning account."""

    account_path = "account"

    def for_account(self, account) -> "AccountScopedQuerySet":
        return self.filter(**{self.account_path: account})


def account_of(user):
    """The account a user acts for, or None (anonymous, or staff without a membership)."""
    if not user.is_authenticated:
        return None
    membership = getattr(user, "membership", None)
    return membership.account if membership else None


def managed_account(request):
    """The request's account when its user administers it (for admins' banners), else None."""
    user = getattr(request, "user", None)
    account = getattr(request, "account", None)
    if user and user.is_authenticated and account and user.has_perm(perm(MANAGE_ACCOUNT)):
        return account
    return None


class AccountMiddleware:
    """Sets `request.account`, loaded only when a view asks for it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        request.account = SimpleLazyObject(lambda: account_of(request.user))
        return self.get_response(request)


class AccountPermissionMixin(PermissionRequiredMixin):
    """A view for members of an account holding the view's permission.

    `get_queryset()` returns only the request's account's objects, so an id from another
    account is a 404, never someone else's data.
    """

    raise_exception = True

    def has_permission(self) -> bool:
        return account_of(self.request.user) is not None and super().has_permission()

    def get_queryset(self):
        return self.model.objects.for_account(self.request.account)
