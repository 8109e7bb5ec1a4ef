"""Finding audit events for the audit page: filters, scope and order.

The filters are those an auditor needs (PIPL Art. 54 and 57; MLPS 审计管理):
who acted, on which kind of object, which action, between which dates. Dates
are the deployment's local dates; events are stamped in UTC.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from core import textfold
from core.audit.models import AuditEvent
from core.i18n import _l
from core.models import User

_DATE_ERROR = _l("Enter a date as YYYY-MM-DD.")


class EventFilter(Schema):
    """The audit page's filter form (query string)."""

    #: platform administrators only: "all", "0" (the platform chain) or a site id
    site = fields.String(load_default="", validate=validate.Length(max=20))
    user = fields.String(load_default="", validate=validate.Length(max=100))
    object_type = fields.String(load_default="", validate=validate.Length(max=64))
    action = fields.String(load_default="", validate=validate.Length(max=64))
    date_from = fields.Date(load_default=None, error_messages={"invalid": _DATE_ERROR})
    date_to = fields.Date(load_default=None, error_messages={"invalid": _DATE_ERROR})

    @validates_schema
    def _order(self, data, **kwargs):
        if data.get("date_from") and data.get("date_to") and data["date_to"] < data["date_from"]:
            raise ValidationError(_l("The end date is before the start date."), "date_to")


def utc_stamp(day: dt.date, timezone: str) -> str:
    """The UTC stamp (as stored in ``ts_utc``) of local midnight starting ``day``."""
    local = dt.datetime.combine(day, dt.time(), tzinfo=ZoneInfo(timezone))
    return local.astimezone(dt.UTC).replace(tzinfo=None).isoformat(
        timespec="microseconds") + "Z"


def events(scope, data: dict, timezone: str):
    """The events matching ``data`` (loaded :class:`EventFilter`), newest first.

    :param scope: chain ids to search, or None for every chain.
    """
    query = AuditEvent.select()
    if scope is not None:
        query = query.where(AuditEvent.chain_id.in_(scope))
    if data.get("user"):
        text = data["user"].strip()
        users = User.select(User.id).where(
            (User.username == text) | User.search.contains(textfold.fold_query(text)))
        query = query.where(AuditEvent.actor_id.in_(users))
    if data.get("object_type"):
        query = query.where(AuditEvent.object_type == data["object_type"].strip())
    if data.get("action"):
        action = data["action"].strip().rstrip(".")
        query = query.where((AuditEvent.action == action)
                            | AuditEvent.action.startswith(action + "."))
    if data.get("date_from"):
        query = query.where(AuditEvent.ts_utc >= utc_stamp(data["date_from"], timezone))
    if data.get("date_to"):
        query = query.where(AuditEvent.ts_utc
                            < utc_stamp(data["date_to"] + dt.timedelta(days=1), timezone))
    # one chain: its (chain_id, seq) index gives the order; several: the primary key
    if scope is not None and len(scope) == 1:
        return query.order_by(AuditEvent.seq.desc())
    return query.order_by(AuditEvent.id.desc())


def stamp_time(stamp: str) -> dt.datetime:
    """A stored UTC stamp (``…Z``) as a naive UTC datetime (Babel shows it in local time)."""
    return dt.datetime.fromisoformat(stamp.rstrip("Z"))
