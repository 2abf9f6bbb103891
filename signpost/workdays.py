"""Working days in England and Wales: the front door's one-working-day clock, for queue and reports.

Pure (no Flask, no database). Weekends and bank holidays from the pinned `holidays` package.
"""
from __future__ import annotations

import datetime as dt
import functools
import holidays

from .values import LONDON

DAY = dt.timedelta(days=1)
# The dates any form, filter or file may give: wide enough for every real record and report, and
# far enough from year 1 and year 9999 that a year either side still exists (date arithmetic near
# them overflows, and a report's baseline is a year before its period).
EARLIEST = dt.date(1900, 1, 1)
LATEST = dt.date(2999, 12, 31)
YEARS_ALLOWED = f"from {EARLIEST.year} to {LATEST.year}"


def in_range(day: dt.date | None) -> bool:
    """A date (or datetime) the service accepts: EARLIEST to LATEST."""
    if day is None:
        return False
    day = day.date() if isinstance(day, dt.datetime) else day
    return EARLIEST <= day <= LATEST


def parse_day(text: str | None) -> dt.date | None:
    """An ISO date (2026-04-15) in the accepted range, else None."""
    try:
        day = dt.date.fromisoformat((text or "").strip())
    except ValueError:
        return None
    return day if in_range(day) else None


@functools.lru_cache(maxsize=64)
def _bank_holidays(year: int) -> frozenset[dt.date]:
    # England and Wales share one list of bank holidays (holidays' "ENG" and "WLS" agree).
    return frozenset(holidays.UK(subdiv="ENG", years=year))


def months_before(day, months: int):
    """The same day (a date or a datetime) `months` months earlier, the day clamped to the month's
    end, as PostgreSQL's intervals do: the reports' periods and the 12-month re-referral window."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    month += 1
    last = (dt.date(year + (month == 12), month % 12 + 1, 1) - DAY).day
    return day.replace(year=year, month=month, day=min(day.day, last))


def is_working_day(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in _bank_holidays(day.year)


def next_working_day(day: dt.date) -> dt.date:
    """The first working day strictly after `day`."""
    day += DAY
    while not is_working_day(day):
        day += DAY
    return day


def previous_working_day(day: dt.date) -> dt.date:
    """The last working day strictly before `day`."""
    day -= DAY
    while not is_working_day(day):
        day -= DAY
    return day


def uk_local(at_utc: dt.datetime) -> dt.datetime:
    """Naive UTC (as stored) to naive London wall-clock time."""
    return at_utc.replace(tzinfo=dt.UTC).astimezone(LONDON).replace(tzinfo=None)


def _utc(local: dt.datetime) -> dt.datetime:
    return local.replace(tzinfo=LONDON).astimezone(dt.UTC).replace(tzinfo=None)


def uk_day_start(day: dt.date) -> dt.datetime:
    """When a UK calendar day begins, as naive UTC (as stored): 23:00 the day before in summer."""
    return _utc(dt.datetime.combine(day, dt.time()))


def due_by(received_utc: dt.datetime) -> dt.datetime:
    """When a decision is due: one working day after receipt (naive UTC in and out).

    Time on weekends and bank holidays does not count: received on a working day, it is due
    at the same time on the next working day; received on a day off, by the end of the first
    working day after it (the clock starts that morning).
    """
    local = uk_local(received_utc)
    if is_working_day(local.date()):
        return _utc(dt.datetime.combine(next_working_day(local.date()), local.time()))
    first = next_working_day(local.date())
    return _utc(dt.datetime.combine(first + DAY, dt.time()))


def overdue_if_received_before(now_utc: dt.datetime) -> dt.datetime:
    """The receipt time before which an undecided item is overdue at `now` (naive UTC).

    due_by() never goes down as receipt time goes up, so `received < this` is the same test as
    `due_by(received) < now`, and the queue can count overdue items with one indexed comparison.
    """
    local = uk_local(now_utc)
    if is_working_day(local.date()):
        return _utc(dt.datetime.combine(previous_working_day(local.date()), local.time()))
    # On a day off the clock stands still at the end of the last working day.
    last = previous_working_day(local.date())
    return _utc(dt.datetime.combine(last, dt.time()))


def within_one_working_day(received_utc: dt.datetime, decided_utc: dt.datetime) -> bool:
    """Decision within one working day of receipt: the measure the reports use."""
    return decided_utc <= due_by(received_utc)


def working_hours_left(received_utc: dt.datetime, now_utc: dt.datetime) -> float:
    """Working hours until due (negative once overdue), counting only working days' hours."""
    due = due_by(received_utc)
    if now_utc <= due:
        return _working_seconds(now_utc, due) / 3600
    return -_working_seconds(due, now_utc) / 3600


def _working_seconds(start_utc: dt.datetime, end_utc: dt.datetime) -> float:
    """Seconds between two times that fall on working days (London dates)."""
    start, end = uk_local(start_utc), uk_local(end_utc)
    total = 0.0
    day = start.date()
    while day <= end.date():
        if is_working_day(day):
            lo = max(start, dt.datetime.combine(day, dt.time()))
            hi = min(end, dt.datetime.combine(day + DAY, dt.time()))
            if hi > lo:
                total += (hi - lo).total_seconds()
        day += DAY
    return total
