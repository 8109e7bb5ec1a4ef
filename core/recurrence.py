"""Recurrence cycles: when a recurring duty falls due.

A cycle divides time into consecutive periods; each period ends at one of
the cycle's *points* and the duty is due in its last month (or on its last
day, for weekly cycles). Month cycles have end months: ``quarterly`` ends in
March, June, September and December, so its periods are the calendar
quarters; ``months:6,12`` ("June and December") has the periods January–June
and July–December; ``months:3`` runs from April to the next March. Weekly
cycles have end weekdays (Monday = 0): ``weekly:0,3`` is due on Mondays and
Thursdays, with the periods Friday–Monday and Tuesday–Thursday.

A cycle is stored as a short string (:meth:`Cycle.parse`, :meth:`Cycle.to_string`):

=============== ============================== ===========================
string          meaning                        end months / weekdays
=============== ============================== ===========================
``monthly``     every month                    1–12
``bimonthly``   every two months               2, 4, 6, 8, 10, 12
``quarterly``   every quarter                  3, 6, 9, 12
``semiannual``  every half year                6, 12
``yearly``      every calendar year            12
``months:6,12`` in the named months            6, 12
``weekly:0,3``  on the named weekdays          Monday, Thursday
=============== ============================== ===========================

Cycles with the same points are equal and serialise alike: ``months:3,6,9,12``
is written back as ``quarterly``.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from core.workdays import WorkCalendar

_ONE_DAY = dt.timedelta(days=1)

_NAMED: dict[str, tuple[int, ...]] = {
    "monthly": tuple(range(1, 13)),
    "bimonthly": (2, 4, 6, 8, 10, 12),
    "quarterly": (3, 6, 9, 12),
    "semiannual": (6, 12),
    "yearly": (12,),
}
_NAME_OF = {points: name for name, points in _NAMED.items()}


@dataclass(frozen=True)
class Cycle:
    """A recurrence cycle.

    :param unit: ``"month"`` (points are end months 1–12) or ``"week"``
        (points are due weekdays 0–6, Monday = 0).
    :param points: the period ends; sorted and de-duplicated on creation.
    :raises ValueError: an unknown unit, no points, or a point out of range.
    """

    unit: Literal["month", "week"]
    points: tuple[int, ...]

    def __post_init__(self) -> None:
        if self.unit == "month":
            low, high = 1, 12
        elif self.unit == "week":
            low, high = 0, 6
        else:
            raise ValueError(f"unknown cycle unit {self.unit!r}: expected 'month' or 'week'")
        points = tuple(sorted(set(self.points)))
        if not points:
            raise ValueError(f"a {self.unit} cycle needs at least one point")
        for p in points:
            if isinstance(p, bool) or not isinstance(p, int) or not low <= p <= high:
                raise ValueError(f"{self.unit} cycle point {p!r} is not an integer {low}–{high}")
        object.__setattr__(self, "points", points)

    @classmethod
    def parse(cls, text: str) -> Cycle:
        """The cycle a settings string names (case and spaces ignored).

        :raises ValueError: the string names no cycle; the message says why.
        """
        cleaned = "".join(str(text).split()).lower()
        if cleaned in _NAMED:
            return cls("month", _NAMED[cleaned])
        kind, sep, values = cleaned.partition(":")
        if not sep or kind not in ("months", "weekly"):
            names = ", ".join(_NAMED)
            raise ValueError(
                f"unknown cycle {text!r}: expected one of {names}, "
                "'months:<1-12>,...' or 'weekly:<0-6>,...'"
            )
        try:
            points = tuple(int(v) for v in values.split(","))
        except ValueError:
            raise ValueError(
                f"cycle {text!r}: {values!r} is not a comma-separated list of numbers"
            ) from None
        return cls("month" if kind == "months" else "week", points)

    def to_string(self) -> str:
        """The settings string; ``Cycle.parse(c.to_string()) == c``."""
        listed = ",".join(map(str, self.points))
        if self.unit == "week":
            return f"weekly:{listed}"
        return _NAME_OF.get(self.points, f"months:{listed}")


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def period_of(cycle: Cycle, d: dt.date) -> tuple[dt.date, dt.date]:
    """The period of ``cycle`` containing ``d``, as (first day, last day)."""
    points = cycle.points
    if cycle.unit == "week":
        weekday = d.weekday()
        i = next((i for i, p in enumerate(points) if p >= weekday), 0)
        end = d + dt.timedelta(days=(points[i] - weekday) % 7)
        length = (points[i] - points[i - 1]) % 7 or 7
        return end - dt.timedelta(days=length - 1), end
    later = [i for i, p in enumerate(points) if p >= d.month]
    i, end_year = (later[0], d.year) if later else (0, d.year + 1)
    prev_year = end_year if i > 0 else end_year - 1
    start = _month_end(prev_year, points[i - 1]) + _ONE_DAY
    return start, _month_end(end_year, points[i])


def _nominal_due(cycle: Cycle, period_end: dt.date, day: int | None) -> dt.date:
    if day is None:
        return period_end
    last = calendar.monthrange(period_end.year, period_end.month)[1]
    return period_end.replace(day=min(day, last))


def due_dates(
    cycle: Cycle,
    start: dt.date,
    end: dt.date,
    day: int | None = None,
    workcal: WorkCalendar | None = None,
) -> Iterator[dt.date]:
    """The due date of each period, ascending, for those falling in [start, end].

    :param day: for month cycles, the day of the period's last month the duty
        is due (clamped to the month's length: 31 → 30 April, 29 or 28
        February); by default the period's last day. Not allowed for weekly
        cycles, whose due day is the weekday itself.
    :param workcal: when given, a due date on a non-working day moves back to
        the previous working day (a report due on Sunday 30 November is due on
        Friday the 28th). The range test applies to the moved date. For a year
        the calendar does not cover this only skips weekends; ask
        ``workcal.uncovered_years(start, end)``. Two periods can move onto the
        same day (``weekly:5,6``); each still yields it.
    :raises ValueError: ``day`` out of 1–31 or given for a weekly cycle.
    """
    if day is not None:
        if cycle.unit == "week":
            raise ValueError("a weekly cycle is due on its weekdays: day must be None")
        if isinstance(day, bool) or not isinstance(day, int) or not 1 <= day <= 31:
            raise ValueError(f"day {day!r} is not an integer 1–31")
    period_start = start
    while True:
        _, period_end = period_of(cycle, period_start)
        due = _nominal_due(cycle, period_end, day)
        if workcal is not None and not workcal.is_workday(due):
            due = workcal.add_workdays(due, -1)
        if due > end:
            return
        if due >= start:
            yield due
        period_start = period_end + _ONE_DAY
