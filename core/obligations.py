"""Obligations: what a site must do by a date, contributed by its plugins.

ARCHITECTURE "Obligations": cadences and deadlines from the rules become
obligations that plugins return from the site hook ``obligations``; the
kernel shows them together, per site and rolled up to the parent site, and
puts a reminder in the members' inboxes when one falls due.

Roll-up rule: a parent site sees the obligations of a child only when it
holds a grant (``read`` or ``approve``) over that child, the same condition
under which its members may read the child at all (:func:`core.identity.access`,
SECURITY Z6). Platform administrators, who may act in every site, see every
child. Only direct children are rolled up, as grants reach one level down.

"Due soon" is a per-site kernel setting, ``core.obligation_due_soon_days``
(default 7): no rule sets a warning period, so it is the site's own choice.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import zoneinfo

import peewee as pw
from flask import current_app
from flask_babel import force_locale, format_date

from core import bundles, settings
from core.i18n import DEFAULT_LOCALE, LOCALES, _
from core.kernel import kernel
from core.models import Membership, Site, SiteGrant, User
from core.notifications import notify
from core.permissions import held
from core.storage import BaseModel, db, transaction, utcnow

#: the permission that lets a member see a site's obligations (and be reminded of them)
VIEW_PERMISSION = "core.obligation.view"
#: the notification kind of a reminder
NOTICE_KIND = "core.obligation.due"

DONE, OVERDUE, DUE_SOON, LATER = "done", "overdue", "due_soon", "later"


@dataclasses.dataclass(frozen=True)
class Obligation:
    """Something a site must do by ``due``, under the rule named by ``citation``.

    :param title: what must be done (a string or lazily translated string).
    :param due: the last day it may be done on.
    :param citation: the rule it comes from, e.g. ``"rules/party.md#R12"``.
    :param url: a relative link to where it is done (empty: none).
    :param done: whether it has been done already.
    :param key: a stable identity within the plugin (e.g. ``"meeting:42"``) so
        that a reminder is sent once per day; empty derives one from the
        citation, due date, link and title.
    :param plugin: the contributing plugin; filled in by :func:`collect`.
    :param site: the site it belongs to; filled in by :func:`collect`.
    """

    title: object
    due: dt.date
    citation: str
    url: str = ""
    done: bool = False
    key: str = ""
    plugin: str = ""
    site: Site | None = None

    def identity(self) -> str:
        """A digest naming this obligation of this site, the same every day it exists."""
        parts = (self.plugin, self.key) if self.key else (
            self.plugin, str(self.citation), self.due.isoformat(), self.url, str(self.title))
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:40]


class ObligationNotice(BaseModel):
    """A reminder already sent for one obligation of one site on one day."""

    site = pw.ForeignKeyField(Site, on_delete="CASCADE")
    key = pw.CharField(max_length=40)
    day = pw.DateField()
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "core_obligation_notice"
        indexes = ((("site", "key", "day"), True),)


def local_today() -> dt.date:
    """Today in the deployment's time zone (``BABEL_DEFAULT_TIMEZONE``), not UTC."""
    zone = zoneinfo.ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return dt.datetime.now(zone).date()


def due_soon_days(site: Site) -> int:
    """The site's warning period in days (setting ``core.obligation_due_soon_days``)."""
    return settings.values(site, "core")["obligation_due_soon_days"]


def classify(obligation: Obligation, today: dt.date, window: int) -> str:
    """``done``, ``overdue`` (past its day), ``due_soon`` (within ``window`` days) or ``later``."""
    if obligation.done:
        return DONE
    if obligation.due < today:
        return OVERDUE
    if obligation.due <= today + dt.timedelta(days=window):
        return DUE_SOON
    return LATER


def _sorted(items: list[Obligation]) -> list[Obligation]:
    return sorted(items, key=lambda o: (o.due, o.site.code if o.site else "", str(o.title)))


def collect(site: Site, today: dt.date) -> list[Obligation]:
    """The obligations of ``site`` from the plugins enabled there, by due date.

    Each implementation is called on its own (as the shell calls
    ``register_blueprints``) so that every obligation is stamped with the
    plugin that returned it.
    """
    caller = bundles.site_hooks(site).obligations
    available = {"site": site, "today": today}
    out = []
    for impl in caller.get_hookimpls():
        for item in impl.function(**{n: available[n] for n in impl.argnames}) or ():
            out.append(dataclasses.replace(item, plugin=item.plugin or impl.plugin_name,
                                           site=site))
    return _sorted(out)


def visible_children(site: Site, *, every_child: bool = False) -> list[Site]:
    """The children whose obligations roll up to ``site``: granted ones, or all."""
    query = Site.select().where(Site.parent == site)
    if not every_child:
        query = query.where(Site.id.in_(
            SiteGrant.select(SiteGrant.child).where(SiteGrant.parent == site)))
    return list(query.order_by(Site.code))


def collect_tree(site: Site, today: dt.date, *, every_child: bool = False) -> list[Obligation]:
    """The obligations of ``site`` and of its visible children, by due date.

    :param every_child: roll up every child, granted or not (platform
        administrators); otherwise only children ``site`` holds a grant over.
    """
    out = collect(site, today)
    for child in visible_children(site, every_child=every_child):
        out.extend(collect(child, today))
    return _sorted(out)


def recipients(site: Site) -> list[User]:
    """Active members of ``site`` whose roles let them see its obligations."""
    permissions = kernel().permissions
    rows = (Membership.select(Membership.user, Membership.role)
            .where(Membership.site == site).tuples())
    roles: dict[int, set[str]] = {}
    for user_id, role in rows:
        roles.setdefault(user_id, set()).add(role)
    wanted = [uid for uid, held_roles in roles.items()
              if VIEW_PERMISSION in held(permissions, held_roles)]
    if not wanted:
        return []
    return list(User.select().where(User.id.in_(wanted), User.is_active == True)  # noqa: E712
                .order_by(User.id))


def _reminder(obligation: Obligation, today: dt.date, locale: str) -> tuple[str, str]:
    with force_locale(locale):
        date = format_date(obligation.due, "medium")
        if obligation.due < today:
            title = _("Overdue since %(date)s: %(title)s", date=date, title=str(obligation.title))
        else:
            title = _("Due %(date)s: %(title)s", date=date, title=str(obligation.title))
        body = _("Under %(citation)s", citation=str(obligation.citation))
    return title, body


def _link(obligation: Obligation) -> str:
    url = obligation.url
    if url.startswith("/") and not url.startswith("//"):
        return url
    return current_app.url_map.bind("localhost").build("obligations.index")


def notify_due(site: Site, today: dt.date) -> int:
    """Remind the site's members of open obligations due within the warning period.

    Overdue open obligations are reminded of too: they are more pressing than
    the ones about to fall due. Each obligation is reminded of at most once per
    site and day, whoever calls this and however often (a unique row per
    obligation and day, so a cron job that runs twice sends nothing new).

    :returns: the number of notifications created.
    """
    window = dt.timedelta(days=due_soon_days(site))
    pending = [o for o in collect(site, today) if not o.done and o.due <= today + window]
    if not pending:
        return 0
    users = recipients(site)
    sent = 0
    with transaction():
        for obligation in pending:
            key = obligation.identity()
            if ObligationNotice.select().where(ObligationNotice.site == site,
                                               ObligationNotice.key == key,
                                               ObligationNotice.day == today).exists():
                continue
            try:
                with db.atomic():
                    ObligationNotice.create(site=site, key=key, day=today)
            except pw.IntegrityError:
                continue  # another process reminded of it a moment ago
            for user in users:
                locale = user.locale if user.locale in LOCALES else DEFAULT_LOCALE
                title, body = _reminder(obligation, today, locale)
                notify(user, site, kind=NOTICE_KIND, title=title, body=body,
                       url=_link(obligation))
                sent += 1
    return sent
