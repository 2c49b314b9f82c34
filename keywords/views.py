"""Keyword Responders (admins): the list with the built-in keywords, the form, the tester."""

from django.contrib import messages
from django.db.models import ProtectedError
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse, reverse_lazy
from django.views import View
from django.views.generic import CreateView, DeleteView, ListView, UpdateView

from core.htmx import FragmentForHtmxMixin
from core.replies import render_reply
from crm.roles import MANAGE_ACCOUNT, perm
from crm.scoping import AccountPermissionMixin
from keywords.forms import ResponderForm, TesterForm
from keywords.matching import BUILTIN_KEYWORDS, KeywordKind
from keywords.models import KeywordResponder
from keywords.services import conflicting_responders, decide_for_line


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
    replies = {
        KeywordKind.OPT_OUT: account.opt_out_reply,
        KeywordKind.OPT_IN: account.opt_in_reply,
        KeywordKind.HELP: account.help_reply,
    }
    return [
        {
            "kind": KeywordKind(kind).label,
            "keywords": keywords,
            "reply": render_reply(replies[kind], account),
        }
        for kind, keywords in BUILTIN_KEYWORDS.items()
    ]


class ResponderFormMixin(RespondersMixin):
    form_class = ResponderForm
    template_name = "keywords/responder_form.html"
    success_url = reverse_lazy("responders")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "account": self.request.account}

    def form_valid(self, form):
        messages.success(self.request, f"Responder “{form.instance.name}” saved.")
        return super().form_valid(form)


class ResponderCreateView(ResponderFormMixin, CreateView):
    def get_initial(self):
        return {"action": self.request.GET.get("action"), "is_active": True}


class ResponderUpdateView(ResponderFormMixin, UpdateView):
    pass


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
        try:
            responder.delete()
        except ProtectedError:
            responder.is_active = False
            responder.save(update_fields=["is_active", "updated_at"])
            messages.success(
                self.request,
                f"“{responder.name}” is evidence for recorded consent changes, so it was switched "
                "off instead of deleted.",
            )
        else:
            messages.success(self.request, f"Responder “{responder.name}” deleted.")
        return redirect(self.success_url)


class ResponderActiveView(RespondersMixin, View):
    """The list's on/off switch; switching on checks the keywords are free again."""

    def post(self, request, pk: int):
        responder = get_object_or_404(self.get_queryset().prefetch_related("lines"), pk=pk)
        turn_on = request.POST.get("is_active") == "true"
        conflicts = (
            conflicting_responders(
                account=request.account,
                keywords=responder.keyword_list,
                lines=responder.lines.all(),
                exclude=responder,
            )
            if turn_on
            else []
        )
        if conflicts:
            word, other = conflicts[0]
            messages.error(
                request,
                f"“{responder.name}” stays off: “{word}” is a keyword of the active responder "
                f"“{other.name}” on a shared line.",
            )
        else:
            responder.is_active = turn_on
            responder.save(update_fields=["is_active", "updated_at"])
            state = "on" if turn_on else "off"
            messages.success(request, f"Responder “{responder.name}” switched {state}.")
        return redirect(reverse("responders"))
