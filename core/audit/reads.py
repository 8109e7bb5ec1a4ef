"""Sensitive reads are audit events in the site's chain.

SECURITY §3.3 item 6 and the §5 row "Sensitive reads: 100 % of ID-number
reveals, health-record views, PI exports/prints logged (actor, site, purpose,
rows)"; PIPL Art. 51 and 55-57 (records of processing, and the answer to "whose
records did user X read between T1 and T2" after a breach). Masked list views
are not logged, to keep the log readable (§3.3 item 6).
"""

from __future__ import annotations

import peewee as pw

from core.audit import log
from core.audit.models import AuditEvent
from core.storage import transaction

#: what a read did: showed a full value, opened a record, exported or printed rows
READ_KINDS = ("reveal", "view", "export", "print")


def _object(obj_or_type):
    if isinstance(obj_or_type, pw.Model):
        return type(obj_or_type)._meta.table_name, obj_or_type.get_id()
    if isinstance(obj_or_type, type) and issubclass(obj_or_type, pw.Model):
        return obj_or_type._meta.table_name, None
    if isinstance(obj_or_type, str) and obj_or_type:
        return obj_or_type, None
    raise TypeError(f"read() needs a row, a model or a type name, not {obj_or_type!r}")


def read(obj_or_type, *, site, fields, purpose: str, rows: int | None = None,
         kind: str = "reveal") -> AuditEvent:
    """Record a sensitive read as a ``read.<kind>`` event in ``site``'s chain.

    Call it whenever a full ID number or phone is revealed, a health record is
    opened, or personal data is exported or printed. It opens its own write
    transaction when called outside one, and joins the caller's otherwise.
    The actor, IP and request come from :func:`core.context.current_actor`.

    :param obj_or_type: the row read (its table and id are recorded), or a
        model class / table name for exports and prints of many rows.
    :param site: the site whose data was read (a :class:`~core.models.Site` or
        its id; None for platform data, chain 0).
    :param fields: the field names shown, e.g. ``["id_number"]``.
    :param purpose: why, in the reader's words or a fixed reason (PIPL Art. 6).
    :param rows: how many rows an export or print held; 1 for a single row.
    :param kind: one of :data:`READ_KINDS`.
    :raises ValueError: for an unknown kind, an empty purpose or a negative count.
    """
    if kind not in READ_KINDS:
        raise ValueError(f"unknown read kind {kind!r}; use one of {', '.join(READ_KINDS)}")
    if not isinstance(purpose, str) or not purpose.strip():
        raise ValueError("a sensitive read needs a purpose")
    object_type, object_id = _object(obj_or_type)
    if rows is None and object_id is not None:
        rows = 1
    if rows is not None and (not isinstance(rows, int) or rows < 0):
        raise ValueError(f"rows must be a count, not {rows!r}")
    site_id = site if isinstance(site, int) or site is None else site.id
    with transaction():
        return log.append(f"read.{kind}", site_id=site_id, object_type=object_type,
                          object_id=object_id,
                          payload={"fields": sorted(str(f) for f in fields),
                                   "purpose": purpose.strip(), "rows": rows})
