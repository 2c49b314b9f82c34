"""Writes for accounts, memberships, lines and contacts (consent has its own module, crm.consent).

Each change is one action function: keyword-only, atomic, checking its own rules and raising
ValidationError keyed by field. The pages, the Django admin, commands and the demo all call
these, so a rule cannot be skipped by taking another path. The `*_validate` functions are the
rules alone, for forms that must show them before saving (the Django admin's).
"""

import logging
from dataclasses import asdict, fields
from datetime import datetime, time, timedelta

from django.contrib.auth.models import AbstractBaseUser, Group
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Value
from django.db.models.functions import Lower
from django.utils import timezone

from core.bulk_sql import column_list, first_row, insert_unless_conflict
from core.lengths import too_long
from core.phones import normalize_phone
from core.replies import reply_problem
from crm import consent_days
from crm.consent import lock_contact, opt_outs_cover_line
from crm.languages import ADDED_LANGUAGES, Replies
from crm.ledger import DayDigest, anchor_hash
from crm.models import (
    DEFAULT_OPT_OUT_ALL_REPLY,
    DEFAULT_QUIET_HOURS,
    DEFAULT_TIME_ZONE,
    QUIET_HOURS_ERROR,
    TIME_ZONES,
    Account,
    AccountLanguage,
    ConsentAnchor,
    ConsentLogVerification,
    ConsentPolicy,
    Contact,
    Line,
    Membership,
    OptOutScope,
    RevocationPolicy,
)
from crm.quiet_hours import Window, states_shut_out
from crm.roles import Role
from crm.verification import (
    account_events,
    day_digests,
    first_day_to_anchor,
    last_day_to_anchor,
    utc_midnight,
    verify_account,
)

# Each anchor goes to this log too, so a copy of the seals can be kept outside the database.
anchor_log = logging.getLogger("capacity_sms.consent_log")

ACCOUNT_SID_SHAPE = "AC and 32 hex digits"
DUPLICATE_PHONE = "Another contact already has this number."


@transaction.atomic
def membership_set(*, user: AbstractBaseUser, account: Account, role: Role) -> Membership:
    """Put the user in the account with exactly this role."""
    membership, _ = Membership.objects.update_or_create(user=user, defaults={"account": account})
    user.groups.set([Group.objects.get(name=role.value)])
    return membership


@transaction.atomic
def account_create(*, name: str, help_contact: str = "") -> Account:
    """A new account, answering with the default replies until its admins change them."""
    defaults = Account(name=name.strip(), help_contact=help_contact.strip())
    account_settings_validate(
        account=defaults,
        name=defaults.name,
        help_contact=defaults.help_contact,
        opt_out_reply=defaults.opt_out_reply,
        opt_in_reply=defaults.opt_in_reply,
        help_reply=defaults.help_reply,
        revocation_policy=defaults.revocation_policy,
    )
    defaults.save()
    return defaults


LANGUAGE_REPLIES = tuple(field.name for field in fields(Replies))


def _reply_errors(model: type, replies: Replies, filled_with) -> dict[str, list[str]]:
    """Why each of these replies cannot be sent once filled in for this account, by field:
    empty, longer than the model's field, or not sendable (`core.replies.reply_problem`)."""
    errors: dict[str, list[str]] = {}
    for field, template in asdict(replies).items():
        if not template.strip():
            errors[field] = ["A reply cannot be empty."]
        elif message := too_long(model, field, template):
            errors[field] = message
        elif problem := reply_problem(template, filled_with):
            errors[field] = [problem]
    return errors


def account_settings_validate(
    *,
    account: Account,
    name: str,
    help_contact: str,
    opt_out_reply: str,
    opt_in_reply: str,
    help_reply: str,
    revocation_policy: str,
    opt_out_scope: str = OptOutScope.LINE,
    opt_out_all_reply: str = DEFAULT_OPT_OUT_ALL_REPLY,
    quiet_hours_enabled: bool = True,
    quiet_hours_start: time | None = DEFAULT_QUIET_HOURS[0],
    quiet_hours_end: time | None = DEFAULT_QUIET_HOURS[1],
    time_zone: str = DEFAULT_TIME_ZONE,
) -> None:
    """The account's replies must be sendable once filled in with the new name and help
    contact: its own and its responders' (a reply the worker cannot send is an opt-out
    confirmation that never goes). Quiet hours are one stretch of a day."""
    errors: dict[str, list[str]] = {}
    if opt_out_scope not in OptOutScope.values:
        errors["opt_out_scope"] = [f"Unknown scope {opt_out_scope!r}."]
    if not isinstance(quiet_hours_start, time):
        errors["quiet_hours_start"] = ["Give the time texts may start, e.g. 08:00."]
    if not isinstance(quiet_hours_end, time):
        errors["quiet_hours_end"] = ["Give the time texts must stop, e.g. 21:00."]
    elif isinstance(quiet_hours_start, time) and quiet_hours_start >= quiet_hours_end:
        errors["quiet_hours_end"] = [QUIET_HOURS_ERROR]
    elif (
        isinstance(quiet_hours_start, time)
        and quiet_hours_enabled
        and (shut_out := states_shut_out(Window(quiet_hours_start, quiet_hours_end)))
    ):
        errors["quiet_hours_end"] = [
            f"With these hours no text could ever reach contacts in {rule.name}, where texts "
            f"may go {rule.summary}: widen them."
            for rule in shut_out
        ]
    if not name.strip():
        errors["name"] = ["The account needs a name: replies say who is texting."]
    elif message := too_long(Account, "name", name):
        errors["name"] = message
    if message := too_long(Account, "help_contact", help_contact):
        errors["help_contact"] = message
    if revocation_policy not in RevocationPolicy.values:
        errors["revocation_policy"] = [f"Unknown policy {revocation_policy!r}."]
    if time_zone not in TIME_ZONES:
        errors["time_zone"] = [f"Unknown time zone {time_zone!r}: choose one from the list."]
    filled_with = Account(name=name, help_contact=help_contact)
    replies = Replies(opt_out_reply, opt_out_all_reply, opt_in_reply, help_reply)
    errors.update(_reply_errors(Account, replies, filled_with))
    if account.pk:
        for pack in account.languages.all():
            for field in LANGUAGE_REPLIES:
                if problem := reply_problem(getattr(pack, field), filled_with):
                    errors.setdefault("__all__", []).append(
                        f"The {pack.get_language_display()} "
                        f"{AccountLanguage._meta.get_field(field).verbose_name}: {problem}"
                    )
        for responder in account.keyword_responders.exclude(reply=""):
            if problem := reply_problem(responder.reply, filled_with):
                errors.setdefault("__all__", []).append(
                    f"The reply of responder “{responder.name}”: {problem}"
                )
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def account_settings_update(
    *,
    account: Account,
    name: str,
    help_contact: str,
    opt_out_reply: str,
    opt_in_reply: str,
    help_reply: str,
    revocation_policy: str,
    opt_out_scope: str = OptOutScope.LINE,
    opt_out_all_reply: str = DEFAULT_OPT_OUT_ALL_REPLY,
    quiet_hours_enabled: bool = True,
    quiet_hours_start: time = DEFAULT_QUIET_HOURS[0],
    quiet_hours_end: time = DEFAULT_QUIET_HOURS[1],
    time_zone: str = DEFAULT_TIME_ZONE,
) -> Account:
    """How the account answers and when it may text: its name in replies, help contact,
    replies, phrase policy, what an opt-out covers, and quiet hours."""
    Account.objects.select_for_update().filter(pk=account.pk).get()
    changes = {
        "name": name.strip(),
        "help_contact": help_contact.strip(),
        "opt_out_reply": opt_out_reply,
        "opt_out_all_reply": opt_out_all_reply,
        "opt_in_reply": opt_in_reply,
        "help_reply": help_reply,
        "revocation_policy": revocation_policy,
        "opt_out_scope": opt_out_scope,
        "quiet_hours_enabled": bool(quiet_hours_enabled),
        "quiet_hours_start": quiet_hours_start,
        "quiet_hours_end": quiet_hours_end,
        "time_zone": time_zone,
    }
    account_settings_validate(account=account, **changes)
    widening = not account.revokes_everywhere and opt_out_scope == OptOutScope.ACCOUNT
    for field, value in changes.items():
        setattr(account, field, value)
    account.save(update_fields=list(changes))
    if widening:
        # From now on an opt-out covers every line: so do the opt-outs already recorded.
        for line in Line.objects.filter(account=account).select_related("account"):
            opt_outs_cover_line(line)
    return account


def account_credentials_validate(*, twilio_account_sid: str) -> None:
    if twilio_account_sid and not (
        len(twilio_account_sid) == 34
        and twilio_account_sid.startswith("AC")
        and all(char in "0123456789abcdefABCDEF" for char in twilio_account_sid[2:])
    ):
        raise ValidationError(
            {"twilio_account_sid": f"A Twilio account SID is {ACCOUNT_SID_SHAPE}."}
        )


@transaction.atomic
def account_credentials_update(
    *, account: Account, twilio_account_sid: str, twilio_auth_token: str
) -> Account:
    """The account's own Twilio credentials (empty: the platform's), which also check the
    signatures and account SID of webhooks for its lines."""
    twilio_account_sid = twilio_account_sid.strip()
    account_credentials_validate(twilio_account_sid=twilio_account_sid)
    account.twilio_account_sid = twilio_account_sid
    account.twilio_auth_token = twilio_auth_token.strip()
    account.save(update_fields=["twilio_account_sid", "twilio_auth_token"])
    return account


def line_validate(
    *, account: Account, number: str, name: str, consent_policy: str, line: Line | None = None
) -> str:
    """The rules of a line; returns its number in E.164.

    The number is unique across the system and cannot change once the line has messages or
    consent history (they are evidence about that number); the name is unique in the account
    whatever its case, since people and commands pick a line by name.
    """
    errors: dict[str, list[str]] = {}
    try:
        number = normalize_phone(number)
    except ValidationError as error:
        errors["number"] = error.messages
    else:
        if Line.objects.filter(number=number).exclude(pk=line.pk if line else None).exists():
            errors["number"] = ["Another line already has this number."]
        elif line is not None and number != line.number and line_has_history(line):
            errors["number"] = [
                "The number cannot change: this line's messages and consent history belong to "
                "it. Add a new line for a new number."
            ]
    if not name.strip():
        errors["name"] = ["Give the line a name."]
    elif message := too_long(Line, "name", name.strip()):
        errors["name"] = message
    elif (
        Line.objects.filter(account=account)
        .annotate(lower_name=Lower("name"))
        .filter(lower_name=Lower(Value(name.strip())))  # the database's LOWER, as the constraint
        .exclude(pk=line.pk if line else None)
        .exists()
    ):
        errors["name"] = ["Another line of this account already has this name."]
    if consent_policy not in ConsentPolicy.values:
        errors["consent_policy"] = [f"Unknown consent policy {consent_policy!r}."]
    if errors:
        raise ValidationError(errors)
    return number


def line_has_history(line: Line) -> bool:
    return line.messages.exists() or line.consent_events.exists()


@transaction.atomic
def line_create(*, account: Account, number: str, name: str, consent_policy: str) -> Line:
    """A new line; when the account's opt-outs cover every line, its opted-out contacts are
    opted out of this one too."""
    number = line_validate(account=account, number=number, name=name, consent_policy=consent_policy)
    line = Line.objects.create(
        account=account, number=number, name=name.strip(), consent_policy=consent_policy
    )
    opt_outs_cover_line(line)
    return line


@transaction.atomic
def line_update(*, line: Line, name: str, consent_policy: str, number: str | None = None) -> Line:
    """Rename a line, change its consent policy, or (while it has no history) its number."""
    current = Line.objects.select_for_update().get(pk=line.pk)
    number = line_validate(
        account=current.account,
        number=current.number if number is None else number,
        name=name,
        consent_policy=consent_policy,
        line=current,
    )
    line.number, line.name, line.consent_policy = number, name.strip(), consent_policy
    line.save(update_fields=["number", "name", "consent_policy"])
    return line


def contact_validate(
    *, account: Account, phone: str, name: str, email: str, contact: Contact | None = None
) -> str:
    """The rules of a contact's details; returns the number in E.164.

    The number is unique in the account and cannot change once the contact has consent
    history or messages: they are evidence about that number, and a new number is a new
    contact.
    """
    errors: dict[str, list[str]] = {}
    try:
        phone = normalize_phone(phone)
    except ValidationError as error:
        errors["phone"] = error.messages
    else:
        if contact is not None and phone != contact.phone and contact_has_history(contact):
            errors["phone"] = [
                "The number cannot change: this contact's consent history and messages belong "
                "to it. Add a new contact for a new number."
            ]
        elif (
            Contact.objects.filter(account=account, phone=phone)
            .exclude(pk=contact.pk if contact else None)
            .exists()
        ):
            errors["phone"] = [DUPLICATE_PHONE]
    if message := too_long(Contact, "name", name):
        errors["name"] = message
    elif any(char in name for char in "\r\n"):
        errors["name"] = ["A name is one line."]
    if email:
        try:
            validate_email(email)
        except ValidationError as error:
            errors["email"] = error.messages
        else:
            if message := too_long(Contact, "email", email):
                errors["email"] = message
    if errors:
        raise ValidationError(errors)
    return phone


def contact_has_history(contact: Contact) -> bool:
    return contact.consent_events.exists() or contact.messages.exists()


@transaction.atomic
def contact_create(*, account: Account, phone: str, name: str = "", email: str = "") -> Contact:
    """A new contact. Two requests adding one number at once: the second is refused like any
    duplicate (the unique constraint decides), not failed."""
    name, email = name.strip(), email.strip()
    phone = contact_validate(account=account, phone=phone, name=name, email=email)
    try:
        with transaction.atomic():
            return Contact.objects.create(account=account, phone=phone, name=name, email=email)
    except IntegrityError as error:
        raise ValidationError({"phone": [DUPLICATE_PHONE]}) from error


@transaction.atomic
def contact_update(*, contact: Contact, phone: str, name: str, email: str) -> Contact:
    """Correct a contact's details; the number only while nothing is recorded about it.

    The contact's row lock (the one consent changes take) keeps a message or consent change
    from landing between the check and the change of number.
    """
    lock_contact(contact.pk)
    current = Contact.objects.get(pk=contact.pk)
    name, email = name.strip(), email.strip()
    phone = contact_validate(
        account=current.account, phone=phone, name=name, email=email, contact=current
    )
    contact.phone, contact.name, contact.email = phone, name, email
    contact.save(update_fields=["phone", "name", "email", "updated_at"])
    return contact


def contact_get_or_create(
    *, account: Account, phone: str, name: str = "", email: str = ""
) -> tuple[Contact, bool]:
    """The account's contact with this number (normalised to E.164), created if new.

    Written out (a read, and an insert that yields to a concurrent one): it runs for every
    text received, where building the ORM's queries cost more than running them."""
    phone = normalize_phone(phone)
    found = _contact_with_phone(account, phone)
    if found is not None:
        return found, False
    contact = Contact(account=account, phone=phone, name=name, email=email)
    if insert_unless_conflict(contact, ["account", "phone"]):
        return contact, True
    stored_meanwhile = _contact_with_phone(account, phone)
    if stored_meanwhile is None:  # stored and deleted again between two statements
        raise Contact.DoesNotExist(f"The contact with {phone} was deleted while being added.")
    return stored_meanwhile, False


def _contact_with_phone(account: Account, phone: str) -> Contact | None:
    sql = f"SELECT {column_list(Contact)} FROM {Contact._meta.db_table} WHERE account_id = %s AND phone = %s"  # noqa: S608, E501
    contact = first_row(Contact, sql, [account.pk, phone])
    if contact is not None:
        contact.account = account
    return contact


def consent_anchors_record(*, account: Account, now: datetime | None = None) -> list[ConsentAnchor]:
    """Seal each of the account's finished UTC days not sealed yet (crm.ledger), in one
    streamed pass over their events; each anchor chains to the day before and is logged, so
    a copy lives outside the database. Days without events get an anchor too: a day left
    unsealed is where an event could be slipped in unseen."""
    now = now or timezone.now()
    with transaction.atomic():
        Account.objects.select_for_update(no_key=True).filter(pk=account.pk).values("pk").get()
        latest = ConsentAnchor.objects.filter(account=account).order_by("-day").first()
        first = latest.day + timedelta(days=1) if latest else first_day_to_anchor(account)
        last = last_day_to_anchor(now)
        if first > last:
            return []
        digests = day_digests(
            account_events(account).filter(
                recorded_at__gte=utc_midnight(first),
                recorded_at__lt=utc_midnight(last + timedelta(days=1)),
            )
        )
        anchors, previous_hash = [], latest.hash if latest else ""
        for offset in range((last - first).days + 1):
            day = first + timedelta(days=offset)
            digest = digests.get(day) or DayDigest()
            anchor = ConsentAnchor(
                account=account,
                day=day,
                event_count=digest.count,
                events_sha256=digest.hexdigest(),
                previous_hash=previous_hash,
                created_at=now,
            )
            anchor.hash = anchor_hash(
                account_id=account.pk,
                day=day,
                event_count=anchor.event_count,
                events_sha256=anchor.events_sha256,
                previous_hash=previous_hash,
            )
            anchors.append(anchor)
            previous_hash = anchor.hash
        ConsentAnchor.objects.bulk_create(anchors, batch_size=1_000)
    for anchor in anchors:
        anchor_log.info(
            "Consent log anchor: account %s, %s, %d events, %s",
            account.pk,
            anchor.day,
            anchor.event_count,
            anchor.hash,
        )
    return anchors


def consent_days_rebuild() -> int:
    """Recompute the daily consent rollups from the event log; how many rows it wrote."""
    return consent_days.rebuild()


def consent_days_compact() -> int:
    """Merge the rows the engine appended to the daily rollups, one per line, day and status;
    how many rows that removed. Rollups whose days were cut in another time zone than the
    server's (TIME_ZONE changed without a `migrate`) are rebuilt instead."""
    if consent_days.rebuild_unless_in_server_zone() is not None:
        return 0
    return consent_days.compact()


def consent_log_verify(*, account: Account) -> ConsentLogVerification:
    """Recompute every hash of the account's consent log (crm.verification) and record what
    was found, for the admin and the consent record to show."""
    started_at = timezone.now()
    report = verify_account(account, now=started_at)
    return ConsentLogVerification.objects.create(
        account=account,
        started_at=started_at,
        finished_at=timezone.now(),
        events_checked=report.events_checked,
        days_checked=report.days_checked,
        intact=report.intact,
        problems=[problem.message for problem in report.problems],
        problems_found=report.problems_found,
        unanchored_days=report.unanchored_days,
        latest_anchor_day=report.latest_anchor.day if report.latest_anchor else None,
        latest_anchor_hash=report.latest_anchor.hash if report.latest_anchor else "",
    )


@transaction.atomic
def account_language_update(
    *,
    account: Account,
    language: str,
    is_active: bool,
    opt_out_reply: str,
    opt_out_all_reply: str,
    opt_in_reply: str,
    help_reply: str,
) -> AccountLanguage:
    """Switch a language pack on or off and set its replies. Its replies are checked as the
    account's own are (sendable once filled in), even while it is off, so switching it on
    later cannot start sending a broken confirmation."""
    if language not in ADDED_LANGUAGES:
        raise ValidationError({"language": [f"There is no {language!r} language pack."]})
    replies = Replies(opt_out_reply, opt_out_all_reply, opt_in_reply, help_reply)
    if errors := _reply_errors(AccountLanguage, replies, account):
        raise ValidationError(errors)
    pack, _ = AccountLanguage.objects.update_or_create(
        account=account,
        language=language,
        defaults={"is_active": bool(is_active), **asdict(replies)},
    )
    return pack
