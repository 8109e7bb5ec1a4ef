"""What every template sees: the user, the site, the menu, languages, formatting."""

from __future__ import annotations

import datetime as dt

from babel import dates as babel_dates
from flask import Flask, g, url_for
from flask_babel import format_date, format_decimal, get_locale, get_timezone, get_translations

from core import bundles
from core.i18n import LOCALE_NAMES, LOCALES, current_locale
from core.kernel import bus
from core.plugins import flatten


def menu(group: str = "main"):
    """The menu entries the current user may see in the current site, in order."""
    site, user, access = g.get("site"), g.get("user"), g.get("access")
    if site is None or user is None:
        return []
    cache = g.setdefault("_menu", {})
    if group not in cache:
        hooks = bus().for_enabled(bundles.enabled_plugins(site))
        items = flatten(hooks.menu_items(site=site, user=user))
        cache[group] = sorted(
            (i for i in items if i.group == group
             and (i.permission is None or (access is not None and access.can(i.permission)))),
            key=lambda i: (i.order, str(i.title)))
    return cache[group]


def switchable_sites():
    """Sites the signed-in user may switch to."""
    from core import identity

    user = g.get("user")
    return identity.accessible_sites(user) if user is not None else []


def unread_count() -> int:
    """Unread notifications of the signed-in user in the current site."""
    from core.models import Notification

    user, site = g.get("user"), g.get("site")
    if user is None or site is None:
        return 0
    return (Notification.select().where(Notification.user == user, Notification.site == site,
                                        Notification.read_at.is_null()).count())


def calendar_gaps() -> list[int]:
    """This year and next year when they lack holiday data, for site administrators only.

    Deadlines counted in working days fall back to weekends in such a year
    (core.holidays); the people who can get the notice imported are told.
    """
    access = g.get("access")
    if access is None or not access.can("core.site.admin"):
        return []
    if "_calendar_gaps" not in g:
        from core.holidays import missing_years

        g._calendar_gaps = missing_years()
    return g._calendar_gaps


def _cached_gettext(app: Flask):
    """Template ``_``/``pgettext`` that look each message up once per locale.

    A list page asks for the same labels on every row; flask-babel resolves
    the merged catalog on every call. Catalogs do not change while an app
    runs, so the cache lives as long as the app.
    """
    cache: dict = {}

    def gettext(string):
        key = (str(get_locale()), None, string)
        try:
            return cache[key]
        except KeyError:
            cache[key] = value = get_translations().ugettext(string)
            return value

    def pgettext(context, string):
        key = (str(get_locale()), context, string)
        try:
            return cache[key]
        except KeyError:
            cache[key] = value = get_translations().upgettext(context, string)
            return value

    app.jinja_env.install_gettext_callables(
        gettext=gettext, pgettext=pgettext,
        ngettext=lambda s, p, n: get_translations().ungettext(s, p, n),
        npgettext=lambda c, s, p, n: get_translations().unpgettext(c, s, p, n),
        newstyle=True)


def format_datetime(value, format: str = "medium") -> str:
    """A stored (naive UTC) or aware time in the user's locale and time zone."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return babel_dates.format_datetime(value, format, tzinfo=get_timezone(),
                                       locale=get_locale())


def install(app: Flask) -> None:
    _cached_gettext(app)
    app.jinja_env.globals.update(menu=menu, switchable_sites=switchable_sites,
                                 unread_count=unread_count, LOCALES=LOCALES,
                                 LOCALE_NAMES=LOCALE_NAMES,
                                 current_locale=current_locale)
    app.jinja_env.filters.update(date=format_date, datetime=format_datetime,
                                 number=format_decimal)
    app.jinja_env.globals["url_for"] = url_for
    app.jinja_env.globals["calendar_gaps"] = calendar_gaps
