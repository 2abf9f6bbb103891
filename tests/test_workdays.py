"""The one-working-day clock: weekends and England and Wales bank holidays do not count."""
from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings, strategies as st

from signpost import workdays


def utc(*args) -> dt.datetime:
    return dt.datetime(*args)


def test_bank_holidays_of_england_and_wales_are_not_working_days():
    assert not workdays.is_working_day(dt.date(2026, 12, 25))      # Christmas Day, a Friday
    assert not workdays.is_working_day(dt.date(2026, 12, 28))      # Boxing Day (substitute)
    assert not workdays.is_working_day(dt.date(2026, 8, 31))       # late summer bank holiday
    assert not workdays.is_working_day(dt.date(2026, 11, 28))      # a Saturday
    assert workdays.is_working_day(dt.date(2026, 11, 30))          # St Andrew's Day: Scotland only
    assert workdays.is_working_day(dt.date(2026, 3, 17))           # St Patrick's Day: Northern Ireland only


def test_due_the_same_time_next_working_day():
    # Tuesday 10:00 GMT -> Wednesday 10:00.
    assert workdays.due_by(utc(2026, 11, 24, 10, 0)) == utc(2026, 11, 25, 10, 0)
    # Friday 16:30 -> Monday 16:30.
    assert workdays.due_by(utc(2026, 11, 27, 16, 30)) == utc(2026, 11, 30, 16, 30)
    # Thursday 24 December 2026 11:00 -> Christmas Friday and the Monday substitute are off: Tuesday 29th.
    assert workdays.due_by(utc(2026, 12, 24, 11, 0)) == utc(2026, 12, 29, 11, 0)


def test_received_on_a_day_off_is_due_by_the_end_of_the_next_working_day():
    # Saturday -> the end of Monday (midnight London time; GMT in November).
    assert workdays.due_by(utc(2026, 11, 28, 9, 0)) == utc(2026, 12, 1, 0, 0)
    # Summer time: Saturday 13 June 2026 -> end of Monday 15 June, 23:00 UTC.
    assert workdays.due_by(utc(2026, 6, 13, 9, 0)) == utc(2026, 6, 15, 23, 0)


def test_london_dates_decide_the_day_not_utc():
    # 23:30 UTC on Friday 12 June 2026 is 00:30 on Saturday in London: a day off.
    assert workdays.due_by(utc(2026, 6, 12, 23, 30)) == utc(2026, 6, 15, 23, 0)


def test_within_one_working_day():
    received = utc(2026, 11, 27, 16, 30)  # a Friday
    assert workdays.within_one_working_day(received, utc(2026, 11, 30, 16, 30))
    assert not workdays.within_one_working_day(received, utc(2026, 11, 30, 16, 31))


def test_working_hours_left_skip_the_weekend():
    received = utc(2026, 11, 27, 16, 0)  # Friday 16:00, due Monday 16:00
    assert workdays.working_hours_left(received, utc(2026, 11, 28, 12, 0)) == 16.0
    assert workdays.working_hours_left(received, utc(2026, 11, 30, 18, 0)) == -2.0


moments = st.datetimes(min_value=dt.datetime(2024, 1, 1), max_value=dt.datetime(2028, 12, 31))


@settings(max_examples=400, deadline=None)
@given(received=moments, now=moments)
def test_overdue_cutoff_agrees_with_due_by(received, now):
    """The queue's one comparison (received before the cutoff) is exactly 'due before now'."""
    cutoff = workdays.overdue_if_received_before(now)
    assert (workdays.due_by(received) < now) == (received < cutoff)


@settings(max_examples=200, deadline=None)
@given(earlier=moments, later=moments)
def test_due_by_never_goes_down(earlier, later):
    earlier, later = sorted((earlier, later))
    assert workdays.due_by(earlier) <= workdays.due_by(later)
    assert workdays.due_by(earlier) > earlier


def test_age_bands_match_the_journeys():
    from signpost import journey
    from signpost.values import AGE_BANDS, age_band_for
    for months in range(0, 18 * 12 + 5):
        answers = {"child": {"unborn": False, "years": months // 12, "months": months % 12}}
        assert age_band_for(months) == journey.age_band(answers) in AGE_BANDS
    assert age_band_for(None, unborn=True) == journey.age_band({"child": {"unborn": True}}) == "unborn"


@pytest.mark.parametrize("utc, uk_day", [
    (dt.datetime(2026, 6, 30, 23, 30), dt.date(2026, 7, 1)),    # 00:30 BST: already 1 July in the UK
    (dt.datetime(2026, 12, 31, 23, 30), dt.date(2026, 12, 31)),  # GMT: the same day
    (dt.datetime(2027, 3, 28, 0, 30), dt.date(2027, 3, 28)),
])
def test_today_is_the_uk_date_whatever_the_servers_time_zone(monkeypatch, utc, uk_day):
    """A version in force from 1 July is in force from UK midnight, not from 01:00 on a UTC server."""
    from signpost import values

    class Clock(dt.datetime):
        @classmethod
        def now(cls, tz=None):
            return utc.replace(tzinfo=dt.UTC).astimezone(tz)
    monkeypatch.setattr(values.dt, "datetime", Clock)
    assert values.uk_today() == uk_day
