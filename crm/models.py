"""Accounts, their lines and contacts, and each contact's consent on each line."""

import zoneinfo
from datetime import time

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from core.phones import E164_REGEX, format_phone
from crm.languages import ADDED_LANGUAGES, Language
from crm.roles import PERMISSIONS
from crm.scoping import AccountScopedQuerySet

DEFAULT_OPT_OUT_REPLY = (
    "You have been unsubscribed from {account} on this number and will receive no more "
    "messages. Reply START to resubscribe."
)
DEFAULT_OPT_OUT_ALL_REPLY = (
    "You have been unsubscribed from all {account} numbers and will receive no more messages "
    "from them. Reply START to resubscribe to this one."
)
DEFAULT_OPT_IN_REPLY = (
    "You are subscribed to {account} messages. Msg&data rates may apply. Reply HELP for help, "
    "STOP to unsubscribe."
)
DEFAULT_HELP_REPLY = (
    "{account}: for help contact {help_contact}. Msg&data rates may apply. Reply STOP to "
    "unsubscribe."
)


class RevocationPolicy(models.TextChoices):
    OPT_OUT = "opt_out", "Opt the contact out"
    FLAG = "flag", "Flag the conversation for review"


class OptOutScope(models.TextChoices):
    """What one opt-out covers. `account` is the FCC's revoke-all reading (47 CFR
    64.1200(a)(10), due 2027-01-31): a STOP to one of the business's numbers stops them all."""

    LINE = "line", "The line it was sent to"
    ACCOUNT = "account", "Every line of the account"


DEFAULT_QUIET_HOURS = (time(8), time(21))
DEFAULT_TIME_ZONE = "America/New_York"
TIME_ZONES = frozenset(zoneinfo.available_timezones())


def time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in sorted(TIME_ZONES)]


QUIET_HOURS_ERROR = "Texts must stop later in the day than they start (a window within one day)."


class AccountQuerySet(AccountScopedQuerySet):
    def for_account(self, account) -> "AccountQuerySet":
        return self.filter(pk=account.pk if account else None)


class Account(models.Model):
    """A business: the tenant that owns lines, contacts and users."""

    name = models.CharField(max_length=120)
    help_contact = models.CharField(
        max_length=200, blank=True, help_text="Phone, e-mail or URL named in HELP replies."
    )
    opt_out_reply = models.TextField(max_length=500, default=DEFAULT_OPT_OUT_REPLY)
    opt_in_reply = models.TextField(max_length=500, default=DEFAULT_OPT_IN_REPLY)
    help_reply = models.TextField(max_length=500, default=DEFAULT_HELP_REPLY)
    revocation_policy = models.CharField(
        max_length=10, choices=RevocationPolicy.choices, default=RevocationPolicy.OPT_OUT
    )
    opt_out_scope = models.CharField(
        max_length=10, choices=OptOutScope.choices, default=OptOutScope.LINE
    )
    opt_out_all_reply = models.TextField(max_length=500, default=DEFAULT_OPT_OUT_ALL_REPLY)
    quiet_hours_enabled = models.BooleanField(default=True)
    quiet_hours_start = models.TimeField(default=DEFAULT_QUIET_HOURS[0])
    quiet_hours_end = models.TimeField(default=DEFAULT_QUIET_HOURS[1])
    time_zone = models.CharField(
        max_length=64,
        default=DEFAULT_TIME_ZONE,
        help_text="Where the business is: the consent record and the audit show times in it.",
    )
    twilio_account_sid = models.CharField(
        max_length=64, blank=True, help_text="Empty: the TWILIO_ACCOUNT_SID setting."
    )
    twilio_auth_token = models.CharField(
        max_length=64,
        blank=True,
        help_text="Checks webhook signatures for this account's lines. Empty: TWILIO_AUTH_TOKEN.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AccountQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        permissions = PERMISSIONS
        constraints = [
            models.CheckConstraint(
                condition=Q(revocation_policy__in=RevocationPolicy.values),
                name="account_revocation_policy_valid",
            ),
            models.CheckConstraint(
                condition=Q(opt_out_scope__in=OptOutScope.values),
                name="account_opt_out_scope_valid",
            ),
            models.CheckConstraint(
                condition=Q(quiet_hours_start__lt=models.F("quiet_hours_end")),
                name="account_quiet_hours_in_one_day",
                violation_error_message=QUIET_HOURS_ERROR,
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def revokes_everywhere(self) -> bool:
        return self.opt_out_scope == OptOutScope.ACCOUNT

    @property
    def opt_out_confirmation(self) -> str:
        """The reply template confirming an opt-out: it says what the opt-out covers."""
        return self.opt_out_all_reply if self.revokes_everywhere else self.opt_out_reply


class AccountLanguage(models.Model):
    """A language the account answers keywords in besides English, and its replies in it.

    A row remembers the replies typed for a language even while it is switched off; only an
    active one has its keywords read (`keywords.languages`) and its replies sent.
    """

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="languages")
    language = models.CharField(max_length=2, choices=Language.choices)
    is_active = models.BooleanField(default=False)
    opt_out_reply = models.TextField(max_length=500)
    opt_out_all_reply = models.TextField(max_length=500)
    opt_in_reply = models.TextField(max_length=500)
    help_reply = models.TextField(max_length=500)

    class Meta:
        ordering = ["account", "language"]
        constraints = [
            models.UniqueConstraint(fields=["account", "language"], name="account_language_once"),
            models.CheckConstraint(
                condition=Q(language__in=[language.value for language in ADDED_LANGUAGES]),
                name="account_language_is_a_pack",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account}: {self.get_language_display()}"

    @property
    def name(self) -> str:
        """The account's name, as replies in every language fill {account} in."""
        return self.account.name

    @property
    def help_contact(self) -> str:
        return self.account.help_contact

    @property
    def opt_out_confirmation(self) -> str:
        """The reply confirming an opt-out in this language: it says what the opt-out covers."""
        return self.opt_out_all_reply if self.account.revokes_everywhere else self.opt_out_reply


class Membership(models.Model):
    """Ties a user to the one account they work in; their role is their Django group."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership"
    )
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="memberships")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AccountScopedQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.user} in {self.account}"


class ConsentPolicy(models.TextChoices):
    BLOCK_OPTED_OUT = "block_opted_out", "Block opted-out contacts"
    REQUIRE_OPT_IN = "require_opt_in", "Require opt-in (block Not Defined too)"


class Line(models.Model):
    """One of the account's own phone numbers; consent is kept per line."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="lines")
    number = models.CharField(max_length=16, unique=True, help_text="E.164, e.g. +12025550123.")
    name = models.CharField(max_length=80)
    consent_policy = models.CharField(
        max_length=20, choices=ConsentPolicy.choices, default=ConsentPolicy.BLOCK_OPTED_OUT
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AccountScopedQuerySet.as_manager()

    class Meta:
        ordering = ["account", "name", "number"]
        indexes = [models.Index(fields=["account", "name"], name="line_account_name")]
        constraints = [
            models.CheckConstraint(condition=Q(number__regex=E164_REGEX), name="line_number_e164"),
            # People and commands pick a line by name: one name, whatever its case, per account.
            models.UniqueConstraint(
                Lower("name"),
                "account",
                name="line_unique_name_in_account",
                violation_error_message="Another line of this account already has this name.",
            ),
            models.CheckConstraint(
                condition=Q(consent_policy__in=ConsentPolicy.values),
                name="line_consent_policy_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} · {format_phone(self.number)}"


class Contact(models.Model):
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="contacts")
    phone = models.CharField(max_length=16, help_text="E.164, e.g. +12025550123.")
    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AccountScopedQuerySet.as_manager()

    class Meta:
        ordering = ["name", "phone"]
        # The Contacts table sorts by name, by number (the unique constraint's index) or by
        # when added; each order is read off an index, so a page costs the same at any size.
        indexes = [
            models.Index(fields=["account", "name", "id"], name="contact_account_name"),
            models.Index(fields=["account", "id"], name="contact_account_added"),
            # The snapshot's rows, by name then number: a page walks this index.
            models.Index(fields=["account", "name", "phone"], name="contact_account_name_phone"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["account", "phone"], name="contact_unique_phone"),
            models.CheckConstraint(condition=Q(phone__regex=E164_REGEX), name="contact_phone_e164"),
        ]

    def __str__(self) -> str:
        return self.name or self.phone


class ConsentStatus(models.TextChoices):
    OPTED_IN = "opted_in", "Opted in"
    OPTED_OUT = "opted_out", "Opted out"


# No consent row: the contact never opted in or out on the line. Filters offer it beside the
# two statuses.
NOT_DEFINED, NOT_DEFINED_LABEL = "not_defined", "Not Defined"
STATUS_FILTER_VALUES = (*ConsentStatus.values, NOT_DEFINED)


class ConsentSource(models.TextChoices):
    KEYWORD = "keyword", "Keyword"
    CARRIER_SIGNAL = "carrier_signal", "Carrier signal"
    PROVIDER_ERROR = "provider_error", "Provider rejection"
    PHRASE = "phrase", "Revocation phrase"
    AGENT = "agent", "Recorded by staff"
    IMPORT = "import", "Import"
    API = "api", "API"


# Only these lift an opt-out (SPEC section 5): the contact's own keyword, the carrier's signal,
# or staff recording evidence.
EXPLICIT_OPT_IN_SOURCES = (ConsentSource.KEYWORD, ConsentSource.CARRIER_SIGNAL, ConsentSource.AGENT)

SOURCES_FROM_MESSAGES = (
    ConsentSource.KEYWORD,
    ConsentSource.CARRIER_SIGNAL,
    ConsentSource.PROVIDER_ERROR,
    ConsentSource.PHRASE,
)


class ConsentOutcome(models.TextChoices):
    CHANGED = "changed", "Changed"
    UNCHANGED = "unchanged", "No change"
    SUPERSEDED = "superseded", "Older; recorded only"
    REFUSED = "refused", "Refused: needs explicit opt-in"


class ImmutableEventError(Exception):
    """Raised on any attempt to change or delete recorded consent history."""


class AppendOnlyQuerySet(AccountScopedQuerySet):
    """Rows that are evidence once written: the ORM refuses to change or delete them (and on
    PostgreSQL a trigger refuses raw SQL too)."""

    def update(self, **kwargs):
        raise ImmutableEventError("This is evidence: it is never updated.")

    def delete(self):
        raise ImmutableEventError("This is evidence: it is never deleted.")

    def bulk_update(self, objs, fields, batch_size=None):
        raise ImmutableEventError("This is evidence: it is never updated.")


class ConsentEventQuerySet(AppendOnlyQuerySet):
    account_path = "contact__account"


class AppendOnlyModel(models.Model):
    """A row that is evidence once written: saved once, never changed or deleted."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ImmutableEventError(f"{self._meta.verbose_name_plural} are never updated.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableEventError(f"{self._meta.verbose_name_plural} are never deleted.")


class ConsentEvent(AppendOnlyModel):
    """One consent decision, as evidence: appended by crm.consent, never changed."""

    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="consent_events")
    line = models.ForeignKey(Line, on_delete=models.PROTECT, related_name="consent_events")
    status = models.CharField(max_length=10, choices=ConsentStatus.choices)
    previous_status = models.CharField(
        max_length=10, choices=ConsentStatus.choices, blank=True, help_text="Empty: Not Defined."
    )
    outcome = models.CharField(max_length=10, choices=ConsentOutcome.choices)
    source = models.CharField(max_length=20, choices=ConsentSource.choices)
    message = models.ForeignKey(
        "conversations.Message",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="consent_events",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="consent_events",
    )
    responder = models.ForeignKey(
        "keywords.KeywordResponder",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="consent_events",
    )
    contact_import = models.ForeignKey(
        "ContactImport",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="consent_events",
        help_text="The import whose file carried this status (source import).",
    )
    keyword = models.CharField(max_length=100, blank=True)
    note = models.TextField(blank=True)
    api_key = models.ForeignKey(
        "api.ApiKey",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="consent_events",
        help_text="The key of the system that recorded it (source API).",
    )
    consent_text = models.TextField(
        blank=True, help_text="The words shown to the person when they consented (API)."
    )
    page_url = models.URLField(max_length=2000, blank=True, help_text="Where they consented.")
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    occurred_at = models.DateTimeField(help_text="When it happened (the provider's time if any).")
    # Set before the row is written: the event's hash covers it.
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)
    # The numbers as they were when the event was recorded (a line's number may change later).
    contact_phone = models.CharField(max_length=16, blank=True, editable=False)
    line_number = models.CharField(max_length=16, blank=True, editable=False)
    # crm.ledger: the hash of the contact's previous event (empty for the first) and of this
    # event's content including it, so each contact's history is a hash chain.
    previous_hash = models.CharField(max_length=64, blank=True, editable=False)
    hash = models.CharField(max_length=64, blank=True, editable=False)
    # The change feed's order (api.feed): the id of the PostgreSQL transaction that recorded
    # the event, set by a trigger (0 elsewhere, and for events recorded before the feed).
    transaction_id = models.BigIntegerField(default=0, editable=False)

    objects = ConsentEventQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["contact", "line", "occurred_at"], name="event_pair_time"),
            models.Index(fields=["line", "occurred_at"], name="event_line_time"),
            models.Index(fields=["transaction_id", "id"], name="event_feed_order"),
            models.Index(fields=["recorded_at"], name="event_recorded_at"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ConsentStatus.values), name="event_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(previous_status__in=[*ConsentStatus.values, ""]),
                name="event_previous_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(outcome__in=ConsentOutcome.values), name="event_outcome_valid"
            ),
            models.CheckConstraint(
                condition=Q(source__in=ConsentSource.values), name="event_source_valid"
            ),
            models.CheckConstraint(
                condition=~Q(source__in=SOURCES_FROM_MESSAGES) | Q(message__isnull=False),
                name="event_message_evidence",
            ),
            models.CheckConstraint(
                condition=~Q(source=ConsentSource.AGENT) | Q(user__isnull=False),
                name="event_agent_evidence",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contact} {self.status} on {self.line} ({self.source}, {self.outcome})"

    @property
    def resulting_status(self) -> str:
        """The status on the line once this event was applied."""
        if self.outcome in (ConsentOutcome.SUPERSEDED, ConsentOutcome.REFUSED):
            return self.previous_status
        return self.status


class ConsentDay(models.Model):
    """How a line's consent moved on one day (a date in the server's time zone): the change
    in the number of contacts in `status` (`net`), and the events that changed a status to it
    (`changes`). The snapshot's totals and chart add up days instead of reading every event.

    The consent engine appends rows in each change's transaction and never updates one: two
    changes never wait for each other's row (a shared counter row would be held until each
    transaction ends, and taken in no fixed order, deadlock). A periodic task merges a day's
    rows into one (crm.consent_days.compact), so what a page adds up stays a row per day.
    """

    line = models.ForeignKey(Line, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    status = models.CharField(max_length=10, choices=ConsentStatus.choices)
    net = models.IntegerField(default=0)
    changes = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["line", "day"], name="consent_day_line_day")]

    def __str__(self) -> str:
        return f"{self.line_id} {self.day} {self.status}: {self.net:+d}"


class ConsentDaysZone(models.Model):
    """The time zone the rollups' days were cut in (one row, written by their rebuild).

    Days cut in another zone than the server's `TIME_ZONE` would put events on the wrong
    dates, and every total would be silently off: `migrate` and the compaction task compare it
    with the setting and rebuild the rollups when it changed (crm.consent_days). No row: the
    rollups were never built (a database migrated from before them), so they are built.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    time_zone = models.CharField(max_length=64)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(id=1), name="consent_days_zone_one_row")]

    def __str__(self) -> str:
        return self.time_zone


class ConsentQuerySet(AccountScopedQuerySet):
    account_path = "contact__account"


class Consent(models.Model):
    """The current status of a contact on a line; no row is Not Defined.

    A cache of the event log kept by crm.consent: `status` is the status of the latest event by
    `occurred_at` (refused events aside), `since` and `cause` the first event of the run that
    set it.
    """

    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="consents")
    line = models.ForeignKey(Line, on_delete=models.PROTECT, related_name="consents")
    status = models.CharField(max_length=10, choices=ConsentStatus.choices)
    since = models.DateTimeField()
    cause = models.ForeignKey(ConsentEvent, on_delete=models.PROTECT, related_name="+")
    latest_at = models.DateTimeField(help_text="occurred_at of the latest event on this pair.")

    objects = ConsentQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["line", "status"], name="consent_line_status")]
        constraints = [
            models.UniqueConstraint(fields=["contact", "line"], name="consent_one_per_pair"),
            models.CheckConstraint(
                condition=Q(status__in=ConsentStatus.values), name="consent_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contact} {self.get_status_display()} on {self.line}"


class ImportStatus(models.TextChoices):
    MAPPING = "mapping", "Waiting for the column mapping"
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Importing"
    DONE = "done", "Done"
    FAILED = "failed", "Stopped by an error"


class ContactImport(models.Model):
    """An uploaded contacts file and what importing it did.

    The file is kept as uploaded: it is the evidence behind the consent it imported, and a
    worker on another machine reads it from here. Progress counters are committed with each
    chunk of rows, so they always say exactly what is stored.
    """

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="imports")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="contact_imports"
    )
    file_name = models.CharField(max_length=255)
    data = models.BinaryField()
    content_sha256 = models.CharField(max_length=64, db_index=True)
    undated_at = models.DateTimeField(
        help_text="When the file's undated statuses are taken to have happened: the first "
        "upload of this same file, so importing it again changes nothing."
    )
    delimiter = models.CharField(max_length=1, default=",")
    headers = models.JSONField(default=list)
    mapping = models.JSONField(default=dict, help_text="Column index → what it holds.")
    status = models.CharField(
        max_length=10, choices=ImportStatus.choices, default=ImportStatus.MAPPING
    )
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)
    bad_count = models.PositiveIntegerField(default=0)
    bad_rows = models.JSONField(default=list, help_text="[row number, reason], the first ones.")
    warning_count = models.PositiveIntegerField(default=0)
    warnings = models.JSONField(
        default=list,
        help_text="[row number, what was left out], the first ones: rows imported without a "
        "value that could not be read (an invalid e-mail address).",
    )
    contacts = models.ManyToManyField(
        Contact,
        related_name="imports",
        blank=True,
        help_text="The contacts the file's good rows named: an audience for a broadcast.",
    )
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    progress_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = AccountScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "queued_at"], name="import_status_queued")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ImportStatus.values), name="import_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_status_display()})"

    @property
    def is_finished(self) -> bool:
        return self.status in (ImportStatus.DONE, ImportStatus.FAILED)

    @property
    def rows_to_fix(self) -> int:
        """How many rows the rows-to-fix download holds: the kept bad rows and warnings."""
        return len(self.bad_rows) + len(self.warnings)

    @property
    def rows_to_fix_cut(self) -> bool:
        """Whether more rows had problems than were kept (BAD_ROWS_KEPT of each kind)."""
        return self.bad_count > len(self.bad_rows) or self.warning_count > len(self.warnings)

    @property
    def percent(self) -> int:
        if not self.total_rows:
            return 100 if self.is_finished else 0
        return min(100, self.processed_rows * 100 // self.total_rows)


class ConsentAnchor(AppendOnlyModel):
    """The hash over one account's consent events recorded on one UTC day (crm.ledger), chained
    to the day before: what shows that an event was removed or a chain rebuilt afterwards."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="consent_anchors")
    day = models.DateField(help_text="The UTC day whose events it seals.")
    event_count = models.PositiveIntegerField()
    events_sha256 = models.CharField(
        max_length=64, help_text="The digest of the day's event hashes, in recording order."
    )
    previous_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["account", "day"]
        constraints = [
            models.UniqueConstraint(fields=["account", "day"], name="anchor_one_per_day"),
        ]

    def __str__(self) -> str:
        return f"{self.account} {self.day}: {self.hash[:12]}…"


class ConsentLogVerification(AppendOnlyModel):
    """One run of `verify_consent_log` over an account: what it checked and what it found.
    Append-only: the next run checks that the newest anchor this one saw is still there."""

    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="consent_log_verifications"
    )
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    events_checked = models.PositiveIntegerField()
    days_checked = models.PositiveIntegerField()
    intact = models.BooleanField()
    problems = models.JSONField(default=list, help_text="The first problems found, in order.")
    problems_found = models.PositiveIntegerField(default=0)
    unanchored_days = models.PositiveIntegerField(
        default=0, help_text="Finished days not anchored yet (is beat running?)."
    )
    latest_anchor_day = models.DateField(null=True, blank=True)
    latest_anchor_hash = models.CharField(max_length=64, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-id"]
        get_latest_by = "started_at"

    def __str__(self) -> str:
        verdict = "intact" if self.intact else "does not match"
        return f"{self.account} {self.started_at:%Y-%m-%d %H:%M}: {verdict}"
