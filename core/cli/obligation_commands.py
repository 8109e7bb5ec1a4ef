"""``grassroots obligations``: reminders of obligations falling due, for a daily cron job."""

from __future__ import annotations

import datetime as dt

import click

from core import obligations
from core.cli import cli, fail
from core.models import Site


@cli.group("obligations")
def obligations_group():
    """Obligations that plugins contribute: deadlines and cadences from the rules."""


@obligations_group.command("notify")
@click.option("--site", "site_code", help="only this site (default: every site)")
@click.option("--date", "day", help="evaluate as of this day, YYYY-MM-DD (default: today)")
def obligations_notify(site_code, day):
    """Put reminders of open obligations due soon into the members' inboxes.

    Safe to run more than once a day: each obligation is reminded of once per day.
    """
    if day:
        try:
            today = dt.date.fromisoformat(day)
        except ValueError:
            fail(f"--date must be YYYY-MM-DD, not {day!r}")
    else:
        today = obligations.local_today()
    if site_code:
        site = Site.get_or_none(Site.code == site_code)
        if site is None:
            fail(f"no site with code {site_code!r}")
        targets = [site]
    else:
        targets = list(Site.select().order_by(Site.code))
    total = 0
    for site in targets:
        sent = obligations.notify_due(site, today)
        total += sent
        if sent:
            click.echo(f"{site.code}: {sent} reminders")
    click.echo(f"{total} reminders for {today.isoformat()}")
