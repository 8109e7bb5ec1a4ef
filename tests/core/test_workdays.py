"""Working-day arithmetic on the official calendar (core.workdays)."""

from __future__ import annotations

import datetime as dt

import chinese_calendar
import pytest

from core.workdays import PACKAGED_YEARS, WorkCalendar

D = dt.date


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return WorkCalendar()


@pytest.fixture
def package_ends_2026(monkeypatch):
    """chinese-calendar as 1.11.0 shipped it (2004-2026), whatever release is installed,
    for the tests that need 2027 to be the first year without data."""
    import core.workdays

    years = range(2004, 2027)
    for name in ("holidays", "workdays"):
        table = getattr(chinese_calendar, name)
        monkeypatch.setattr(chinese_calendar, name,
                            {d: v for d, v in table.items() if d.year in years})
    monkeypatch.setattr(core.workdays, "PACKAGED_YEARS", years)


def days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


# --- coverage ------------------------------------------------------------------


def test_packaged_years_are_read_from_chinese_calendar():
    """1.11.0 covers 2004-2026; a later release may only add years."""
    assert PACKAGED_YEARS.start == 2004
    assert PACKAGED_YEARS.stop >= 2027


def test_covers_exactly_the_packaged_years_without_admin_data(cal):
    assert cal.covers(2004)
    assert cal.covers(2026)
    assert cal.covers(PACKAGED_YEARS.stop - 1)
    assert not cal.covers(2003)
    assert not cal.covers(PACKAGED_YEARS.stop)
    assert not cal.covers(2100)


def test_uncovered_years_lists_each_missing_year_in_either_order(package_ends_2026):
    cal = WorkCalendar()
    assert cal.uncovered_years(D(2025, 1, 1), D(2026, 12, 31)) == []
    assert cal.uncovered_years(D(2026, 12, 20), D(2029, 1, 5)) == [2027, 2028, 2029]
    assert cal.uncovered_years(D(2029, 1, 5), D(2026, 12, 20)) == [2027, 2028, 2029]
    assert cal.uncovered_years(D(2003, 6, 1), D(2004, 6, 1)) == [2003]


# --- the package data, cross-checked against the State Council notices -----------


@pytest.mark.parametrize(
    ("holiday", "makeup_days"),
    [
        pytest.param(
            (D(2025, 1, 28), D(2025, 2, 4)), [D(2025, 1, 26), D(2025, 2, 8)], id="2025-spring"
        ),
        pytest.param(
            (D(2025, 10, 1), D(2025, 10, 8)), [D(2025, 9, 28), D(2025, 10, 11)], id="2025-national"
        ),
        pytest.param(
            (D(2026, 2, 15), D(2026, 2, 23)), [D(2026, 2, 14), D(2026, 2, 28)], id="2026-spring"
        ),
        pytest.param(
            (D(2026, 10, 1), D(2026, 10, 7)), [D(2026, 9, 20), D(2026, 10, 10)], id="2026-national"
        ),
    ],
)
def test_holiday_blocks_and_makeup_weekend_days(cal, holiday, makeup_days):
    first, last = holiday
    assert not any(cal.is_workday(d) for d in days(first, last))
    assert cal.is_workday(first - dt.timedelta(days=1))
    assert cal.is_workday(last + dt.timedelta(days=1))
    for d in makeup_days:
        assert d.weekday() >= 5, f"{d} is a weekend day"
        assert cal.is_workday(d)
        assert d in chinese_calendar.workdays
    assert all(d in chinese_calendar.holidays for d in days(first, last))


def test_plain_weekends_and_weekdays_outside_holidays(cal):
    assert cal.is_workday(D(2025, 3, 3))  # Monday
    assert not cal.is_workday(D(2025, 3, 8))  # Saturday
    assert not cal.is_workday(D(2025, 3, 9))  # Sunday


def test_is_workday_accepts_a_datetime(cal):
    assert not cal.is_workday(dt.datetime(2025, 10, 1, 9, 30))
    assert cal.is_workday(dt.datetime(2025, 10, 11, 9, 30))


# --- add_workdays across the 2025 Spring Festival --------------------------------
# Fri 24 Jan; Sun 26 (make-up) = 1; Mon 27 = 2; 28 Jan-4 Feb off; Wed 5 Feb = 3;
# Thu 6 = 4; Fri 7 = 5; Sat 8 (make-up) = 6; Mon 10 = 7.


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (1, D(2025, 1, 26)),
        (2, D(2025, 1, 27)),
        (3, D(2025, 2, 5)),
        (5, D(2025, 2, 7)),
        (6, D(2025, 2, 8)),
        (7, D(2025, 2, 10)),
    ],
)
def test_add_workdays_across_2025_spring_festival(cal, n, expected):
    assert cal.add_workdays(D(2025, 1, 24), n) == expected


def test_add_workdays_from_the_days_around_2025_spring_festival(cal):
    assert cal.add_workdays(D(2025, 1, 27), 1) == D(2025, 2, 5)  # last day before
    assert cal.add_workdays(D(2025, 2, 5), -1) == D(2025, 1, 27)  # first day after
    assert cal.add_workdays(D(2025, 1, 30), 1) == D(2025, 2, 5)  # inside the break
    assert cal.add_workdays(D(2025, 1, 30), -1) == D(2025, 1, 27)
    assert cal.add_workdays(D(2025, 2, 8), 1) == D(2025, 2, 10)  # on the make-up Saturday
    assert cal.add_workdays(D(2025, 2, 8), -1) == D(2025, 2, 7)
    assert cal.add_workdays(D(2025, 2, 10), -1) == D(2025, 2, 8)


def test_workdays_between_across_2025_spring_festival(cal):
    assert cal.workdays_between(D(2025, 1, 24), D(2025, 2, 10)) == 7
    assert cal.workdays_between(D(2025, 1, 27), D(2025, 2, 5)) == 1
    assert cal.workdays_between(D(2025, 1, 27), D(2025, 2, 4)) == 0
    assert cal.workdays_between(D(2025, 2, 7), D(2025, 2, 8)) == 1  # make-up Saturday
    assert cal.workdays_between(D(2025, 2, 8), D(2025, 2, 9)) == 0  # ordinary Sunday


# --- 2025 National Day: Sun 28 Sep (make-up), 1-8 Oct off, Sat 11 Oct (make-up) ---


def test_add_workdays_across_2025_national_day(cal):
    start = D(2025, 9, 26)  # Friday
    assert cal.add_workdays(start, 1) == D(2025, 9, 28)
    assert cal.add_workdays(start, 3) == D(2025, 9, 30)
    assert cal.add_workdays(start, 4) == D(2025, 10, 9)
    assert cal.add_workdays(start, 6) == D(2025, 10, 11)
    assert cal.add_workdays(start, 7) == D(2025, 10, 13)
    assert cal.add_workdays(D(2025, 9, 30), 1) == D(2025, 10, 9)
    assert cal.add_workdays(D(2025, 10, 9), -1) == D(2025, 9, 30)
    assert cal.add_workdays(D(2025, 10, 11), -2) == D(2025, 10, 9)


def test_workdays_between_across_2025_national_day(cal):
    assert cal.workdays_between(D(2025, 9, 26), D(2025, 10, 13)) == 7
    assert cal.workdays_between(D(2025, 9, 30), D(2025, 10, 9)) == 1
    assert cal.workdays_between(D(2025, 9, 30), D(2025, 10, 8)) == 0
    assert cal.workdays_between(D(2025, 10, 10), D(2025, 10, 11)) == 1


# --- 2026 Spring Festival: Sat 14 Feb (make-up), 15-23 Feb off, Sat 28 Feb --------


def test_add_workdays_across_2026_spring_festival(cal):
    start = D(2026, 2, 13)  # Friday
    assert cal.add_workdays(start, 1) == D(2026, 2, 14)
    assert cal.add_workdays(start, 2) == D(2026, 2, 24)
    assert cal.add_workdays(start, 6) == D(2026, 2, 28)
    assert cal.add_workdays(start, 7) == D(2026, 3, 2)
    assert cal.add_workdays(D(2026, 2, 14), 1) == D(2026, 2, 24)
    assert cal.add_workdays(D(2026, 2, 24), -1) == D(2026, 2, 14)
    assert cal.workdays_between(start, D(2026, 3, 2)) == 7
    assert cal.workdays_between(D(2026, 2, 14), D(2026, 2, 23)) == 0


# --- 2026 National Day: Sun 20 Sep (make-up), Fri 25 Sep (Mid-autumn) off,
#     1-7 Oct off, Sat 10 Oct (make-up) -------------------------------------------


def test_add_workdays_across_2026_mid_autumn_and_national_day(cal):
    start = D(2026, 9, 18)  # Friday
    assert cal.add_workdays(start, 1) == D(2026, 9, 20)
    assert cal.add_workdays(start, 5) == D(2026, 9, 24)
    assert cal.add_workdays(start, 6) == D(2026, 9, 28)
    assert cal.add_workdays(start, 8) == D(2026, 9, 30)
    assert cal.add_workdays(start, 9) == D(2026, 10, 8)
    assert cal.add_workdays(start, 11) == D(2026, 10, 10)
    assert cal.add_workdays(start, 12) == D(2026, 10, 12)
    assert cal.add_workdays(D(2026, 9, 30), 1) == D(2026, 10, 8)
    assert cal.add_workdays(D(2026, 10, 8), -1) == D(2026, 9, 30)
    assert cal.workdays_between(start, D(2026, 10, 12)) == 12


def test_add_workdays_across_new_year(cal):
    assert cal.add_workdays(D(2024, 12, 31), 1) == D(2025, 1, 2)
    assert cal.add_workdays(D(2025, 12, 31), 1) == D(2026, 1, 4)  # Sunday make-up day


# --- conventions ------------------------------------------------------------------


def test_add_zero_workdays_returns_the_start_even_on_a_holiday(cal):
    assert cal.add_workdays(D(2025, 10, 3), 0) == D(2025, 10, 3)
    assert cal.workdays_between(D(2025, 10, 3), D(2025, 10, 3)) == 0


def test_workdays_between_excludes_start_and_includes_end(cal):
    monday, tuesday = D(2025, 3, 3), D(2025, 3, 4)
    assert cal.workdays_between(monday, tuesday) == 1
    assert cal.workdays_between(monday, monday) == 0


def test_workdays_between_backwards_counts_end_but_not_start(cal):
    # going back from Wed 5 Feb to Mon 27 Jan passes Mon 27 Jan only: [27 Jan, 5 Feb)
    assert cal.workdays_between(D(2025, 2, 5), D(2025, 1, 27)) == -1
    assert cal.workdays_between(D(2025, 2, 10), D(2025, 1, 24)) == -7


@pytest.mark.parametrize(
    "start",
    [
        D(2025, 1, 24),
        D(2025, 1, 30),
        D(2025, 2, 8),
        D(2025, 9, 27),
        D(2026, 2, 15),
        D(2026, 12, 25),
    ],
)
def test_workdays_between_inverts_add_workdays(cal, start):
    for n in range(-40, 41):
        assert cal.workdays_between(start, cal.add_workdays(start, n)) == n


def test_result_of_nonzero_add_workdays_is_a_workday(cal):
    for start in days(D(2025, 1, 20), D(2025, 2, 15)):
        for n in (-3, -1, 1, 3):
            assert cal.is_workday(cal.add_workdays(start, n))


# --- uncovered years ----------------------------------------------------------------


def test_uncovered_year_falls_back_to_weekends_and_reports_it(package_ends_2026):
    cal = WorkCalendar()
    national_day = D(2031, 10, 1)  # a Wednesday, a holiday in any real year
    assert cal.is_workday(national_day)
    assert not cal.is_workday(D(2031, 10, 4))  # Saturday
    due = cal.add_workdays(D(2031, 9, 30), 3)
    assert due == D(2031, 10, 3)
    assert cal.uncovered_years(D(2031, 9, 30), due) == [2031]
    assert cal.workdays_between(D(2031, 9, 26), D(2031, 10, 6)) == 6


def test_arithmetic_running_into_an_uncovered_year_reports_only_that_year(package_ends_2026):
    cal = WorkCalendar()
    start = D(2026, 12, 30)
    due = cal.add_workdays(start, 5)
    assert due == D(2027, 1, 6)  # weekends only in 2027: 31 Dec, 1, 4, 5, 6 Jan
    assert cal.uncovered_years(start, due) == [2027]


# --- administrator data ---------------------------------------------------------------

ADMIN_2027 = {
    2027: {
        "holidays": set(days(D(2027, 10, 1), D(2027, 10, 7))),
        "workdays": {D(2027, 9, 26), D(2027, 10, 9)},
    }
}


def test_admin_data_for_an_uncovered_year_is_honoured(package_ends_2026):
    cal = WorkCalendar(ADMIN_2027)
    assert cal.covers(2027)
    assert cal.uncovered_years(D(2026, 1, 1), D(2027, 12, 31)) == []
    assert not cal.is_workday(D(2027, 10, 1))
    assert cal.is_workday(D(2027, 9, 26))  # Sunday make-up
    assert cal.is_workday(D(2027, 10, 9))  # Saturday make-up
    assert cal.add_workdays(D(2027, 9, 30), 1) == D(2027, 10, 8)
    assert cal.add_workdays(D(2027, 10, 8), 1) == D(2027, 10, 9)


def test_admin_data_does_not_leak_into_other_calendars(package_ends_2026):
    WorkCalendar(ADMIN_2027)
    assert not WorkCalendar().covers(2027)
    assert WorkCalendar().is_workday(D(2027, 10, 1))


def test_admin_entry_with_empty_sets_marks_the_year_covered(package_ends_2026):
    cal = WorkCalendar({2030: {}})
    assert cal.covers(2030)
    assert cal.is_workday(D(2030, 10, 1))


def test_admin_data_amends_a_covered_year():
    cal = WorkCalendar(
        {
            2025: {
                "holidays": {D(2025, 3, 3), D(2025, 10, 11)},  # local holiday; cancel a make-up day
                "workdays": {D(2025, 10, 8), D(2025, 3, 8)},  # cancel a holiday; a Saturday worked
            }
        }
    )
    assert not cal.is_workday(D(2025, 3, 3))
    assert not cal.is_workday(D(2025, 10, 11))
    assert cal.is_workday(D(2025, 10, 8))
    assert cal.is_workday(D(2025, 3, 8))
    assert cal.is_workday(D(2025, 3, 4))  # untouched days keep the package data
    assert not cal.is_workday(D(2025, 10, 7))


def test_admin_year_may_reach_into_the_previous_year():
    cal = WorkCalendar({2027: {"holidays": {D(2026, 12, 31)}}})
    assert not cal.is_workday(D(2026, 12, 31))


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({2027: {"holidays": {D(2027, 5, 3)}, "workdays": {D(2027, 5, 3)}}}, "holiday and workday"),
        ({2027: {"holiday": {D(2027, 5, 3)}}}, "unknown keys"),
        ({2027: {"holidays": {D(2017, 5, 3)}}}, "too far"),
    ],
)
def test_invalid_admin_data_is_rejected(extra, message):
    with pytest.raises(ValueError, match=message):
        WorkCalendar(extra)
