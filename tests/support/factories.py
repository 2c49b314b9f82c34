"""The objects tests start from, made in one place (factory_boy), as RapidPro's TembaTest does.

Test data is set up directly: these are the rows a test needs to exist, not changes under test.
Changes under test go through the real entry points (pages, webhooks, tasks, the admin).
"""

import factory
from django.apps import apps as django_apps
from django.contrib.auth import get_user_model
from django.utils import timezone
from factory.django import DjangoModelFactory

from conversations.models import Conversation, Direction, Message, MessageStatus
from crm import consent
from crm.models import Account, ConsentSource, ConsentStatus, Contact, Line
from crm.roles import Role, sync_role_groups
from crm.services import membership_set
from keywords.models import Action, KeywordResponder

PASSWORD = "pw"


class AccountFactory(DjangoModelFactory):
    class Meta:
        model = Account

    name = factory.Sequence(lambda n: f"Account {n}")
    quiet_hours_enabled = False


class LineFactory(DjangoModelFactory):
    class Meta:
        model = Line

    account = factory.SubFactory(AccountFactory)
    number = factory.Sequence(lambda n: f"+1415555{n % 10000:04d}")
    name = factory.Sequence(lambda n: f"Line {n}")


class ContactFactory(DjangoModelFactory):
    class Meta:
        model = Contact

    account = factory.SubFactory(AccountFactory)
    phone = factory.Sequence(lambda n: f"+1202555{n % 10000:04d}")
    name = factory.Sequence(lambda n: f"Contact {n}")


def make_user(account: Account, role: Role, username: str | None = None, **extra):
    """A member of `account` holding `role`, password "pw"."""
    sync_role_groups(django_apps)  # transactional tests flush what the data migration made
    user = get_user_model().objects.create_user(
        username=username or f"{role.value}-{account.pk}", password=PASSWORD, **extra
    )
    membership_set(user=user, account=account, role=role)
    return user


def inbound_message(contact: Contact, line: Line, body: str, at=None) -> Message:
    """A processed text from the contact on the line, sent at `at` (default now)."""
    return InboundMessageFactory(
        contact=contact, line=line, body=body, occurred_at=at or timezone.now()
    )


class InboundMessageFactory(DjangoModelFactory):
    """A text from the contact as the webhook stores it, already processed."""

    class Meta:
        model = Message

    contact = factory.SubFactory(ContactFactory)
    line = factory.SubFactory(LineFactory, account=factory.SelfAttribute("..contact.account"))
    remote_number = factory.SelfAttribute("contact.phone")
    direction = Direction.INBOUND
    body = "Hello"
    status = MessageStatus.PROCESSED
    provider_message_id = factory.Sequence(lambda n: f"SM{n:032x}")
    occurred_at = factory.LazyFunction(timezone.now)


class SentMessageFactory(InboundMessageFactory):
    """A text to the contact that the provider accepted, waiting for its delivery reports."""

    direction = Direction.OUTBOUND
    status = MessageStatus.SENT


class ConversationFactory(DjangoModelFactory):
    class Meta:
        model = Conversation

    contact = factory.SubFactory(ContactFactory)
    line = factory.SubFactory(LineFactory, account=factory.SelfAttribute("..contact.account"))
    account = factory.SelfAttribute("contact.account")
    last_message_at = factory.LazyFunction(timezone.now)


class ResponderFactory(DjangoModelFactory):
    """A keyword responder; `lines` (a list) binds it to lines, none: all lines."""

    class Meta:
        model = KeywordResponder
        skip_postgeneration_save = True

    account = factory.SubFactory(AccountFactory)
    name = factory.Sequence(lambda n: f"Responder {n}")
    keywords = factory.LazyFunction(lambda: ["JOIN"])
    action = Action.OPT_IN

    @factory.post_generation
    def lines(responder, create: bool, extracted, **kwargs) -> None:
        if create and extracted:
            responder.lines.set(extracted)


def keyword_consent(contact: Contact, line: Line, status: str, at=None, word: str = ""):
    """The contact texted a keyword (STOP or START unless `word`) at `at` (default now), and
    the engine recorded it: returns the consent event."""
    at = at or timezone.now()
    word = word or ("STOP" if status == ConsentStatus.OPTED_OUT else "START")
    return consent.record_consent(
        contact=contact,
        line=line,
        status=status,
        source=ConsentSource.KEYWORD,
        message=inbound_message(contact, line, word, at=at),
        keyword=word,
        occurred_at=at,
    )


def staff_consent(contact: Contact, line: Line, status: str, user, at=None):
    """A member of staff recorded the status, asked by phone: returns the consent event."""
    return consent.record_consent(
        contact=contact,
        line=line,
        status=status,
        source=ConsentSource.AGENT,
        user=user,
        note="asked by phone",
        occurred_at=at,
    )
