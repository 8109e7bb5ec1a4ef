"""The inbox: notifications of the signed-in user in the current site."""

from __future__ import annotations

from flask import Blueprint, g, redirect, render_template, url_for

from core import notifications
from core.models import Notification
from core.web.access import AUTHENTICATED, requires
from core.web.pagination import paginate

bp = Blueprint("inbox", __name__, url_prefix="/inbox")


@bp.get("/")
@requires(AUTHENTICATED)
def index():
    """Newest first; unread ones marked."""
    query = Notification.select().where(Notification.user == g.user,
                                        Notification.site == g.site)
    page = paginate(query.order_by(Notification.created_at.desc(), Notification.id.desc()))
    return render_template("inbox/index.html", page=page)


@bp.post("/read")
@requires(AUTHENTICATED)
def read_all():
    """Mark every notification of this site as read."""
    if g.site is not None:
        notifications.mark_read(g.user, g.site)
    return redirect(url_for("inbox.index"))
