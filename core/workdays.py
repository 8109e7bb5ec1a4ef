"""Working-day arithmetic on the official mainland China calendar.

A day is a working day when it is a make-up workday (调休, a weekend day
worked to bridge a holiday), or a Monday to Friday that is not a public
holiday. The data come from the ``chinese_calendar`` package (version 1.11.0
covers 2004 to 2026: it refuses dates outside the span of its holiday table,
which :data:`PACKAGED_YEARS` reads from the package rather than hard-coding)
plus years an administrator enters once the State Council publishes them.

A year that neither source covers falls back to weekends only. The
arithmetic still answers, and :meth:`WorkCalendar.uncovered_years` tells the
caller which years of an interval were computed that way, so a page can say
"holiday data for 2031 missing, weekends only"::

    due = cal.add_workdays(start, 15)
    missing = cal.uncovered_years(start, due)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Set

import chinese_calendar

_ONE_DAY = dt.timedelta(days=1)

#: the years chinese_calendar has official data for
PACKAGED_YEARS = range(min(chinese_calendar.holidays).year, max(chinese_calendar.holidays).year + 1)

#: an administrator's data: year -> {"holidays": dates, "workdays": dates}
ExtraYears = Mapping[int, Mapping[str, Set[dt.date]]]


def _as_date(d: dt.date) -> dt.date:
    """``d`` as a plain date (a datetime would never match the date sets)."""
    return d.date() if isinstance(d, dt.datetime) else d


class WorkCalendar:
    """Working days from chinese_calendar, amended by administrator-entered years.

    :param extra_years: year -> ``{"holidays": set[date], "workdays": set[date]}``
        (either key may be missing). Listing a year marks it covered, even with
        empty sets. For a year the package covers, the entry amends the package
        data: its holidays and workdays win over the package's for those dates.
        A date may lie in the year before or after its key, because a yearly
        notice can reach into the neighbouring year (the 2023 New Year break
        began on 2022-12-31).
    :raises ValueError: a date listed as both holiday and workday, an unknown
        key, or a date more than one year away from its key.
    """

    def __init__(self, extra_years: ExtraYears | None = None) -> None:
        self._holidays = set(chinese_calendar.holidays)
        self._workdays = set(chinese_calendar.workdays)
        self._extra_years = frozenset(extra_years or ())
        for year, entry in sorted((extra_years or {}).items()):
            unknown = set(entry) - {"holidays", "workdays"}
            if unknown:
                raise ValueError(f"year {year}: unknown keys {sorted(unknown)}")
            holidays = {_as_date(d) for d in entry.get("holidays", ())}
            workdays = {_as_date(d) for d in entry.get("workdays", ())}
            for d in holidays | workdays:
                if abs(d.year - year) > 1:
                    raise ValueError(f"year {year}: date {d} is too far from {year}")
            both = holidays & workdays
            if both:
                dates = ", ".join(sorted(d.isoformat() for d in both))
                raise ValueError(f"year {year}: {dates} listed as holiday and workday")
            self._holidays = (self._holidays - workdays) | holidays
            self._workdays = (self._workdays - holidays) | workdays

    def covers(self, year: int) -> bool:
        """Whether ``year`` has official holiday data (package or administrator)."""
        return year in PACKAGED_YEARS or year in self._extra_years

    def uncovered_years(self, start: dt.date, end: dt.date) -> list[int]:
        """The years from ``start`` to ``end`` (either order, inclusive) computed
        on weekends only, ascending; empty when all are covered."""
        low, high = sorted((start.year, end.year))
        return [year for year in range(low, high + 1) if not self.covers(year)]

    def is_workday(self, d: dt.date) -> bool:
        """Whether people work on ``d`` (weekends only for an uncovered year)."""
        d = _as_date(d)
        if d in self._workdays:
            return True
        return d.weekday() < 5 and d not in self._holidays

    def add_workdays(self, start: dt.date, n: int) -> dt.date:
        """The ``n``-th working day after ``start``, not counting ``start``.

        ``n == 0`` returns ``start`` itself, working day or not; a negative
        ``n`` counts back to the ``-n``-th working day before ``start``. For
        ``n != 0`` the result is always a working day, and
        ``workdays_between(start, add_workdays(start, n)) == n``.
        """
        d = _as_date(start)
        step = _ONE_DAY if n > 0 else -_ONE_DAY
        remaining = abs(n)
        while remaining:
            d += step
            if self.is_workday(d):
                remaining -= 1
        return d

    def workdays_between(self, start: dt.date, end: dt.date) -> int:
        """The working days passed going from ``start`` to ``end``.

        ``start`` is never counted and ``end`` always is (when it is a working
        day): for ``end >= start`` this is the number of working days in the
        half-open interval ``(start, end]``; for ``end < start`` it is minus the
        number in ``[end, start)``. So a deadline counts, the day of the request
        does not, and ``add_workdays`` is the inverse. Zero when equal.
        """
        start, end = _as_date(start), _as_date(end)
        if end < start:
            return -sum(
                self.is_workday(end + dt.timedelta(days=i)) for i in range((start - end).days)
            )
        return sum(
            self.is_workday(start + dt.timedelta(days=i)) for i in range(1, (end - start).days + 1)
        )
