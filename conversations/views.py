from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.generic import DetailView, TemplateView, View

from conversations.filters import ConversationFilter
from conversations.forms import ComposeForm, ReviewFlagForm, StaffConsentForm
from conversations.models import Conversation, ConversationStatus, Message
from conversations.selectors import conversations_for_sidebar, thread
from conversations.sending import SendBlocked, send_message
from conversations.services import (
    conversation_close,
    conversation_record_consent,
    conversation_reopen,
    review_flag_confirm,
    review_flag_dismiss,
)
from crm.gate import block_reason
from crm.models import ConsentEvent
from crm.roles import WORK_CONVERSATIONS, perm
from crm.scoping import AccountPermissionMixin
from crm.selectors import contact_consent_on_line

SIDEBAR_PAGE_SIZE = 25


class ConversationsMixin(AccountPermissionMixin):
    """Agents' pages: the sidebar of the account's conversations, filtered and paginated."""

    permission_required = perm(WORK_CONVERSATIONS)
    model = Conversation

    def sidebar(self) -> dict:
        account = self.request.account
        filterset = ConversationFilter(
            self.request.GET or None,
            queryset=conversations_for_sidebar(Conversation.objects.for_account(account)),
            account=account,
        )
        valid = not filterset.is_bound or filterset.is_valid()
        matching = filterset.qs if valid else Conversation.objects.none()
        page = Paginator(matching, SIDEBAR_PAGE_SIZE).get_page(self.request.GET.get("page"))
        query = self.request.GET.copy()
        query.pop("page", None)
        return {"filter": filterset, "page_obj": page, "sidebar_query": query.urlencode()}


class ConversationListView(ConversationsMixin, TemplateView):
    template_name = "conversations/conversation_list.html"

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), **self.sidebar()}


class ConversationDetailView(ConversationsMixin, DetailView):
    """A thread with the contact panel and the composer; POST sends through the gate."""

    template_name = "conversations/conversation_detail.html"
    context_object_name = "conversation"

    def get_queryset(self):
        return super().get_queryset().select_related("contact", "line", "flagged_message")

    def post(self, request, *args, **kwargs):
        self.object = self.get_object()
        form = ComposeForm(request.POST)
        if form.is_valid():
            try:
                send_message(
                    contact=self.object.contact,
                    line=self.object.line,
                    body=form.cleaned_data["body"],
                    sent_by=request.user,
                )
            except SendBlocked as blocked:
                form.add_error("body", blocked.reason)
            except ValidationError as error:
                form.add_error("body", error)
            else:
                messages.success(request, "Message queued.")
                return redirect(request.get_full_path())
        return self.render_to_response(self.get_context_data(form=form))

    def get_context_data(self, **kwargs):
        conversation = self.object
        consent = contact_consent_on_line(conversation.contact, conversation.line)
        cause = (
            ConsentEvent.objects.select_related("user").get(pk=consent.cause_id)
            if consent.cause_id
            else None
        )
        return {
            **super().get_context_data(**kwargs),
            **self.sidebar(),
            "thread": thread(conversation),
            "consent": consent,
            "cause": cause,
            "send_refusal": block_reason(
                line=conversation.line, status=consent.status, since=consent.since
            ),
            "form": kwargs.get("form") or ComposeForm(),
        }


class ConversationStatusView(ConversationsMixin, View):
    """Close or reopen a conversation."""

    def post(self, request, pk: int):
        conversation = get_object_or_404(self.get_queryset(), pk=pk)
        wanted = request.POST.get("status")
        if wanted in ConversationStatus.values:
            action = (
                conversation_close if wanted == ConversationStatus.CLOSED else conversation_reopen
            )
            action(conversation=conversation)
            messages.success(request, f"Conversation {conversation.get_status_display().lower()}.")
        return redirect("conversation", pk=pk)


class ConversationActionView(ConversationsMixin, View):
    """A POST from the contact panel: the form parses, `act` calls the action, the outcome is
    a message on the conversation's page."""

    form_class: type

    def post(self, request, pk: int):
        conversation = get_object_or_404(
            self.get_queryset().select_related("contact", "line"), pk=pk
        )
        form = self.form_class(request.POST)
        if not form.is_valid():
            messages.error(request, "Choose what to record.")
            return redirect("conversation", pk=pk)
        try:
            self.act(conversation, form.cleaned_data)
        except (ValidationError, PermissionDenied) as error:
            messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
        else:
            messages.success(request, "Recorded.")
        return redirect("conversation", pk=pk)


class ConversationConsentView(ConversationActionView):
    """Staff record an opt-out (agents) or an opt-in with evidence (admins)."""

    form_class = StaffConsentForm

    def act(self, conversation: Conversation, data: dict) -> None:
        conversation_record_consent(
            conversation=conversation,
            user=self.request.user,
            status=data["consent"],
            note=data["note"],
        )


class ConversationReviewView(ConversationActionView):
    """Settle a message flagged as a possible revocation."""

    form_class = ReviewFlagForm

    def act(self, conversation: Conversation, data: dict) -> None:
        review = review_flag_confirm if data["decision"] == "confirm" else review_flag_dismiss
        review(conversation=conversation, user=self.request.user)


class MessageInConversationView(ConversationsMixin, View):
    """A message as evidence (linked from consent history): its place in its conversation."""

    def get(self, request, pk: int):
        message = get_object_or_404(
            Message.objects.for_account(request.account).exclude(contact=None), pk=pk
        )
        conversation = get_object_or_404(
            self.get_queryset(), contact_id=message.contact_id, line_id=message.line_id
        )
        return redirect(f"{reverse('conversation', args=[conversation.pk])}#message-{pk}")
