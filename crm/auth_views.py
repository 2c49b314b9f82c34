"""Logging in, at /login/ and /admin/login/, with one limit on failed passwords per address."""

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.http import HttpResponse
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache

from core.ratelimit import LOGIN_FAILURES, client_address

TOO_MANY_FAILURES = "too_many_failures"


class FailureLimitedLoginMixin:
    """An authentication form that checks a password only while the address has attempts left.

    The attempt is counted before the password is checked and given back when it was right,
    so parallel attempts cannot all slip in under the limit. Both login pages share the
    counter: failing at one uses up the other.
    """

    def clean(self):
        client = client_address(self.request)
        if not LOGIN_FAILURES.take(client):
            raise ValidationError(
                "Too many failed logins from your address. Try again in %(minutes)d minutes.",
                code=TOO_MANY_FAILURES,
                params={"minutes": LOGIN_FAILURES.window_seconds // 60},
            )
        data = super().clean()  # a wrong password raises: the attempt stays counted
        LOGIN_FAILURES.give_back(client)
        return data


class FailureLimitedAuthenticationForm(FailureLimitedLoginMixin, AuthenticationForm):
    pass


class FailureLimitedAdminAuthenticationForm(FailureLimitedLoginMixin, AdminAuthenticationForm):
    pass


def with_limit_status(response: HttpResponse) -> HttpResponse:
    """A login page refused by the limit answers 429 with Retry-After, not 200."""
    form = (getattr(response, "context_data", None) or {}).get("form")
    if form is not None and form.has_error(NON_FIELD_ERRORS, TOO_MANY_FAILURES):
        response.status_code = 429
        response["Retry-After"] = str(LOGIN_FAILURES.window_seconds)
    return response


class RateLimitedLoginView(LoginView):
    authentication_form = FailureLimitedAuthenticationForm
    redirect_authenticated_user = True

    def form_invalid(self, form):
        return with_limit_status(super().form_invalid(form))


class AdminSite(admin.AdminSite):
    """Django's admin site, its login under the same limit as the site's."""

    login_form = FailureLimitedAdminAuthenticationForm

    @method_decorator(never_cache)
    @login_not_required
    def login(self, request, extra_context=None):
        return with_limit_status(super().login(request, extra_context))
