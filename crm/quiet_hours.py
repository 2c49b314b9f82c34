"""Quiet hours: when a text may reach a contact, in the contact's own local time.

The time zone comes from the number (`phonenumbers`' prefix data, the lookup it does itself);
a number whose prefix spans several zones must be inside the window in every one of them, the
narrowest reading. Stricter state rules for marketing texts (`STATE_RULES`) narrow the account's
window further; they apply even when the account turns its own window off, because they are
the law where the contact lives, not a preference. The state comes from the area code.

A text outside the window is never dropped: `next_allowed` gives the moment it may go.
"""

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import phonenumbers
from phonenumbers import geocoder
from phonenumbers.tzdata import TIMEZONE_DATA, TIMEZONE_LONGEST_PREFIX

UNKNOWN_ZONE = "Etc/Unknown"
# Every moment of a week is looked at by then; a window that never opens is a bug, not a wait.
LOOKAHEAD = timedelta(days=8)


@dataclass(frozen=True)
class Window:
    """Local times a text may go on one day: from `start` (inclusive) to `end` (exclusive)."""

    start: time
    end: time

    def narrowed_by(self, other: "Window | None") -> "Window":
        if other is None:
            return self
        return Window(max(self.start, other.start), min(self.end, other.end))

    def __str__(self) -> str:
        return f"{self.start:%H:%M}\u2013{self.end:%H:%M}"


ALL_DAY = Window(time(0), time.max)
MONDAY_TO_SATURDAY = range(6)
SUNDAY = 6


@dataclass(frozen=True)
class StateRule:
    """A US state's hours for marketing texts; `by_weekday[0]` is Monday."""

    state: str
    name: str
    by_weekday: tuple[Window, ...]
    law: str

    def window_on(self, day: date) -> Window:
        return self.by_weekday[day.weekday()]

    @property
    def summary(self) -> str:
        days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
        if len(set(self.by_weekday)) == 1:
            return f"{self.by_weekday[0]} every day"
        weekday = self.by_weekday[0]
        same = [day for day, window in zip(days, self.by_weekday, strict=True) if window == weekday]
        others = [
            f"{window} {day}"
            for day, window in zip(days, self.by_weekday, strict=True)
            if window != weekday
        ]
        return f"{weekday} {same[0]}\u2013{same[-1]}, " + ", ".join(others)


def _every_day(start: int, end: int) -> tuple[Window, ...]:
    return (Window(time(start), time(end)),) * 7


# Not legal advice: the strictest hour limits we know of in state telemarketing laws that
# cover texts. The settings page shows this table as it is here.
STATE_RULES = {
    rule.state: rule
    for rule in (
        StateRule("FL", "Florida", _every_day(8, 20), "Florida Telephone Solicitation Act"),
        StateRule("OK", "Oklahoma", _every_day(8, 20), "Oklahoma Telephone Solicitation Act"),
        StateRule("MD", "Maryland", _every_day(8, 20), "Maryland Stop the Spam Calls Act"),
        StateRule("WA", "Washington", _every_day(8, 20), "RCW 80.36.390"),
        StateRule(
            "TX",
            "Texas",
            (Window(time(9), time(21)),) * 6 + (Window(time(12), time(21)),),
            "Texas Business & Commerce Code § 301.051",
        ),
    )
}
# phonenumbers' geocoder names a US number's place "City, ST" or, for some prefixes, by the
# state's name alone.
_STATE_BY_NAME = {
    "Alabama": "AL",
    "Alaska": "AK",
    "Arizona": "AZ",
    "Arkansas": "AR",
    "California": "CA",
    "Colorado": "CO",
    "Connecticut": "CT",
    "Delaware": "DE",
    "Florida": "FL",
    "Georgia": "GA",
    "Hawaii": "HI",
    "Idaho": "ID",
    "Illinois": "IL",
    "Indiana": "IN",
    "Iowa": "IA",
    "Kansas": "KS",
    "Kentucky": "KY",
    "Louisiana": "LA",
    "Maine": "ME",
    "Maryland": "MD",
    "Massachusetts": "MA",
    "Michigan": "MI",
    "Minnesota": "MN",
    "Mississippi": "MS",
    "Missouri": "MO",
    "Montana": "MT",
    "Nebraska": "NE",
    "Nevada": "NV",
    "New Hampshire": "NH",
    "New Jersey": "NJ",
    "New Mexico": "NM",
    "New York": "NY",
    "North Carolina": "NC",
    "North Dakota": "ND",
    "Ohio": "OH",
    "Oklahoma": "OK",
    "Oregon": "OR",
    "Pennsylvania": "PA",
    "Rhode Island": "RI",
    "South Carolina": "SC",
    "South Dakota": "SD",
    "Tennessee": "TN",
    "Texas": "TX",
    "Utah": "UT",
    "Vermont": "VT",
    "Virginia": "VA",
    "Washington State": "WA",
    "Washington": "WA",
    "West Virginia": "WV",
    "Wisconsin": "WI",
    "Wyoming": "WY",
    "Washington D.C.": "DC",
}
_CITY_AND_STATE = re.compile(r", ([A-Z]{2})$")


def states_shut_out(window: Window) -> list[StateRule]:
    """The states whose rules leave no time at all on some day inside `window`."""
    return [
        rule
        for rule in STATE_RULES.values()
        if any(
            window.narrowed_by(day).start >= window.narrowed_by(day).end for day in rule.by_weekday
        )
    ]


@dataclass(frozen=True)
class QuietHours:
    """An account's window (None: off) with the state rules on top."""

    window: Window | None

    @classmethod
    def of(cls, account) -> "QuietHours":
        if not account.quiet_hours_enabled:
            return cls(None)
        return cls(Window(account.quiet_hours_start, account.quiet_hours_end))

    def next_allowed(self, phone: str, at: datetime, *, fallback_phone: str = "") -> datetime:
        """`at` when a text may reach `phone` then, else the first moment after it that may.

        `fallback_phone` (the line's own number) gives the zone when the contact's number has
        none, or when its zones share no allowed moment (a toll-free number spans them all).
        """
        return self._next_allowed_at(place_of(phone), at, fallback_phone, phone)

    def next_allowed_for_each(
        self, phones: Iterable[str], at: datetime, *, fallback_phone: str = ""
    ) -> Iterator[tuple[str, datetime]]:
        """(phone, next allowed moment) for many numbers at once: worked out once per place
        (zones and state), so a hundred thousand numbers cost a few hundred calculations."""
        known: dict[tuple, datetime] = {}
        for phone in phones:
            place = place_of(phone)
            if place not in known:
                known[place] = self._next_allowed_at(place, at, fallback_phone, phone)
            yield phone, known[place]

    def _next_allowed_at(
        self, place: tuple, at: datetime, fallback_phone: str, phone: str
    ) -> datetime:
        zones, state = place
        rule = STATE_RULES.get(state)
        moment = _first_common_moment(zones, self.window, rule, at)
        if moment is None and fallback_phone:
            moment = _first_common_moment(zones_of(fallback_phone), self.window, rule, at)
        if moment is None:
            raise ValueError(f"No moment in the next week lets a text reach {phone}.")
        return moment.astimezone(UTC)

    def allows(self, phone: str, at: datetime, *, fallback_phone: str = "") -> bool:
        return self.next_allowed(phone, at, fallback_phone=fallback_phone) == at


def place_of(phone: str) -> tuple[tuple[ZoneInfo, ...], str]:
    """What quiet hours depend on for a number: its time zones and its US state."""
    return zones_of(phone), state_of(phone)


@lru_cache(maxsize=4096)
def zones_of(phone: str) -> tuple[ZoneInfo, ...]:
    """The time zones an E.164 number may be in, by phonenumbers' longest matching prefix."""
    digits = phone.lstrip("+")
    for length in range(min(TIMEZONE_LONGEST_PREFIX, len(digits)), 0, -1):
        names = TIMEZONE_DATA.get(digits[:length])
        if names:
            return tuple(ZoneInfo(name) for name in names if name != UNKNOWN_ZONE)
    return ()


def state_of(phone: str) -> str:
    """The US state of a number's area code (two letters), or "" outside the US.

    Area codes never cross state lines, so the answer is kept per area code."""
    if not phone.startswith("+1") or len(phone) < 5:
        return ""
    area = phone[:5]
    if area not in _STATE_BY_AREA:
        _STATE_BY_AREA[area] = _state_from_geocoder(phone)
    return _STATE_BY_AREA[area]


_STATE_BY_AREA: dict[str, str] = {}


def _state_from_geocoder(phone: str) -> str:
    """The state phonenumbers' geocoder gives the number's prefix ("" for none, or for a
    Canadian or Caribbean area code). The prefix decides, so a number with made-up digits
    after a real area code still says where it is."""
    try:
        number = phonenumbers.parse(phone)
    except phonenumbers.NumberParseException:
        return ""
    description = geocoder.description_for_valid_number(number, "en")
    match = _CITY_AND_STATE.search(description)
    if match:
        return match.group(1)
    return _STATE_BY_NAME.get(description, "")


def _first_common_moment(
    zones: tuple[ZoneInfo, ...], window: Window | None, rule: StateRule | None, at: datetime
) -> datetime | None:
    """The first moment from `at` inside the window in every zone, or None within a week."""
    if not zones or (window is None and rule is None):
        return at if window is None and rule is None else None
    moment = at
    while moment < at + LOOKAHEAD:
        moved = False
        for zone in zones:
            later = _next_in_zone(moment, zone, window, rule)
            if later is None:
                return None
            if later != moment:
                moment, moved = later, True
        if not moved:
            return moment
    return None


def _next_in_zone(
    moment: datetime, zone: ZoneInfo, window: Window | None, rule: StateRule | None
) -> datetime | None:
    day = moment.astimezone(zone).date()
    for offset in range(LOOKAHEAD.days):
        current = day + timedelta(days=offset)
        allowed = (window or ALL_DAY).narrowed_by(rule.window_on(current) if rule else None)
        if allowed.start >= allowed.end:
            continue
        opens = datetime.combine(current, allowed.start, tzinfo=zone)
        closes = (
            datetime.combine(current + timedelta(days=1), time(0), tzinfo=zone)
            if allowed.end == time.max
            else datetime.combine(current, allowed.end, tzinfo=zone)
        )
        if moment < opens:
            return opens
        if moment < closes:
            return moment
    return None
