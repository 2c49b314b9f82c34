"""The Django admin keeps the rules the pages keep: it saves through the same action functions.

Each test posts the admin's own change or add form, as a staff member would, and checks the
rule refused the change with a message on the field, and that nothing was stored.
"""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from conversations.models import Conversation, ConversationStatus, Message
from crm import consent
from crm.models import Account, ConsentSource, Contact, Line
from crm.roles import Role
from keywords.models import Action, KeywordResponder
from tests.support.factories import (
    ConversationFactory,
    ResponderFactory,
    inbound_message,
    make_user,
)


@pytest.fixture
def staff_client(client, account):
    """Staff of the account with every permission short of superuser, logged in."""
    staff = make_user(account, Role.ADMIN, username="acme-staff", is_staff=True)
    staff.user_permissions.set(Permission.objects.all())
    client.force_login(staff)
    return client


def errors(response) -> dict:
    assert response.status_code == 200, "the admin should have refused the form"
    form = response.context["adminform"].form
    return {field: " ".join(messages) for field, messages in form.errors.items()}


def change_url(obj) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def add_url(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_add")


def contact_form(contact, **changes) -> dict:
    return {
        "phone": contact.phone,
        "name": contact.name,
        "email": contact.email,
        "consent_events-TOTAL_FORMS": "0",
        "consent_events-INITIAL_FORMS": "0",
        **changes,
    }


def test_a_contacts_number_cannot_change_once_it_has_consent_history(
    staff_client, contact, line, admin_user
):
    consent.opt_out(contact=contact, line=line, source=ConsentSource.AGENT, user=admin_user)
    response = staff_client.post(change_url(contact), contact_form(contact, phone="2025550199"))
    assert "The number cannot change" in errors(response)["phone"]
    contact.refresh_from_db()
    assert contact.phone == "+12025550143"


def test_a_contact_without_history_is_corrected_and_its_number_normalised(staff_client, contact):
    response = staff_client.post(
        change_url(contact), contact_form(contact, phone="(202) 555-0199", name="Ada King")
    )
    assert response.status_code == 302
    contact.refresh_from_db()
    assert (contact.phone, contact.name) == ("+12025550199", "Ada King")


def test_an_added_contact_follows_the_contact_rules(staff_client, account, contact):
    data = contact_form(Contact(phone="202-555-0143"), account=account.pk, name="Twin")
    assert (
        "Another contact already has this number."
        in errors(staff_client.post(add_url(Contact), data))["phone"]
    )
    data = contact_form(Contact(phone="not a phone"), account=account.pk)
    assert "is not a phone number" in errors(staff_client.post(add_url(Contact), data))["phone"]
    assert Contact.objects.count() == 1


def line_form(line, **changes) -> dict:
    return {
        "number": line.number,
        "name": line.name,
        "consent_policy": line.consent_policy,
        **changes,
    }


def test_a_lines_number_cannot_change_once_it_has_messages(staff_client, line, contact):
    inbound_message(contact, line, "Hi")
    response = staff_client.post(change_url(line), line_form(line, number="+14155550177"))
    assert "The number cannot change" in errors(response)["number"]
    line.refresh_from_db()
    assert line.number == "+14155550100"


def test_two_lines_of_an_account_cannot_share_a_name(staff_client, account, line, second_line):
    response = staff_client.post(change_url(second_line), line_form(second_line, name="sales"))
    assert "Another line of this account already has this name." in errors(response)["name"]
    data = line_form(Line(number="+14155550177", name="SALES"), account=account.pk)
    assert "already has this name" in errors(staff_client.post(add_url(Line), data))["name"]
    assert sorted(Line.objects.values_list("name", flat=True)) == ["Sales", "Support"]


def test_a_line_without_history_gets_a_new_number_in_e164(staff_client, line):
    response = staff_client.post(change_url(line), line_form(line, number="(415) 555-0177"))
    assert response.status_code == 302
    line.refresh_from_db()
    assert line.number == "+14155550177"


def responder_form(account, **changes) -> dict:
    return {
        "account": account.pk,
        "name": "Join",
        "keywords": '["JOIN"]',
        "action": Action.OPT_IN,
        "reply": "Welcome to {account}!",
        "is_active": "on",
        **changes,
    }


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"keywords": '["STOP"]'}, "keywords", "is a built-in opt out keyword"),
        ({"keywords": '["s-t-o-p"]'}, "keywords", "is a built-in opt out keyword"),
        ({"keywords": '["JOIN", "J.O.I.N"]'}, "keywords", "is the same keyword as"),
        ({"keywords": '["", "JOIN"]'}, "keywords", "can never match"),
        ({"keywords": '"JOIN"'}, "keywords", "A list of words"),
        ({"reply": "Hi {bogus}"}, "reply", "Unknown placeholder {bogus}"),
    ],
)
def test_responders_follow_the_keyword_rules(staff_client, account, changes, field, message):
    response = staff_client.post(add_url(KeywordResponder), responder_form(account, **changes))
    assert message in errors(response)[field]
    assert not KeywordResponder.objects.exists()


def test_a_responders_keyword_taken_on_a_shared_line_is_refused(staff_client, account, line):
    ResponderFactory(account=account, name="First", keywords=["JOIN"], action=Action.OPT_IN)
    response = staff_client.post(
        add_url(KeywordResponder), responder_form(account, name="Second", lines=[line.pk])
    )
    assert "is already a keyword of the active responder “First”" in errors(response)["keywords"]
    assert KeywordResponder.objects.count() == 1


def test_a_responder_changed_in_the_admin_answers_by_its_new_rules(staff_client, account, line):
    join = ResponderFactory(account=account, name="Join", keywords=["JOIN"], action=Action.OPT_IN)
    response = staff_client.post(
        change_url(join), responder_form(account, keywords='["JOIN", "SIGN UP"]', lines=[line.pk])
    )
    assert response.status_code == 302
    join.refresh_from_db()
    assert join.keywords == ["JOIN", "SIGN UP"]
    assert list(join.lines.all()) == [line]


def account_form(account, **changes) -> dict:
    return {
        "name": account.name,
        "help_contact": account.help_contact,
        "opt_out_reply": account.opt_out_reply,
        "opt_in_reply": account.opt_in_reply,
        "help_reply": account.help_reply,
        "revocation_policy": account.revocation_policy,
        "opt_out_scope": account.opt_out_scope,
        "opt_out_all_reply": account.opt_out_all_reply,
        "quiet_hours_enabled": "on",
        "quiet_hours_start": "08:00",
        "quiet_hours_end": "21:00",
        "time_zone": account.time_zone,
        "twilio_account_sid": account.twilio_account_sid,
        "twilio_auth_token": account.twilio_auth_token,
        **changes,
    }


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"help_reply": "Call {helpline}"}, "help_reply", "Unknown placeholder {helpline}"),
        (
            {"opt_in_reply": "{account} " * 40, "name": "A" * 100},
            "opt_in_reply",
            "this reply is 4039 characters; at most 500",
        ),
        ({"twilio_account_sid": "AC123"}, "twilio_account_sid", "AC and 32 hex digits"),
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone", "Unknown time zone"),
    ],
)
def test_account_replies_and_credentials_are_checked(
    staff_client, account, changes, field, message
):
    before = Account.objects.values().get(pk=account.pk)
    response = staff_client.post(change_url(account), account_form(account, **changes))
    assert message in errors(response)[field]
    assert Account.objects.values().get(pk=account.pk) == before


def test_a_new_account_name_that_breaks_a_responders_reply_is_refused(staff_client, account):
    ResponderFactory(
        account=account,
        name="Hours",
        keywords=["HOURS"],
        action=Action.REPLY,
        reply="{account} " * 20,
    )
    response = staff_client.post(change_url(account), account_form(account, name="A" * 30))
    content = response.content.decode()
    assert "The reply of responder “Hours”" in content
    account.refresh_from_db()
    assert account.name == "Acme Plumbing"


def test_conversations_are_only_closed_or_reopened(staff_client, account, line, contact):
    message = inbound_message(contact, line, "Hi")
    conversation = ConversationFactory(
        account=account, contact=contact, line=line, last_message_at=message.occurred_at
    )
    form = staff_client.get(change_url(conversation)).content.decode()
    assert 'name="status"' in form
    assert 'name="contact"' not in form
    assert 'name="line"' not in form
    response = staff_client.post(change_url(conversation), {"status": ConversationStatus.CLOSED})
    assert response.status_code == 302
    conversation.refresh_from_db()
    assert conversation.status == ConversationStatus.CLOSED
    assert staff_client.get(add_url(Conversation)).status_code == 403
    assert Message.objects.count() == 1
