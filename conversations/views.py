from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.views.generic import DetailView, TemplateView, View

from conversations.filters import ConversationFilter
from conversations.forms import (
    ComposeForm,
    NewMessageForm,
    ReviewFlagForm,
    StaffConsentForm,
)
from conversations.models import (
    AskedBy,
    Conversation,
    ConversationStatus,
    Message,
    MessageStatus,
)
from conversations.selectors import conversations_for_sidebar, find_recipient, thread
from conversations.sending import (
    SendBlocked,
    deferred_until,
    message_cancel,
    send_message,
    send_new_message,
)
from conversations.services import (
    conversation_close,
    conversation_mark_seen,
    conversation_record_consent,
    conversation_reopen,
    review_flag_confirm,
    review_flag_dismiss,
)
from core.phones import format_phone
from crm.gate import block_reason
from crm.models import ConsentEvent, Contact, Line
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
            queryset=conversations_for_sidebar(
                Conversation.objects.for_account(account), self.request.user
            ),
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
            sent = send_from_form(
                form,
                lambda: send_message(
                    contact=self.object.contact,
                    line=self.object.line,
                    body=form.cleaned_data["body"],
                    sent_by=request.user,
                    send_at=form.cleaned_data["send_at"],
                ),
            )
            if sent is not None:
                messages.success(request, queued_message(sent))
                return redirect(request.get_full_path())
        return self.render_to_response(self.get_context_data(form=form))

    def get_context_data(self, **kwargs):
        conversation = self.object
        conversation_mark_seen(conversation=conversation, user=self.request.user)
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
            "asked_by_choices": AskedBy.choices,
            **composer_state(conversation.line, conversation.contact.phone, conversation.contact),
            "form": kwargs.get("form") or ComposeForm(),
        }


def send_from_form(form, send) -> Message | None:
    """Run a send; a refusal is shown on the form in words (the blocked attempt is stored)."""
    try:
        return send()
    except SendBlocked as blocked:
        form.add_error(None, f"{blocked.reason} The attempt is kept in the conversation.")
    except ValidationError as error:
        form.add_error(None if hasattr(error, "error_dict") else "body", error)
    return None


def queued_message(message: Message) -> str:
    if message.status != MessageStatus.SCHEDULED:
        return "Message queued."
    when = date_format(localtime(message.scheduled_for), "M j, H:i")
    if message.deferred_by_quiet_hours:
        return f"Quiet hours for this contact: the message waits until {when}."
    return f"Message scheduled for {when}."


def composer_state(line: Line | None, phone: str, contact: Contact | None) -> dict:
    """What the composer says before anything is sent: whether the gate would refuse, and
    when quiet hours would hold the message."""
    if line is None or not phone:
        return {}
    consent = contact_consent_on_line(contact, line) if contact else None
    refusal = block_reason(
        line=line,
        status=consent.status if consent else "",
        since=consent.since if consent else None,
    )
    return {
        "send_refusal": refusal,
        "consent": consent,
        "deferred_until": None
        if refusal
        else deferred_until(line=line, phone=phone, contact=contact),
    }


class NewMessageView(ConversationsMixin, TemplateView):
    """Text first: pick a contact by name or number, or type a new number; choose the line.

    GET shows, before anything is sent, the contact's status on the line and whether quiet
    hours would hold the message; POST sends through the gate and opens the conversation."""

    template_name = "conversations/new_message.html"

    def get(self, request, *args, **kwargs):
        """The contact and line given in the query (links from the contact's page, the
        Contacts table and a list of matches) prefill the form."""
        form = NewMessageForm(request.GET or None, account=request.account)
        form.is_valid()
        chosen = getattr(form, "cleaned_data", {})
        if chosen.get("contact"):
            chosen["to"] = format_phone(chosen["contact"].phone)
        unbound = NewMessageForm(initial=chosen, account=request.account)
        return self.render_to_response(self.context(unbound, chosen))

    def post(self, request, *args, **kwargs):
        form = NewMessageForm(request.POST, account=request.account)
        if "check" in request.POST:
            form.is_valid()
            chosen = getattr(form, "cleaned_data", {})
            unbound = NewMessageForm(initial=chosen, account=request.account)
            return self.render_to_response(self.context(unbound, chosen))
        if form.is_valid():
            chosen = form.cleaned_data
            recipient = find_recipient(request.account, chosen["to"])
            if not recipient.number:
                form.add_error("to", recipient.problem or "Choose who to text.")
            else:
                sent = send_from_form(
                    form,
                    lambda: send_new_message(
                        line=chosen["line"],
                        body=chosen["body"],
                        sent_by=request.user,
                        contact=recipient.contact,
                        phone=recipient.phone,
                        send_at=chosen["send_at"],
                    ),
                )
                if sent is not None:
                    messages.success(request, queued_message(sent))
                    conversation = Conversation.objects.get(contact=sent.contact, line=sent.line)
                    return redirect("conversation", pk=conversation.pk)
        return self.render_to_response(self.context(form, getattr(form, "cleaned_data", {})))

    def context(self, form, chosen: dict) -> dict:
        recipient = find_recipient(self.request.account, chosen.get("to") or "")
        line = chosen.get("line") or form.fields["line"].queryset.first()
        return self.get_context_data(
            form=form,
            recipient=recipient,
            line=line,
            **composer_state(line, recipient.number, recipient.contact),
        )


class MessageCancelView(ConversationsMixin, View):
    """Cancel a scheduled (or quiet-hours deferred) message from its thread."""

    def post(self, request, pk: int):
        message = get_object_or_404(
            Message.objects.for_account(request.account).exclude(contact=None), pk=pk
        )
        try:
            message_cancel(message=message, user=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, "Scheduled message cancelled.")
        return redirect("conversation-message", pk=pk)


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
            asked_by=data["asked_by"],
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
