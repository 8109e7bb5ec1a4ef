"""``/api/v1/notifications``: the token user's inbox in the token's site."""

from __future__ import annotations

from flask import g
from marshmallow import fields, validate

from core import notifications
from core.api.blueprint import Blueprint, QueryPage
from core.api.schemas import StrictSchema
from core.models import Notification
from core.web.access import AUTHENTICATED, requires

blp = Blueprint("api_notifications", __name__, url_prefix="/api/v1/notifications",
                description="The user's notifications in the token's site")

#: ids are SQLite/PostgreSQL BIGINTs; larger numbers are refused, not sent to the database
MAX_ID = 2**63 - 1


class NotificationSchema(StrictSchema):
    id = fields.Integer(dump_only=True)
    kind = fields.String(dump_only=True)
    title = fields.String(dump_only=True)
    body = fields.String(dump_only=True)
    url = fields.String(dump_only=True, metadata={"description": "a path on this server"})
    created_at = fields.DateTime(dump_only=True)
    read_at = fields.DateTime(dump_only=True, allow_none=True)


class MarkReadSchema(StrictSchema):
    ids = fields.List(
        fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_ID)),
        validate=validate.Length(max=500),
        metadata={"description": "the notifications to mark; leave out to mark all"})


class MarkedSchema(StrictSchema):
    marked = fields.Integer(dump_only=True, metadata={"description": "how many were unread"})


@blp.route("")
@requires(AUTHENTICATED)
@blp.response(200, NotificationSchema(many=True))
@blp.paginate(QueryPage)
def index():
    """The user's notifications in this site, newest first (paged)."""
    return (Notification.select()
            .where(Notification.user == g.user, Notification.site == g.site)
            .order_by(Notification.created_at.desc(), Notification.id.desc()))


@blp.route("/read", methods=["POST"])
@requires(AUTHENTICATED)
@blp.arguments(MarkReadSchema)
@blp.response(200, MarkedSchema)
def read(data):
    """Mark the listed notifications (or all) of this site as read.

    Ids of other users' or other sites' notifications are ignored, never
    marked: the update is limited to the token's user and site.
    """
    return {"marked": notifications.mark_read(g.user, g.site, data.get("ids"))}
