"""Notifying users inside Grassroots: an inbox per user and site, no outside service.

Plugins call :func:`notify` for an assignment, an approval waiting or an
obligation falling due; the layout shows the unread count.
"""

from __future__ import annotations

from core.models import Notification, Site, User
from core.storage import transaction, utcnow


def notify(user: User | int, site: Site | int, *, kind: str, title: str, body: str = "",
           url: str = "") -> Notification:
    """Put a message in ``user``'s inbox for ``site``.

    :param kind: a dotted name, e.g. ``party.meeting.due``, for filtering.
    :param title: the text shown in the list (already translated for the user).
    :param url: a same-site relative link to the thing concerned.
    """
    if url and (not url.startswith("/") or url.startswith("//")):
        raise ValueError("notification links must be relative paths on this server")
    with transaction():
        return Notification.create(user=user, site=site, kind=kind[:64], title=title[:200],
                                   body=body, url=url[:500])


def unread(user: User, site: Site):
    return (Notification.select()
            .where(Notification.user == user, Notification.site == site,
                   Notification.read_at.is_null()))


def mark_read(user: User, site: Site, ids=None) -> int:
    """Mark the user's notifications (all, or ``ids``) in ``site`` as read."""
    query = Notification.update(read_at=utcnow()).where(
        Notification.user == user, Notification.site == site, Notification.read_at.is_null())
    if ids is not None:
        query = query.where(Notification.id.in_(list(ids)))
    with transaction():
        return query.execute()
