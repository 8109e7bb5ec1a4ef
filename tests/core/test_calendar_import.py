"""Importing a year's holiday notice and using it (core.holidays, ``grassroots calendar``).

chinese-calendar 1.11.0 ends with 2026, so 2027 is the first year an operator
has to import. The 2027 file below has the shape of a State Council notice
(New Year, National Day with its make-up Sunday and Saturday); its dates are
test data, not the real notice.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine

from core import holidays
from core.audit.models import AuditEvent
from core.cli import cli
from core.models import CalendarDay
from core.testing import make_user

D = dt.date
NOTICE_2027 = """date,kind,name
2027-01-01,holiday,元旦
2027-01-02,holiday,元旦
2027-01-03,holiday,元旦
# National Day: Fri 1 Oct to Thu 7 Oct off, Sun 26 Sep and Sat 9 Oct worked
2027-09-26,workday,国庆节调休上班
2027-10-01,holiday,国庆节
2027-10-02,holiday,国庆节
2027-10-03,holiday,国庆节
2027-10-04,holiday,国庆节
2027-10-05,holiday,国庆节
2027-10-06,holiday,国庆节
2027-10-07,holiday,国庆节
2027-10-09,workday,国庆节调休上班
"""
#: "today" for the tests: late 2026, when the 2027 notice is due
NOW = dt.datetime(2026, 11, 23, 4, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def package_ends_2026(monkeypatch):
    """chinese-calendar as 1.11.0 shipped it (2004-2026), whatever release is installed:
    2027 stays the first year that needs an import."""
    import chinese_calendar

    import core.workdays

    years = range(2004, 2027)
    for name in ("holidays", "workdays"):
        table = getattr(chinese_calendar, name)
        monkeypatch.setattr(chinese_calendar, name,
                            {d: v for d, v in table.items() if d.year in years})
    monkeypatch.setattr(core.workdays, "PACKAGED_YEARS", years)
    monkeypatch.setattr(holidays, "PACKAGED_YEARS", years)


@pytest.fixture
def notice(tmp_path):
    path = tmp_path / "2027.csv"
    path.write_text(NOTICE_2027, encoding="utf-8")
    return path


def _import(runner, path):
    return runner.invoke(cli, ["calendar", "import", str(path)])


def _audit(action: str) -> int:
    return AuditEvent.select().where(AuditEvent.action == action).count()


# --- before and after the import -------------------------------------------------------


def test_before_import_2027_falls_back_to_weekends(app):
    calendar = holidays.work_calendar()
    assert not calendar.covers(2027)
    assert calendar.is_workday(D(2027, 10, 1))  # a Friday, counted as a working day
    assert calendar.add_workdays(D(2027, 9, 30), 1) == D(2027, 10, 1)
    assert calendar.uncovered_years(D(2027, 9, 30), D(2027, 10, 1)) == [2027]


@time_machine.travel(NOW, tick=False)
def test_status_before_import_warns_for_next_year(app, runner):
    result = runner.invoke(cli, ["calendar", "status"])
    assert result.exit_code == 0
    assert "2004-2026" in result.stdout
    assert "covered by imported notices: none" in result.stdout
    assert "warning: no holiday data for 2027" in result.stderr
    assert "2026" not in result.stderr
    assert holidays.missing_years() == [2027]


def test_import_makes_add_workdays_skip_2027_national_day(app, runner, notice):
    result = _import(runner, notice)
    assert result.exit_code == 0, result.output
    assert "12 new, 0 changed" in result.stdout
    calendar = holidays.work_calendar()
    assert calendar.covers(2027)
    assert calendar.uncovered_years(D(2027, 9, 1), D(2027, 10, 31)) == []
    start = D(2027, 9, 24)  # Friday
    assert calendar.add_workdays(start, 1) == D(2027, 9, 26)  # make-up Sunday
    assert calendar.add_workdays(start, 5) == D(2027, 9, 30)
    assert calendar.add_workdays(start, 6) == D(2027, 10, 8)  # after the break
    assert calendar.add_workdays(start, 7) == D(2027, 10, 9)  # make-up Saturday
    assert calendar.add_workdays(start, 8) == D(2027, 10, 11)
    assert calendar.workdays_between(D(2027, 9, 30), D(2027, 10, 8)) == 1
    assert not calendar.is_workday(D(2027, 1, 1))
    assert calendar.is_workday(D(2027, 1, 4))


@time_machine.travel(NOW, tick=False)
def test_status_after_import_lists_2027_and_stops_warning(app, runner, notice):
    _import(runner, notice)
    result = runner.invoke(cli, ["calendar", "status"])
    assert "covered by imported notices: 2027" in result.stdout
    assert "warning" not in result.output
    assert holidays.missing_years() == []
    assert holidays.covered_years() == {"package": list(range(2004, 2027)), "entered": [2027]}


def test_import_is_audited_day_by_day_and_as_a_whole(app, runner, notice):
    _import(runner, notice)
    assert CalendarDay.select().count() == 12
    assert _audit("core.calendar.day.create") == 12
    assert _audit("core.calendar.import") == 1
    event = AuditEvent.get(AuditEvent.action == "core.calendar.import")
    assert json.loads(event.payload)["detail"]["years"] == [2027]


def test_reimport_changes_only_what_differs(app, runner, notice):
    _import(runner, notice)
    notice.write_text(NOTICE_2027.replace("2027-10-09,workday,国庆节调休上班",
                                          "2027-10-09,workday,国庆节补班"), encoding="utf-8")
    result = _import(runner, notice)
    assert "0 new, 1 changed, 11 unchanged" in result.stdout
    assert CalendarDay.get(CalendarDay.day == D(2027, 10, 9)).name == "国庆节补班"
    assert _audit("core.calendar.day.update") == 1


def test_json_file_imports_too(app, runner, tmp_path):
    path = tmp_path / "2027.json"
    path.write_text(json.dumps([
        {"date": "2027-01-01", "kind": "holiday", "name": "元旦"},
        {"date": "2027-10-09", "kind": "workday", "name": "国庆节调休上班"},
    ], ensure_ascii=False), encoding="utf-8")
    assert _import(runner, path).exit_code == 0
    calendar = holidays.work_calendar()
    assert calendar.covers(2027) and calendar.is_workday(D(2027, 10, 9))


# --- refused files: every problem named by line and field, nothing written ---------------


@pytest.mark.parametrize(("line", "expected"), [
    ("2027-13-01,holiday,国庆节", "line 3, date: '2027-13-01' is not a date"),
    ("2027/10/01,holiday,国庆节", "line 3, date: '2027/10/01' is not a date"),
    ("2027-W40-5,holiday,国庆节", "line 3, date: '2027-W40-5' is not a date"),
    ("2027-10-01,vacation,国庆节", "line 3, kind: 'vacation' is not holiday or workday"),
    ("2027-10-01,holiday,", "line 3, name: missing"),
    ("2027-10-01,holiday", "line 3, line: expected 3 fields"),
    ("2027-10-01,holiday," + "长" * 101, "line 3, name: longer than 100 characters"),
    ("2027-01-01,workday,元旦", "line 3, date: 2027-01-01 is already on line 2"),
])
def test_a_bad_line_is_named_and_nothing_is_written(app, runner, tmp_path, line, expected):
    path = tmp_path / "bad.csv"
    path.write_text(f"date,kind,name\n2027-01-01,holiday,元旦\n{line}\n", encoding="utf-8")
    result = _import(runner, path)
    assert result.exit_code == 1
    assert expected in result.stderr
    assert "nothing was imported" in result.stderr
    assert CalendarDay.select().count() == 0
    assert _audit("core.calendar.import") == 0


def test_every_bad_line_is_reported_at_once():
    with pytest.raises(holidays.CalendarFileError) as caught:
        holidays.parse("2027-01-01,holiday,元旦\nnot-a-date,holiday,x\n2027-10-01,off,\n", "csv")
    assert [str(p) for p in caught.value.problems] == [
        "line 2, date: 'not-a-date' is not a date like 2027-10-01",
        "line 3, kind: 'off' is not holiday or workday",
        "line 3, name: missing (e.g. 国庆节 or 国庆节调休上班)",
    ]


def test_json_problems_name_the_item_and_field():
    text = json.dumps([{"date": "2027-01-01", "kind": "holiday", "name": "元旦"},
                       {"date": "2027-10-01", "kind": "holiday"},
                       {"date": "2027-10-02", "kind": "holiday", "name": "x", "note": "y"}])
    with pytest.raises(holidays.CalendarFileError) as caught:
        holidays.parse(text, "json")
    assert [str(p) for p in caught.value.problems] == [
        "line 2, name: missing (e.g. 国庆节 or 国庆节调休上班)", "line 3, note: unknown field"]


def test_a_year_without_new_years_day_is_refused(app):
    """A lone date would otherwise mark its year covered (or count in no year)."""
    with pytest.raises(holidays.CalendarFileError) as caught:
        holidays.parse("2031-10-01,holiday,国庆节\n", "csv")
    assert "line 1, date: 2031-10-01 lies in 2031, which has no data" in str(caught.value)


def test_a_notice_may_reach_into_the_year_before(app):
    """The 2028 notice may start its New Year break on 31 Dec 2027: that date counts,
    but 2027 stays uncovered until its own notice is imported."""
    entries = holidays.parse("2027-12-31,holiday,元旦\n2028-01-01,holiday,元旦\n", "csv")
    holidays.import_days(entries)
    calendar = holidays.work_calendar()
    assert calendar.covers(2028) and not calendar.covers(2027)
    assert not calendar.is_workday(D(2027, 12, 31))
    assert calendar.is_workday(D(2027, 12, 30))


def test_an_amendment_to_a_packaged_year_needs_no_new_years_day(app):
    holidays.import_days(holidays.parse("2026-03-02,holiday,本地假日\n", "csv"))
    assert not holidays.work_calendar().is_workday(D(2026, 3, 2))


def test_an_unreadable_file_is_one_line_error(app, runner, tmp_path):
    path = tmp_path / "notice.csv"
    path.write_bytes(b"\xff\xfe\x00bad")
    result = _import(runner, path)
    assert result.exit_code == 1
    assert "cannot read" in result.stderr


# --- the warning banner ----------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_site_admins_see_the_missing_year_warning(app, browser, site, notice, runner):
    admin = make_user(site, roles=("site_admin",))
    browser.login(admin, site=site)
    page = browser.get("/").get_data(as_text=True)
    assert "2027" in page and 'class="flash warn"' in page
    _import(runner, notice)
    assert 'class="flash warn"' not in browser.get("/").get_data(as_text=True)


@time_machine.travel(NOW, tick=False)
def test_other_members_do_not_see_the_warning(app, browser, site):
    browser.login(make_user(site, roles=("staff",)), site=site)
    page = browser.get("/")
    assert page.status_code == 200
    assert 'class="flash warn"' not in page.get_data(as_text=True)
