from collections import Counter

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Q
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views import View
from django.views.generic import DetailView, FormView, ListView, TemplateView
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from core.action_forms import ActionFormMixin, ObjectActionFormMixin, performed
from core.csv_download import csv_download
from core.htmx import FragmentForHtmxMixin
from core.pagination import BoundedLazyPaginator
from core.responses import invalid_input
from crm.filters import ContactFilter
from crm.forms import (
    SETTINGS_FIELDS,
    AccountSettingsForm,
    ContactForm,
    LanguagePackForm,
    LineFormSet,
)
from crm.models import Account, ConsentStatus, Contact, Line
from crm.quiet_hours import STATE_RULES
from crm.records import RecordEncoder, consent_record
from crm.roles import MANAGE_ACCOUNT, VIEW_REPORTS, WORK_CONVERSATIONS, perm
from crm.scoping import AccountPermissionMixin
from crm.selectors import (
    consent_history,
    contact_consent_by_line,
    contacts_for_export,
    language_packs,
)
from crm.services import (
    account_language_update,
    account_settings_update,
    contact_create,
    contact_has_history,
    contact_update,
    line_update,
)
from crm.tables import ContactTable

HISTORY_PAGE_SIZE = 50


class HomeView(AccountPermissionMixin, ListView):
    """The account at a glance: its lines and how many contacts opted in or out of each."""

    permission_required = perm(WORK_CONVERSATIONS)
    model = Line
    template_name = "crm/home.html"
    context_object_name = "lines"

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .annotate(
                opted_in=Count("consents", filter=Q(consents__status=ConsentStatus.OPTED_IN)),
                opted_out=Count("consents", filter=Q(consents__status=ConsentStatus.OPTED_OUT)),
            )
            .order_by("name", "number")
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["contact_count"] = self.request.account.contacts.count()
        return context


class ContactsMixin(AccountPermissionMixin):
    permission_required = perm(WORK_CONVERSATIONS)
    model = Contact


class ContactListView(ContactsMixin, SingleTableMixin, FilterView):
    """CRM > Contacts. Pages are counted lazily: no COUNT(*) over a million contacts."""

    template_name = "crm/contact_list.html"
    table_class = ContactTable
    filterset_class = ContactFilter
    table_pagination = {"per_page": 25, "paginator_class": BoundedLazyPaginator}

    def get_filterset_kwargs(self, filterset_class):
        return {**super().get_filterset_kwargs(filterset_class), "account": self.request.account}

    def get_table_kwargs(self):
        return {"line": self.filterset.chosen_line}


class ContactExportView(ContactsMixin, View):
    """The filtered Contacts table as CSV, streamed, with each contact's status on every line."""

    def get(self, request):
        account = request.account
        filterset = ContactFilter(
            request.GET or None,
            queryset=self.get_queryset().order_by("-id"),
            account=account,
        )
        if filterset.is_bound and not filterset.is_valid():
            return invalid_input("Invalid filter", filterset.errors)
        lines = list(Line.objects.for_account(account).order_by("name", "number"))
        header, rows = contacts_for_export(filterset.qs, lines)
        filename = f"contacts-{timezone.localdate():%Y-%m-%d}.csv"
        return csv_download(filename, header, rows)


class ContactConsentView(FragmentForHtmxMixin, ContactsMixin, DetailView):
    """The View Consent modal: every line of the account with this contact's status on it.

    Asked by htmx, it is the dialog's content alone; otherwise it is a page of its own, so the
    View button works without JavaScript.
    """

    context_object_name = "contact"
    template_name = "crm/contact_consent.html"
    fragment_template_name = "crm/_contact_consent.html"

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "consents": contact_consent_by_line(self.object),
            "as_dialog": self.is_htmx,
        }


def sharing_a_minute(events) -> set[int]:
    """The ids of the events whose minute another event on the page shares: their times are
    shown to the second, so the order of a STOP and a START sent together reads plainly."""
    minutes = {event.pk: event.occurred_at.replace(second=0, microsecond=0) for event in events}
    shared = Counter(minutes.values())
    return {pk for pk, minute in minutes.items() if shared[minute] > 1}


class ContactDetailView(ContactsMixin, DetailView):
    """A contact: details, status on every line, the whole consent history, conversations."""

    template_name = "crm/contact_detail.html"
    context_object_name = "contact"

    def get_context_data(self, **kwargs):
        contact = self.object
        history = Paginator(consent_history(contact), HISTORY_PAGE_SIZE).get_page(
            self.request.GET.get("page")
        )
        return {
            **super().get_context_data(**kwargs),
            "consents": contact_consent_by_line(contact),
            "history": history,
            "to_the_second": sharing_a_minute(history),
            "conversations": contact.conversations.select_related("line").order_by(
                "-last_message_at"
            ),
        }


class ContactRecordView(AccountPermissionMixin, DetailView):
    """The contact's consent record (crm.records): a printable page for a lawyer, or the same
    as JSON with `?format=json`. Admins and managers: it is a report."""

    permission_required = perm(VIEW_REPORTS)
    model = Contact
    template_name = "crm/contact_record.html"
    context_object_name = "contact"

    def get_queryset(self):
        return super().get_queryset().select_related("account")

    def get_context_data(self, **kwargs):
        record = consent_record(self.object, now=timezone.now())
        return {**super().get_context_data(**kwargs), "record": record}

    def render_to_response(self, context, **response_kwargs):
        if self.request.GET.get("format") == "json":
            response = JsonResponse(
                context["record"], encoder=RecordEncoder, json_dumps_params={"indent": 2}
            )
            name = f"consent-record-{self.object.pk}-{timezone.now():%Y-%m-%d}.json"
            response["Content-Disposition"] = f'attachment; filename="{name}"'
            return response
        return super().render_to_response(context, **response_kwargs)


class ContactFormMixin(ActionFormMixin):
    form_class = ContactForm
    template_name = "crm/contact_form.html"

    def success_message(self) -> str:
        return "Contact saved."

    def get_success_url(self) -> str:
        return reverse("contact", args=[self.object.pk])


class ContactCreateView(ContactsMixin, ContactFormMixin, FormView):
    def perform(self, form) -> Contact:
        return contact_create(account=self.request.account, **form.cleaned_data)


class ContactUpdateView(ContactsMixin, ObjectActionFormMixin, ContactFormMixin, FormView):
    """Edit a contact; the number only while nothing is recorded about it."""

    def get_initial(self) -> dict:
        contact = self.object
        return {"name": contact.name, "phone": contact.phone, "email": contact.email}

    def get_form_kwargs(self) -> dict:
        return {**super().get_form_kwargs(), "phone_locked": contact_has_history(self.object)}

    def perform(self, form) -> Contact:
        return contact_update(contact=self.object, **form.cleaned_data)


class AccountSettingsView(AccountPermissionMixin, TemplateView):
    """The account's replies and phrase policy, and each line's name and consent policy."""

    permission_required = perm(MANAGE_ACCOUNT)
    model = Account
    template_name = "crm/account_settings.html"

    def forms(self):
        data = self.request.POST if self.request.method == "POST" else None
        account = self.request.account
        # Copies: a form that fails validation must not rename the account on the page.
        copy = Account.objects.get(pk=account.pk)
        return (
            AccountSettingsForm(data, instance=copy, prefix="account"),
            LineFormSet(
                data,
                queryset=Line.objects.for_account(account).order_by("name", "number"),
                prefix="lines",
            ),
            [
                LanguagePackForm(data, instance=pack, prefix=f"language-{code}")
                for code, pack in language_packs(copy).items()
            ],
        )

    def get_context_data(self, **kwargs):
        form, lines, packs = kwargs.pop("forms", None) or self.forms()
        return {
            **super().get_context_data(**kwargs),
            "form": form,
            "line_forms": lines,
            "language_forms": packs,
            "state_rules": STATE_RULES.values(),
        }

    def post(self, request):
        form, lines, packs = self.forms()
        valid = [form.is_valid(), lines.is_valid(), *(pack.is_valid() for pack in packs)]
        if all(valid) and self.save(form, lines, packs):
            messages.success(request, "Settings saved.")
            return redirect("account-settings")
        return self.render_to_response(self.get_context_data(forms=(form, lines, packs)))

    def save(
        self, form: AccountSettingsForm, lines: LineFormSet, packs: list[LanguagePackForm]
    ) -> bool:
        """All or nothing: the account's settings, each language pack and each line; False,
        with each refusal on its form, when any action refuses."""
        # A copy: settings refused by a line's rules roll back, and the page shows them as typed.
        account = Account.objects.get(pk=self.request.account.pk)
        with transaction.atomic():
            # The packs first: the account's own update checks every stored reply against
            # its new name, so a pack reply shortened for a longer name must be stored by then.
            saved = True
            for pack in packs:
                saved &= performed(
                    pack,
                    lambda pack=pack: account_language_update(
                        account=account, language=pack.language, **pack.cleaned_data
                    ),
                )
            saved &= performed(
                form,
                lambda: account_settings_update(
                    account=account,
                    **{field: form.cleaned_data[field] for field in SETTINGS_FIELDS},
                ),
            )
            for line_form in lines:
                saved &= performed(
                    line_form,
                    lambda line_form=line_form: line_update(
                        line=Line.objects.get(pk=line_form.instance.pk),
                        name=line_form.cleaned_data["name"],
                        consent_policy=line_form.cleaned_data["consent_policy"],
                    ),
                )
            if not saved:
                transaction.set_rollback(True)
        return saved
