"""Keyword Responders (admins): the list with the built-in keywords, the form, the tester."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse, reverse_lazy
from django.views import View
from django.views.generic import DeleteView, FormView, ListView

from core.action_forms import ActionFormMixin, ObjectActionFormMixin
from core.htmx import FragmentForHtmxMixin
from core.replies import render_reply
from crm.languages import Language
from crm.roles import MANAGE_ACCOUNT, perm
from crm.scoping import AccountPermissionMixin
from crm.selectors import language_packs
from keywords.forms import ResponderForm, TesterForm
from keywords.languages import PACKS
from keywords.models import Action, KeywordResponder
from keywords.selectors import decide_for_line
from keywords.services import responder_delete, responder_save, responder_set_active


class RespondersMixin(AccountPermissionMixin):
    permission_required = perm(MANAGE_ACCOUNT)
    model = KeywordResponder


class ResponderListView(FragmentForHtmxMixin, RespondersMixin, ListView):
    """The account's responders, the built-in keywords, and the message tester."""

    template_name = "keywords/responder_list.html"
    fragment_template_name = "keywords/_tester_result.html"  # what the tester's form swaps in
    context_object_name = "responders"

    def get_queryset(self):
        return super().get_queryset().prefetch_related("lines").order_by("name")

    def get_context_data(self, **kwargs):
        account = self.request.account
        tester = TesterForm(
            self.request.GET if "message" in self.request.GET else None, account=account
        )
        outcome = None
        if tester.is_bound and tester.is_valid():
            outcome = decide_for_line(tester.cleaned_data["line"], tester.cleaned_data["message"])
        return {
            **super().get_context_data(**kwargs),
            "builtins": _builtin_rows(account),
            "tester": tester,
            "outcome": outcome,
        }


def _builtin_rows(account) -> list[dict]:
    """Each language pack's keywords by effect, with the reply each gets and whether the
    account reads the pack (English always)."""
    packs = language_packs(account)
    rows = []
    for language, pack in PACKS.items():
        replies = packs.get(language, account)
        active = language == Language.ENGLISH or replies.is_active
        templates = {
            Action.OPT_OUT: replies.opt_out_confirmation,
            Action.OPT_IN: replies.opt_in_reply,
            Action.HELP: replies.help_reply,
        }
        rows.extend(
            {
                "language": pack.label,
                "active": active,
                "kind": Action(kind).label,
                "keywords": keywords,
                "reply": render_reply(templates[kind], replies),
            }
            for kind, keywords in pack.keywords.items()
            if keywords
        )
    return rows


class ResponderFormMixin(ActionFormMixin):
    form_class = ResponderForm
    template_name = "keywords/responder_form.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "account": self.request.account}

    success_url = reverse_lazy("responders")

    def success_message(self) -> str:
        return f"Responder “{self.object.name}” saved."


class ResponderCreateView(RespondersMixin, ResponderFormMixin, FormView):
    def get_initial(self) -> dict:
        action = self.request.GET.get("action")
        consent = action in (Action.OPT_IN, Action.OPT_OUT)
        return {
            "is_active": True,
            "updates_consent": consent,
            "direction": action if consent else "",
        }

    def perform(self, form) -> KeywordResponder:
        return responder_save(account=self.request.account, **form.action_arguments())


class ResponderUpdateView(RespondersMixin, ObjectActionFormMixin, ResponderFormMixin, FormView):
    def get_initial(self) -> dict:
        return ResponderForm.initial_for(self.object)

    def perform(self, form) -> KeywordResponder:
        return responder_save(
            account=self.request.account, responder=self.object, **form.action_arguments()
        )


class ResponderDeleteView(RespondersMixin, DeleteView):
    """Delete after confirming; a responder that is evidence for consent changes is kept and
    switched off instead, since the history must keep pointing at it."""

    template_name = "keywords/responder_confirm_delete.html"
    success_url = reverse_lazy("responders")

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "evidence_count": self.object.consent_events.count(),
        }

    def form_valid(self, form):
        responder = self.object
        if responder_delete(responder=responder):
            messages.success(self.request, f"Responder “{responder.name}” deleted.")
        else:
            messages.success(
                self.request,
                f"“{responder.name}” is evidence for recorded consent changes, so it was switched "
                "off instead of deleted.",
            )
        return redirect(self.success_url)


class ResponderActiveView(RespondersMixin, View):
    """The list's on/off switch; switching on checks the keywords are free again."""

    def post(self, request, pk: int):
        responder = get_object_or_404(self.get_queryset().prefetch_related("lines"), pk=pk)
        turn_on = request.POST.get("is_active") == "true"
        try:
            responder_set_active(responder=responder, is_active=turn_on)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            state = "on" if turn_on else "off"
            messages.success(request, f"Responder “{responder.name}” switched {state}.")
        return redirect(reverse("responders"))
