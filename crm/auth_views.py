from django.contrib.auth.views import LoginView

from capacity_sms.ratelimit import LOGIN_FAILURES, client_address


class RateLimitedLoginView(LoginView):
    """Django's login, refusing with 429 an address that failed too often recently."""

    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        if LOGIN_FAILURES.exceeded(client_address(request)):
            context = self.get_context_data(
                form=self.get_form_class()(request),
                too_many_failures=LOGIN_FAILURES.window_seconds // 60,
            )
            return self.render_to_response(context, status=429)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        LOGIN_FAILURES.record(client_address(self.request))
        return super().form_invalid(form)
