"""Reads for the API, scoped to the key's account."""

from dataclasses import dataclass

from crm.models import Account, Contact, Line
from crm.selectors import LineConsent, contact_consent_by_line


@dataclass(frozen=True)
class ConsentLookup:
    phone: str
    contact: Contact | None
    lines: list[LineConsent]


def consent_lookup(*, account: Account, phone: str) -> ConsentLookup:
    """The number's status on every line of the account (Not Defined where nothing is known,
    and everywhere for a number that is not a contact): two indexed queries."""
    contact = Contact.objects.for_account(account).filter(phone=phone).first()
    if contact is not None:
        return ConsentLookup(phone=phone, contact=contact, lines=contact_consent_by_line(contact))
    lines = Line.objects.for_account(account).order_by("name", "number")
    return ConsentLookup(
        phone=phone,
        contact=None,
        lines=[
            LineConsent(line=line, status="", since=None, source="", cause_id=None)
            for line in lines
        ],
    )
