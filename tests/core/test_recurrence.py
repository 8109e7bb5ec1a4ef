"""Recurrence cycles and their due dates (core.recurrence)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from core.recurrence import Cycle, due_dates, period_of
from core.workdays import WorkCalendar

D = dt.date

MONTHLY = Cycle.parse("monthly")
BIMONTHLY = Cycle.parse("bimonthly")
QUARTERLY = Cycle.parse("quarterly")
SEMIANNUAL = Cycle.parse("semiannual")
YEARLY = Cycle.parse("yearly")
MON_THU = Cycle.parse("weekly:0,3")

ALL_CYCLES = [
    "monthly",
    "bimonthly",
    "quarterly",
    "semiannual",
    "yearly",
    "months:3",
    "months:2,11",
    "months:1,5,6",
    "weekly:0,3",
    "weekly:4",
    "weekly:0,1,2,3,4,5,6",
]


@pytest.fixture(scope="module")
def workcal() -> WorkCalendar:
    return WorkCalendar()


# --- parsing and serialising ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "unit", "points"),
    [
        ("monthly", "month", tuple(range(1, 13))),
        ("bimonthly", "month", (2, 4, 6, 8, 10, 12)),
        ("quarterly", "month", (3, 6, 9, 12)),
        ("semiannual", "month", (6, 12)),
        ("yearly", "month", (12,)),
        ("months:3", "month", (3,)),
        ("months:2,11", "month", (2, 11)),
        ("weekly:0,3", "week", (0, 3)),
        ("weekly:6", "week", (6,)),
    ],
)
def test_parse_each_cycle_string(text, unit, points):
    cycle = Cycle.parse(text)
    assert (cycle.unit, cycle.points) == (unit, points)
    assert cycle.to_string() == text
    assert Cycle.parse(cycle.to_string()) == cycle


def test_parse_ignores_case_and_spaces():
    assert Cycle.parse(" Quarterly ") == QUARTERLY
    assert Cycle.parse("MONTHS: 6, 12") == SEMIANNUAL
    assert Cycle.parse("Weekly: 3 ,0") == MON_THU


def test_points_are_sorted_and_deduplicated():
    assert Cycle.parse("weekly:3,0,3").points == (0, 3)
    assert Cycle("month", (12, 6, 6)).points == (6, 12)


def test_cycles_with_the_same_points_serialise_to_the_named_form():
    assert Cycle.parse("months:6,12").to_string() == "semiannual"
    assert Cycle.parse("months:12,9,6,3").to_string() == "quarterly"
    assert Cycle.parse("months:12").to_string() == "yearly"
    assert Cycle.parse("months:1,2,3,4,5,6,7,8,9,10,11,12") == MONTHLY


def test_cycle_is_frozen_and_hashable():
    with pytest.raises(dataclasses.FrozenInstanceError):
        QUARTERLY.points = (3,)  # type: ignore[misc]
    assert {QUARTERLY: "q"}[Cycle.parse("quarterly")] == "q"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "unknown cycle"),
        ("daily", "unknown cycle"),
        ("weekly", "unknown cycle"),
        ("fortnightly:1", "unknown cycle"),
        ("months:", "not a comma-separated list"),
        ("months:6;12", "not a comma-separated list"),
        ("months:six", "not a comma-separated list"),
        ("months:0", "not an integer 1–12"),
        ("months:13", "not an integer 1–12"),
        ("weekly:7", "not an integer 0–6"),
        ("weekly:-1", "not an integer 0–6"),
    ],
)
def test_invalid_strings_raise_a_clear_value_error(text, message):
    with pytest.raises(ValueError, match=message):
        Cycle.parse(text)


def test_invalid_constructor_arguments_raise_value_error():
    with pytest.raises(ValueError, match="unknown cycle unit"):
        Cycle("day", (1,))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at least one point"):
        Cycle("month", ())
    with pytest.raises(ValueError, match="not an integer"):
        Cycle("month", (True,))


# --- periods ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cycle", "day", "period"),
    [
        (MONTHLY, D(2024, 2, 10), (D(2024, 2, 1), D(2024, 2, 29))),
        (MONTHLY, D(2025, 2, 10), (D(2025, 2, 1), D(2025, 2, 28))),
        (MONTHLY, D(2025, 4, 30), (D(2025, 4, 1), D(2025, 4, 30))),
        (BIMONTHLY, D(2025, 1, 1), (D(2025, 1, 1), D(2025, 2, 28))),
        (BIMONTHLY, D(2025, 3, 15), (D(2025, 3, 1), D(2025, 4, 30))),
        (BIMONTHLY, D(2025, 12, 31), (D(2025, 11, 1), D(2025, 12, 31))),
        (QUARTERLY, D(2025, 3, 31), (D(2025, 1, 1), D(2025, 3, 31))),
        (QUARTERLY, D(2025, 4, 1), (D(2025, 4, 1), D(2025, 6, 30))),
        (QUARTERLY, D(2025, 11, 30), (D(2025, 10, 1), D(2025, 12, 31))),
        (SEMIANNUAL, D(2025, 6, 30), (D(2025, 1, 1), D(2025, 6, 30))),
        (SEMIANNUAL, D(2025, 7, 1), (D(2025, 7, 1), D(2025, 12, 31))),
        (YEARLY, D(2024, 2, 29), (D(2024, 1, 1), D(2024, 12, 31))),
        (Cycle.parse("months:3"), D(2025, 3, 31), (D(2024, 4, 1), D(2025, 3, 31))),
        (Cycle.parse("months:3"), D(2025, 4, 1), (D(2025, 4, 1), D(2026, 3, 31))),
        (Cycle.parse("months:2,11"), D(2025, 12, 1), (D(2025, 12, 1), D(2026, 2, 28))),
        (Cycle.parse("months:2,11"), D(2024, 1, 15), (D(2023, 12, 1), D(2024, 2, 29))),
        (Cycle.parse("months:2,11"), D(2025, 3, 1), (D(2025, 3, 1), D(2025, 11, 30))),
    ],
)
def test_period_of_month_cycles(cycle, day, period):
    assert period_of(cycle, day) == period


def test_period_of_weekly_monday_and_thursday():
    # Fri 3 Jan 2025 - Mon 6 Jan, then Tue 7 - Thu 9, then Fri 10 - Mon 13
    assert period_of(MON_THU, D(2025, 1, 3)) == (D(2025, 1, 3), D(2025, 1, 6))
    assert period_of(MON_THU, D(2025, 1, 5)) == (D(2025, 1, 3), D(2025, 1, 6))
    assert period_of(MON_THU, D(2025, 1, 6)) == (D(2025, 1, 3), D(2025, 1, 6))
    assert period_of(MON_THU, D(2025, 1, 7)) == (D(2025, 1, 7), D(2025, 1, 9))
    assert period_of(MON_THU, D(2025, 1, 9)) == (D(2025, 1, 7), D(2025, 1, 9))
    assert period_of(MON_THU, D(2025, 1, 10)) == (D(2025, 1, 10), D(2025, 1, 13))


def test_period_of_weekly_single_day_is_a_week_ending_that_day():
    friday = Cycle.parse("weekly:4")
    assert period_of(friday, D(2025, 1, 10)) == (D(2025, 1, 4), D(2025, 1, 10))
    assert period_of(friday, D(2025, 1, 11)) == (D(2025, 1, 11), D(2025, 1, 17))


@pytest.mark.parametrize("text", ALL_CYCLES)
def test_periods_tile_the_calendar_without_gaps_or_overlaps(text):
    cycle = Cycle.parse(text)
    d = D(2023, 11, 15)
    _, end = period_of(cycle, d)
    while d < D(2026, 3, 1):
        d += dt.timedelta(days=1)
        first, last = period_of(cycle, d)
        assert first <= d <= last
        if d == end + dt.timedelta(days=1):
            assert first == d
            end = last
        else:
            assert last == end


# --- due dates --------------------------------------------------------------------------


def test_monthly_due_dates_are_month_ends_in_a_leap_year():
    due = list(due_dates(MONTHLY, D(2024, 1, 1), D(2024, 12, 31)))
    assert len(due) == 12
    assert due[:4] == [D(2024, 1, 31), D(2024, 2, 29), D(2024, 3, 31), D(2024, 4, 30)]


def test_monthly_due_dates_with_day_31_clamp_to_the_month_length():
    assert list(due_dates(MONTHLY, D(2025, 1, 1), D(2025, 6, 30), day=31)) == [
        D(2025, 1, 31),
        D(2025, 2, 28),
        D(2025, 3, 31),
        D(2025, 4, 30),
        D(2025, 5, 31),
        D(2025, 6, 30),
    ]


@pytest.mark.parametrize(
    ("year", "day", "february"),
    [
        (2024, 29, D(2024, 2, 29)),
        (2025, 29, D(2025, 2, 28)),
        (2024, 30, D(2024, 2, 29)),
        (2100, 29, D(2100, 2, 28)),  # not a leap year
        (2000, 30, D(2000, 2, 29)),  # a leap year
        (2025, 28, D(2025, 2, 28)),
        (2025, 15, D(2025, 2, 15)),
    ],
)
def test_february_clamping(year, day, february):
    last_of_february = D(year, 3, 1) - dt.timedelta(days=1)
    assert list(due_dates(MONTHLY, D(year, 2, 1), last_of_february, day)) == [february]


def test_bimonthly_due_dates():
    assert list(due_dates(BIMONTHLY, D(2025, 1, 1), D(2025, 12, 31))) == [
        D(2025, 2, 28),
        D(2025, 4, 30),
        D(2025, 6, 30),
        D(2025, 8, 31),
        D(2025, 10, 31),
        D(2025, 12, 31),
    ]


def test_quarterly_due_dates_default_and_with_a_day():
    assert list(due_dates(QUARTERLY, D(2025, 1, 1), D(2025, 12, 31))) == [
        D(2025, 3, 31),
        D(2025, 6, 30),
        D(2025, 9, 30),
        D(2025, 12, 31),
    ]
    assert list(due_dates(QUARTERLY, D(2025, 1, 1), D(2025, 12, 31), day=31)) == [
        D(2025, 3, 31),
        D(2025, 6, 30),
        D(2025, 9, 30),
        D(2025, 12, 31),
    ]
    assert list(due_dates(QUARTERLY, D(2025, 1, 1), D(2025, 12, 31), day=15)) == [
        D(2025, 3, 15),
        D(2025, 6, 15),
        D(2025, 9, 15),
        D(2025, 12, 15),
    ]


def test_semiannual_and_named_months_due_dates():
    assert list(due_dates(SEMIANNUAL, D(2025, 1, 1), D(2025, 12, 31))) == [
        D(2025, 6, 30),
        D(2025, 12, 31),
    ]
    june_and_december = Cycle.parse("months:6,12")
    assert list(due_dates(june_and_december, D(2025, 1, 1), D(2026, 12, 31), day=20)) == [
        D(2025, 6, 20),
        D(2025, 12, 20),
        D(2026, 6, 20),
        D(2026, 12, 20),
    ]
    assert list(due_dates(Cycle.parse("months:2,11"), D(2024, 1, 1), D(2024, 12, 31), 30)) == [
        D(2024, 2, 29),
        D(2024, 11, 30),
    ]


def test_yearly_due_dates_over_several_years():
    assert list(due_dates(YEARLY, D(2024, 1, 1), D(2026, 12, 31))) == [
        D(2024, 12, 31),
        D(2025, 12, 31),
        D(2026, 12, 31),
    ]
    assert list(due_dates(YEARLY, D(2024, 1, 1), D(2026, 12, 30))) == [
        D(2024, 12, 31),
        D(2025, 12, 31),
    ]


def test_weekly_due_dates_on_monday_and_thursday():
    assert list(due_dates(MON_THU, D(2025, 1, 1), D(2025, 1, 16))) == [
        D(2025, 1, 2),
        D(2025, 1, 6),
        D(2025, 1, 9),
        D(2025, 1, 13),
        D(2025, 1, 16),
    ]


def test_weekly_cycles_refuse_a_day_of_month():
    with pytest.raises(ValueError, match="day must be None"):
        list(due_dates(MON_THU, D(2025, 1, 1), D(2025, 1, 31), day=5))


@pytest.mark.parametrize("day", [0, 32, -1, "5", True, 1.5])
def test_invalid_day_of_month_raises(day):
    with pytest.raises(ValueError, match="not an integer 1–31"):
        list(due_dates(MONTHLY, D(2025, 1, 1), D(2025, 1, 31), day=day))


def test_range_boundaries_are_inclusive():
    assert list(due_dates(MONTHLY, D(2025, 1, 31), D(2025, 2, 28))) == [
        D(2025, 1, 31),
        D(2025, 2, 28),
    ]
    assert list(due_dates(MONTHLY, D(2025, 2, 1), D(2025, 2, 27))) == []
    assert list(due_dates(MONTHLY, D(2025, 2, 28), D(2025, 2, 28))) == [D(2025, 2, 28)]


def test_empty_and_reversed_ranges_yield_nothing():
    assert list(due_dates(MONTHLY, D(2025, 3, 1), D(2025, 2, 1))) == []
    assert list(due_dates(MON_THU, D(2025, 1, 7), D(2025, 1, 8))) == []


def test_due_date_before_start_in_the_first_period_is_skipped():
    assert list(due_dates(MONTHLY, D(2025, 1, 20), D(2025, 3, 31), day=10)) == [
        D(2025, 2, 10),
        D(2025, 3, 10),
    ]


def test_consecutive_ranges_partition_the_due_dates():
    whole = list(due_dates(MONTHLY, D(2025, 1, 1), D(2025, 12, 31), day=15))
    first = list(due_dates(MONTHLY, D(2025, 1, 1), D(2025, 6, 15), day=15))
    second = list(due_dates(MONTHLY, D(2025, 6, 16), D(2025, 12, 31), day=15))
    assert first + second == whole


# --- rolling back to a working day ---------------------------------------------------------


def test_workcal_moves_month_ends_back_to_the_previous_working_day(workcal):
    assert list(due_dates(MONTHLY, D(2025, 1, 1), D(2025, 12, 31), workcal=workcal)) == [
        D(2025, 1, 27),  # 31 Jan is in the Spring Festival break (28 Jan - 4 Feb)
        D(2025, 2, 28),
        D(2025, 3, 31),
        D(2025, 4, 30),
        D(2025, 5, 30),  # Sat 31 May is the Dragon Boat holiday
        D(2025, 6, 30),
        D(2025, 7, 31),
        D(2025, 8, 29),  # Sunday 31 Aug
        D(2025, 9, 30),
        D(2025, 10, 31),
        D(2025, 11, 28),  # Sunday 30 Nov
        D(2025, 12, 31),
    ]


def test_workcal_keeps_a_due_date_on_a_makeup_saturday(workcal):
    october = Cycle.parse("months:10")
    assert list(due_dates(october, D(2025, 1, 1), D(2025, 12, 31), 11, workcal)) == [
        D(2025, 10, 11)
    ]
    assert list(due_dates(october, D(2025, 1, 1), D(2025, 12, 31), 8, workcal)) == [D(2025, 9, 30)]


def test_range_test_applies_to_the_moved_date(workcal):
    # Sat 1 Feb 2025 (Spring Festival) moves to 27 Jan, before the range;
    # Sat 1 Mar moves to Fri 28 Feb, into the range.
    assert list(due_dates(MONTHLY, D(2025, 2, 1), D(2025, 2, 28), day=1, workcal=workcal)) == [
        D(2025, 2, 28)
    ]


def test_two_periods_moved_onto_the_same_working_day_both_yield_it(workcal):
    weekend = Cycle.parse("weekly:5,6")
    assert list(due_dates(weekend, D(2025, 3, 3), D(2025, 3, 9), workcal=workcal)) == [
        D(2025, 3, 7),
        D(2025, 3, 7),
    ]


def test_workcal_in_an_uncovered_year_skips_weekends_only(workcal):
    due = list(due_dates(QUARTERLY, D(2031, 1, 1), D(2031, 12, 31), workcal=workcal))
    assert due == [D(2031, 3, 31), D(2031, 6, 30), D(2031, 9, 30), D(2031, 12, 31)]
    assert list(due_dates(MONTHLY, D(2031, 5, 1), D(2031, 5, 31), workcal=workcal)) == [
        D(2031, 5, 30)  # Saturday 31 May
    ]
    assert workcal.uncovered_years(D(2031, 1, 1), D(2031, 12, 31)) == [2031]
