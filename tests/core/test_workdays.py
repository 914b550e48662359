import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from chanrong.core.workdays import (
    add_workdays,
    deadline_after,
    is_known_year,
    is_workday,
    workdays_between,
)

D = dt.date


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (D(2026, 11, 20), 1, D(2026, 11, 23)),  # Friday -> Monday
        (D(2026, 11, 20), 2, D(2026, 11, 24)),
        (D(2026, 11, 21), 1, D(2026, 11, 23)),  # from a Saturday
        # Spring Festival 2026: 2-15 .. 2-23 off; 2-14 (Sat) and 2-28 (Sat) are 调休 working days.
        (D(2026, 2, 13), 1, D(2026, 2, 14)),
        (D(2026, 2, 14), 1, D(2026, 2, 24)),
        (D(2026, 2, 13), 2, D(2026, 2, 24)),
        (D(2026, 2, 27), 1, D(2026, 2, 28)),
        # National Day 2025: 10-1 .. 10-8 off; 9-28 (Sun) and 10-11 (Sat) are working days.
        (D(2025, 9, 26), 1, D(2025, 9, 28)),
        (D(2025, 9, 30), 1, D(2025, 10, 9)),
        (D(2025, 10, 10), 1, D(2025, 10, 11)),
    ],
)
def test_add_workdays_follows_the_published_calendar(start, days, expected):
    assert add_workdays(start, days) == expected


def test_make_up_days_and_holidays():
    assert is_workday(D(2026, 2, 14))  # Saturday, 调休
    assert not is_workday(D(2026, 2, 17))  # 春节, a Tuesday
    assert not is_workday(D(2026, 11, 22))  # ordinary Sunday


def test_zero_days_is_the_same_day_and_negative_is_refused():
    assert add_workdays(D(2026, 2, 17), 0) == D(2026, 2, 17)
    with pytest.raises(ValueError):
        add_workdays(D(2026, 2, 17), -1)


def test_workdays_between_is_the_inverse_of_add():
    start = D(2026, 1, 1)
    for days in range(0, 40):
        assert workdays_between(start, add_workdays(start, days)) == days
    assert workdays_between(D(2026, 2, 24), D(2026, 2, 13)) == -2


def test_unknown_years_fall_back_to_weekdays():
    assert not is_known_year(2099)
    assert is_workday(D(2099, 1, 1))  # a Thursday; no published holiday yet
    assert not is_workday(D(2099, 1, 3))  # Saturday


def test_deadline_is_end_of_the_working_day_in_shanghai():
    moment = dt.datetime(2026, 2, 13, 16, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    deadline = deadline_after(moment, 2)
    assert deadline == dt.datetime(2026, 2, 24, 23, 59, 59, tzinfo=ZoneInfo("Asia/Shanghai"))
    with pytest.raises(ValueError):
        deadline_after(dt.datetime(2026, 2, 13, 16, 30), 2)
