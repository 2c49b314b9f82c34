"""Pages whose forms only parse: the action function decides, and its errors come back.

Action functions raise ValidationError keyed by field (`{"phone": [...]}`); `show_on_form`
puts each message on its field, or above the form for a key the form has no field for.
"""

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.forms import BaseForm
from django.http import HttpResponseRedirect
from django.shortcuts import redirect
from django.views import View
from django.views.generic.detail import SingleObjectMixin


def show_on_form(form: BaseForm, error: ValidationError) -> None:
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, errors in error.error_dict.items():
        form.add_error(field if field in form.fields else NON_FIELD_ERRORS, errors)


def performed(form: BaseForm, action: Callable[[], object]) -> bool:
    """Run the action; False, with its refusal shown on the form, when it refuses."""
    try:
        action()
    except ValidationError as error:
        show_on_form(form, error)
        return False
    return True


class ActionFormMixin:
    """A form view whose valid form is handed to `perform(form)`, the view's call of its action
    function; a ValidationError from the action shows on the form as if the form had found it.
    Once the action has done its work, `success_message()` is shown on the next page."""

    def form_valid(self, form):
        if not performed(form, lambda: setattr(self, "object", self.perform(form))):
            return self.form_invalid(form)
        messages.success(self.request, self.success_message())
        return HttpResponseRedirect(self.get_success_url())


class ObjectActionFormMixin(SingleObjectMixin):
    """A form view about one existing object, found (and scoped) before the form is read, as
    Django's UpdateView does; put the view's scoping mixin first, for its `get_queryset`."""

    def get(self, request, *args, **kwargs):
        self.object = self.get_object()
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        self.object = self.get_object()
        return super().post(request, *args, **kwargs)


class ObjectButtonView(SingleObjectMixin, View):
    """A button on an object's page (POST only): `act(obj, **url_kwargs)` runs the action and
    says what it did, shown on `next_url(obj)`; a refusal (ValidationError) shows there as an
    error. Put the view's scoping mixin first, for its `get_queryset`."""

    def post(self, request, *args, **kwargs):
        obj = self.get_object()
        extra = {name: value for name, value in kwargs.items() if name != self.pk_url_kwarg}
        try:
            done = self.act(obj, **extra)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, done)
        return redirect(self.next_url(obj))

    def act(self, obj, **kwargs) -> str:
        raise NotImplementedError

    def next_url(self, obj) -> str:
        raise NotImplementedError
