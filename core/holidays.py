"""The official holiday calendar: chinese-calendar's data plus the days administrators enter.

The State Council publishes each year's holidays and make-up workdays (调休)
in November or December of the year before. The ``chinese_calendar`` package
carries the years up to its release; a year it lacks is entered from the
notice with ``grassroots calendar import FILE`` into ``core_calendar_day``,
and :func:`work_calendar` combines both.

A year counts as covered by entered data when 1 January of it is entered as a
holiday: every yearly notice lists New Year's Day, and a notice may reach into
the neighbouring year (the 2023 New Year break began on 2022-12-31), so a lone
date of a year does not cover it. An entered date is filed under its own year
when that year is covered, else under a covered neighbouring year. An import
that would leave a date in no covered year is refused, so every entered date
counts. An uncovered year falls back to weekends only (core.workdays); the
administrators of every site see a warning while the current or the next year
is uncovered, and ``grassroots calendar status`` says which years are.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import json
import re
from collections.abc import Iterable
from pathlib import Path

import chinese_calendar

from core.models import CalendarDay
from core.records import audited, create, update
from core.storage import transaction
from core.workdays import PACKAGED_YEARS, WorkCalendar

KINDS = ("holiday", "workday")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
NAME_MAX = 100
#: the State Council's calendar is Beijing time, which has no daylight saving
CHINA = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")


def today_in_china() -> dt.date:
    return dt.datetime.now(CHINA).date()


@dataclasses.dataclass(frozen=True)
class Entry:
    """One line of an import file: ``line`` counts from 1 (a JSON file: the item)."""

    line: int
    day: dt.date
    is_workday: bool
    name: str


@dataclasses.dataclass(frozen=True)
class Problem:
    """Why one line of an import file was refused."""

    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}, {self.field}: {self.message}"


class CalendarFileError(ValueError):
    """An import file with at least one bad line; nothing was written."""

    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(map(str, problems)))
        self.problems = problems


@dataclasses.dataclass(frozen=True)
class ImportResult:
    created: int
    changed: int
    unchanged: int
    years: tuple[int, ...]


# --- reading ----------------------------------------------------------------------------


def _entry(line: int, raw: dict, problems: list[Problem]) -> Entry | None:
    """Validate one row given as ``{"date", "kind", "name"}``; record its problems."""
    found = len(problems)
    day = None
    text = str(raw.get("date") or "").strip()
    if not text:
        problems.append(Problem(line, "date", "missing"))
    else:
        try:
            day = dt.date.fromisoformat(text) if _ISO_DATE.fullmatch(text) else None
        except ValueError:
            day = None
        if day is None:
            problems.append(Problem(line, "date", f"{text!r} is not a date like 2027-10-01"))
    kind = str(raw.get("kind") or "").strip().lower()
    if kind not in KINDS:
        problems.append(Problem(line, "kind", f"{raw.get('kind')!r} is not holiday or workday"))
    name = str(raw.get("name") or "").strip()
    if not name:
        problems.append(Problem(line, "name", "missing (e.g. 国庆节 or 国庆节调休上班)"))
    elif len(name) > NAME_MAX:
        problems.append(Problem(line, "name", f"longer than {NAME_MAX} characters"))
    if len(problems) > found:
        return None
    return Entry(line=line, day=day, is_workday=kind == "workday", name=name)


def _rows_csv(text: str, problems: list[Problem]) -> Iterable[tuple[int, dict]]:
    reader = csv.reader(io.StringIO(text))
    for row in reader:
        line = reader.line_num
        cells = [c.strip() for c in row]
        if not any(cells) or cells[0].startswith("#"):
            continue
        if [c.lower() for c in cells] == ["date", "kind", "name"]:
            continue
        if len(cells) != 3:
            problems.append(Problem(line, "line", f"expected 3 fields (date,kind,name), "
                                                  f"found {len(cells)}"))
            continue
        yield line, dict(zip(("date", "kind", "name"), cells, strict=True))


def _rows_json(text: str, problems: list[Problem]) -> Iterable[tuple[int, dict]]:
    try:
        data = json.loads(text)
    except ValueError as err:
        problems.append(Problem(getattr(err, "lineno", 1), "file", f"not valid JSON: {err}"))
        return
    if not isinstance(data, list):
        problems.append(Problem(1, "file", "expected a list of {date, kind, name} objects"))
        return
    for number, item in enumerate(data, start=1):
        if not isinstance(item, dict):
            problems.append(Problem(number, "line", "expected an object {date, kind, name}"))
            continue
        unknown = sorted(set(item) - {"date", "kind", "name"})
        if unknown:
            problems.append(Problem(number, unknown[0], "unknown field"))
            continue
        yield number, item


def parse(text: str, fmt: str) -> list[Entry]:
    """The entries of an import file in ``fmt`` ``csv`` or ``json``, checked as a whole.

    CSV: one ``date,kind,name`` per line (``2027-10-01,holiday,国庆节``), an
    optional header line ``date,kind,name``, blank lines and ``#`` comments
    skipped. JSON: a list of ``{"date", "kind", "name"}`` objects; a problem
    names the item's number as its line.

    :raises CalendarFileError: listing every problem, each with its line and field:
        a bad date, kind or name, a date listed twice, or a date that would lie in
        no covered year (see the module docstring).
    """
    problems: list[Problem] = []
    rows = _rows_csv(text, problems) if fmt == "csv" else _rows_json(text, problems)
    entries = [e for line, raw in rows if (e := _entry(line, raw, problems)) is not None]
    first_line: dict[dt.date, int] = {}
    for entry in entries:
        if entry.day in first_line:
            problems.append(Problem(entry.line, "date",
                                    f"{entry.day} is already on line {first_line[entry.day]}"))
        first_line.setdefault(entry.day, entry.line)
    if not problems:
        covered = set(_entered_years()) | {e.day.year for e in entries
                                           if _is_new_year(e.day) and not e.is_workday}
        for entry in entries:
            if _home_year(entry.day, covered) is None:
                problems.append(Problem(
                    entry.line, "date",
                    f"{entry.day} lies in {entry.day.year}, which has no data: the file must "
                    f"list 1 January {entry.day.year} as a holiday, as every yearly notice does"))
    if problems:
        raise CalendarFileError(sorted(problems, key=lambda p: p.line))
    return entries


def read_file(path: str | Path) -> list[Entry]:
    """:func:`parse` a ``.csv`` or ``.json`` file (other names: by the first character)."""
    path = Path(path)
    text = path.read_text(encoding="utf-8-sig")
    suffix = path.suffix.lower()
    if suffix in (".csv", ".json"):
        fmt = suffix[1:]
    else:
        fmt = "json" if text.lstrip().startswith(("[", "{")) else "csv"
    return parse(text, fmt)


# --- writing ------------------------------------------------------------------------------


def import_days(entries: list[Entry], *, source: str = "") -> ImportResult:
    """Write ``entries`` into ``core_calendar_day`` in one audited transaction.

    A date already entered takes the new kind and name; each created or changed
    day is its own audit event (``core.calendar.day.create``/``.update``), and
    ``core.calendar.import`` records the file, the counts and the years.
    """
    created = changed = unchanged = 0
    with transaction():
        for entry in entries:
            row = CalendarDay.get_or_none(CalendarDay.day == entry.day)
            if row is None:
                create(CalendarDay, day=entry.day, is_workday=entry.is_workday, name=entry.name,
                       action="core.calendar.day.create")
                created += 1
            elif (row.is_workday, row.name) != (entry.is_workday, entry.name):
                update(row, is_workday=entry.is_workday, name=entry.name,
                       action="core.calendar.day.update")
                changed += 1
            else:
                unchanged += 1
        years = tuple(sorted({e.day.year for e in entries}))
        audited("core.calendar.import", None, site=None, payload={
            "source": source, "created": created, "changed": changed, "unchanged": unchanged,
            "years": list(years)})
    return ImportResult(created, changed, unchanged, years)


# --- the calendar -------------------------------------------------------------------------


def _is_new_year(day: dt.date) -> bool:
    return (day.month, day.day) == (1, 1)


def _entered_years() -> list[int]:
    """Years whose 1 January is an entered holiday."""
    return sorted(row.day.year for row in CalendarDay.select(CalendarDay.day)
                  .where(CalendarDay.is_workday == False)  # noqa: E712 - peewee expression
                  if _is_new_year(row.day))


def _home_year(day: dt.date, covered: set[int]) -> int | None:
    """The covered year an entered date is filed under: its own, else a neighbour."""
    for year in (day.year, day.year + 1, day.year - 1):
        if year in covered or year in PACKAGED_YEARS:
            return year
    return None


def work_calendar() -> WorkCalendar:
    """The working-day calendar: the package's years amended by the entered days."""
    covered = set(_entered_years())
    extra: dict[int, dict[str, set[dt.date]]] = {year: {} for year in covered}
    for row in CalendarDay.select():
        year = _home_year(row.day, covered)
        if year is None:
            year = row.day.year  # entered outside the import: it still counts
        key = "workdays" if row.is_workday else "holidays"
        extra.setdefault(year, {}).setdefault(key, set()).add(row.day)
    return WorkCalendar(extra)


def covered_years() -> dict[str, list[int]]:
    """``{"package": years, "entered": years}``: where each covered year's data come from."""
    entered = [y for y in _entered_years() if y not in PACKAGED_YEARS]
    return {"package": list(PACKAGED_YEARS), "entered": entered}


def missing_years(today: dt.date | None = None) -> list[int]:
    """The current and the next year (China time) when they have no holiday data."""
    today = today or today_in_china()
    calendar = work_calendar()
    return [y for y in (today.year, today.year + 1) if not calendar.covers(y)]


def package_version() -> str:
    return getattr(chinese_calendar, "__version__", "?")
