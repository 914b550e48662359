"""China's working-day calendar: statutory holidays and make-up working days (调休).

Deadlines in the platform ("claim within 2 working days") are counted on
this calendar. The State Council publishes each year's arrangement in
November or December; `chinese-calendar` carries the published years. For a
year it does not carry yet, we fall back to Monday–Friday and say so
(`is_known_year`), rather than fail: a deadline a few days off around a
holiday is better than no deadline.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import chinese_calendar


@lru_cache(maxsize=64)
def is_known_year(year: int) -> bool:
    try:
        chinese_calendar.is_workday(dt.date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


@lru_cache(maxsize=8192)
def is_workday(day: dt.date) -> bool:
    """Kept per day (22 years of days at most): `chinese_calendar.is_workday`
    checks the date against its range by taking the min and max of every
    holiday it knows on each call, ~18 µs, and the 督办看板 counts each
    overdue dispatch's working days one day at a time."""
    if is_known_year(day.year):
        return chinese_calendar.is_workday(day)
    return day.weekday() < 5


def add_workdays(start: dt.date, days: int) -> dt.date:
    """The date `days` working days after `start` (start itself not counted).

    add_workdays(Friday, 1) is the next working Monday (or the 调休 Saturday,
    if that Saturday is a working day).
    """
    if days < 0:
        raise ValueError("days must be >= 0")
    current = start
    remaining = days
    while remaining:
        current += dt.timedelta(days=1)
        if is_workday(current):
            remaining -= 1
    return current


def workdays_between(start: dt.date, end: dt.date) -> int:
    """Working days in (start, end]; negative if end is before start."""
    if end < start:
        return -workdays_between(end, start)
    count = 0
    current = start
    while current < end:
        current += dt.timedelta(days=1)
        if is_workday(current):
            count += 1
    return count


def deadline_after(moment: dt.datetime, days: int, *, end_of_day: dt.time = dt.time(23, 59, 59)):
    """An aware deadline: the end of the `days`-th working day after `moment`'s date,
    in the moment's own time zone (Asia/Shanghai for the platform)."""
    if moment.tzinfo is None:
        raise ValueError("moment must be timezone-aware")
    day = add_workdays(moment.date(), days)
    return dt.datetime.combine(day, end_of_day, tzinfo=moment.tzinfo)
