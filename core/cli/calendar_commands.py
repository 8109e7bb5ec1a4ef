"""``grassroots calendar import FILE`` and ``grassroots calendar status``.

The yearly State Council notice on holidays and make-up workdays becomes a
CSV or JSON file that an operator imports once a year (core.holidays).
"""

from __future__ import annotations

import click

from core import holidays
from core.cli import cli, fail


def _spans(years: list[int]) -> str:
    """``[2004, 2005, 2006, 2027]`` → ``2004-2006, 2027``."""
    spans: list[list[int]] = []
    for year in sorted(years):
        if spans and year == spans[-1][1] + 1:
            spans[-1][1] = year
        else:
            spans.append([year, year])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans) or "none"


@cli.group()
def calendar():
    """The official holiday calendar: covered years and entered holidays."""


@calendar.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def calendar_import(file):
    """Import a year's holidays and make-up workdays from FILE (.csv or .json).

    One entry per line: date (2027-10-01), kind (holiday or workday), name
    (国庆节). Every line is checked first; nothing is written unless all are valid.
    """
    try:
        entries = holidays.read_file(file)
    except holidays.CalendarFileError as err:
        for problem in err.problems:
            click.echo(f"{file}: {problem}", err=True)
        fail(f"{len(err.problems)} problem(s) in {file}; nothing was imported")
    except (OSError, UnicodeDecodeError) as err:
        fail(f"cannot read {file}: {err}")
    if not entries:
        fail(f"{file} lists no days; nothing was imported")
    result = holidays.import_days(entries, source=click.format_filename(file))
    click.echo(f"imported {len(entries)} days of {_spans(list(result.years))}: "
               f"{result.created} new, {result.changed} changed, {result.unchanged} unchanged")
    _print_status()


@calendar.command("status")
def calendar_status():
    """Print the covered years; warn when this year or the next is not covered."""
    _print_status()


def _print_status() -> None:
    years = holidays.covered_years()
    click.echo(f"covered by chinese-calendar {holidays.package_version()}: "
               f"{_spans(years['package'])}")
    click.echo(f"covered by imported notices: {_spans(years['entered'])}")
    for year in holidays.missing_years():
        click.echo(f"warning: no holiday data for {year}: working days in {year} count weekends "
                   f"only. Import the State Council's notice with "
                   f"`grassroots calendar import FILE`.", err=True)
