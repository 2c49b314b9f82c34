"""Quiet hours in the contact's local time: zones from the number, state rules, DST."""

from datetime import UTC, datetime, time

import pytest

from crm.quiet_hours import STATE_RULES, QuietHours, Window, state_of, zones_of

DEFAULT = QuietHours(Window(time(8), time(21)))
SAN_FRANCISCO = "+14155550100"
MIAMI = "+13055550100"
DALLAS = "+12145550100"
LONDON = "+447700900123"
TOLL_FREE = "+18005550100"


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("phone", "at", "expected"),
    [
        # 19:00 in San Francisco (PST, UTC-8): inside.
        (SAN_FRANCISCO, utc(2026, 11, 30, 3, 0), utc(2026, 11, 30, 3, 0)),
        # 21:00 sharp in San Francisco: the window has closed; 08:00 next morning.
        (SAN_FRANCISCO, utc(2026, 11, 30, 5, 0), utc(2026, 11, 30, 16, 0)),
        # 07:59 in London: a minute to wait.
        (LONDON, utc(2026, 11, 30, 7, 59), utc(2026, 11, 30, 8, 0)),
        # Florida stops at 20:00: 20:30 in Miami waits for 08:00.
        (MIAMI, utc(2026, 12, 1, 1, 30), utc(2026, 12, 1, 13, 0)),
        # Texas on a Sunday: not before noon (CST, UTC-6).
        (DALLAS, utc(2026, 11, 29, 15, 0), utc(2026, 11, 29, 18, 0)),
        # Texas on a Monday: from 09:00.
        (DALLAS, utc(2026, 11, 30, 14, 30), utc(2026, 11, 30, 15, 0)),
        # Texas on a Saturday evening at 21:30: Sunday noon, not Sunday 09:00.
        (DALLAS, utc(2026, 11, 29, 3, 30), utc(2026, 11, 29, 18, 0)),
    ],
)
def test_the_next_allowed_moment_is_in_the_contacts_local_time(phone, at, expected):
    assert DEFAULT.next_allowed(phone, at) == expected


def test_daylight_saving_changes_move_the_window_with_the_clock():
    # 2026-03-08: US clocks go forward at 02:00. 08:00 in San Francisco is 16:00 UTC the day
    # before and 15:00 UTC that day.
    assert DEFAULT.next_allowed(SAN_FRANCISCO, utc(2026, 3, 7, 6, 0)) == utc(2026, 3, 7, 16, 0)
    assert DEFAULT.next_allowed(SAN_FRANCISCO, utc(2026, 3, 8, 6, 0)) == utc(2026, 3, 8, 15, 0)
    # 2026-11-01: back again; 21:00 PDT on 31 October is 04:00 UTC, 21:00 PST 05:00 UTC.
    assert not DEFAULT.allows(SAN_FRANCISCO, utc(2026, 11, 1, 4, 30))
    assert DEFAULT.allows(SAN_FRANCISCO, utc(2026, 11, 2, 4, 30))


def test_a_number_spanning_zones_must_be_inside_the_window_in_every_one():
    zones = {zone.key for zone in zones_of(TOLL_FREE)}
    assert {"America/New_York", "Pacific/Honolulu"} <= zones
    at = utc(2026, 11, 30, 14, 0)  # 09:00 in New York, 04:00 in Honolulu
    allowed = DEFAULT.next_allowed(TOLL_FREE, at)
    assert allowed > at
    for zone in zones_of(TOLL_FREE):
        local = allowed.astimezone(zone).time()
        assert time(8) <= local < time(21), zone


def test_a_number_without_a_zone_is_judged_in_the_lines_zone():
    unknown = "+8823456789"  # international networks: no zone in the data
    assert zones_of(unknown) == ()
    at = utc(2026, 11, 30, 6, 0)  # 22:00 in San Francisco
    assert DEFAULT.next_allowed(unknown, at, fallback_phone=SAN_FRANCISCO) == utc(
        2026, 11, 30, 16, 0
    )


def test_state_rules_apply_even_when_the_accounts_window_is_off():
    off = QuietHours(None)
    assert off.allows(SAN_FRANCISCO, utc(2026, 11, 30, 11, 0))  # 03:00 in San Francisco
    assert off.next_allowed(MIAMI, utc(2026, 11, 30, 4, 0)) == utc(2026, 11, 30, 13, 0)


def test_the_state_comes_from_the_area_code():
    assert [state_of(phone) for phone in (MIAMI, DALLAS, "+14055550100", SAN_FRANCISCO)] == [
        "FL",
        "TX",
        "OK",
        "CA",
    ]
    assert state_of(LONDON) == ""
    assert {"FL", "OK", "TX"} <= set(STATE_RULES)


def test_a_narrow_account_window_and_a_state_rule_combine():
    narrow = QuietHours(Window(time(10), time(22)))
    # Miami at 09:00: the account says 10:00, Florida says 08:00; 10:00 it is. At 20:15 the
    # account would allow it, Florida does not.
    assert narrow.next_allowed(MIAMI, utc(2026, 11, 30, 14, 0)) == utc(2026, 11, 30, 15, 0)
    assert narrow.next_allowed(MIAMI, utc(2026, 12, 1, 1, 15)) == utc(2026, 12, 1, 15, 0)
