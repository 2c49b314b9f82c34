"""Business days (Monday to Friday) for legal deadlines, such as the FCC's ten business days
to honour a revocation (47 CFR 64.1200(a)(10)).

Public holidays are counted as business days: a deadline computed here is never later than
the legal one, which is the safe side to be wrong on.
"""

from datetime import datetime, timedelta, tzinfo


def add_business_days(moment: datetime, days: int, zone: tzinfo) -> datetime:
    """The moment `days` business days after `moment` (before it, when negative), at the same
    wall-clock time in `zone`."""
    local = moment.astimezone(zone)
    step = 1 if days >= 0 else -1
    remaining = abs(days)
    while remaining:
        local += timedelta(days=step)
        if local.weekday() < 5:
            remaining -= 1
    return local


def business_days_between(start: datetime, end: datetime, zone: tzinfo) -> int:
    """How many business days have begun after `start`'s day, up to `end`'s day, in `zone`."""
    first, last = start.astimezone(zone).date(), end.astimezone(zone).date()
    weeks, extra = divmod((last - first).days, 7)
    count = weeks * 5
    for offset in range(1, extra + 1):
        if (first + timedelta(days=offset)).weekday() < 5:
            count += 1
    return max(count, 0)
