"""Audited writes: the one way plugins create, change and delete rows.

Each function runs in one write transaction: the domain write, the audit
event and the ``record_written`` hook commit together or not at all
(SECURITY Z7). Updates and deletes check the row's ``version`` so that two
people editing one record never silently overwrite each other: the loser gets
:class:`Conflict` and keeps their input (SECURITY: lost updates). On
PostgreSQL a write that loses a race for its audit chain is tried again
(``@transaction()``), so callers never see a serialization error.
"""

from __future__ import annotations

import peewee as pw
from flask import has_app_context

from core.audit import log as audit_log
from core.context import current_actor
from core.storage import transaction, utcnow


class Conflict(RuntimeError):
    """The row changed since it was read (HTTP 409)."""

    def __init__(self, obj, expected: int | None):
        super().__init__(f"{type(obj).__name__} {obj.get_id()} changed since version {expected}")
        self.obj = obj
        self.expected = expected


def values_of(obj: pw.Model, fields=None) -> dict:
    """The stored values of a row, by field name (foreign keys as ids)."""
    names = fields if fields is not None else list(obj._meta.fields)
    return {name: obj.__data__.get(name) for name in names}


def object_type(obj_or_model) -> str:
    model = obj_or_model if isinstance(obj_or_model, type) else type(obj_or_model)
    return model._meta.table_name


def _site_id(obj, site) -> int | None:
    if site is not None:
        return site if isinstance(site, int) else site.id
    return obj.__data__.get("site") if "site" in obj._meta.fields else None


def _announce(site_id, event, obj) -> None:
    """Call ``record_written`` on the site's plugins, asking the database only if one listens."""
    if site_id is None or not has_app_context():
        return
    from core import bundles
    from core.kernel import bus
    from core.models import Site

    hub = bus()
    if not hub.pm.hook.record_written.get_hookimpls():
        return
    caller = hub.for_enabled(bundles.enabled_plugins(site_id)).record_written
    if not caller.get_hookimpls():
        return
    site = obj if isinstance(obj, Site) and obj.id == site_id else (
        obj.__rel__.get("site") if "site" in getattr(obj, "__rel__", {}) else None)
    caller(site=site if site is not None else Site.get_by_id(site_id), event=event, obj=obj)


def audited(action: str, obj: pw.Model | None = None, *, site=None, before=None, after=None,
            payload=None, result: str = "ok", object_type_name: str | None = None):
    """Append an audit event for ``obj`` and announce it; call inside :func:`transaction`.

    For actions that are not plain create/update/delete (a login, a workflow
    move, a sensitive read, a bundle change).
    """
    site_id = _site_id(obj, site) if obj is not None else (
        site if isinstance(site, int) or site is None else site.id)
    event = audit_log.append(
        action, site_id=site_id,
        object_type=object_type_name or (object_type(obj) if obj is not None else None),
        object_id=obj.get_id() if obj is not None else None,
        before=before, after=after, payload=payload, result=result)
    if obj is not None:
        _announce(site_id, event, obj)
    return event


def create(model: type[pw.Model], *, action: str | None = None, payload=None, **values):
    """Insert a row and audit it. ``created_by`` is the current actor when the model has it."""

    @transaction()
    def write():
        if "created_by" in model._meta.fields and "created_by" not in values:
            values["created_by"] = current_actor().user_id
        obj = model(**values)
        obj.save(force_insert=True)
        audited(action or f"{object_type(model)}.create", obj,
                after=values_of(obj), payload=payload)
        return obj

    return write()


def update(obj: pw.Model, *, expected_version: int | None = None, action: str | None = None,
           payload=None, **changes):
    """Change fields of ``obj`` and audit the difference.

    :param expected_version: the version the editor saw; None uses ``obj.version``.
    :raises Conflict: when the stored version differs (someone saved first).
    """
    model = type(obj)
    changed = {k: v for k, v in changes.items() if obj.__data__.get(k) != _raw(model, k, v)}
    before = values_of(obj, changed)

    @transaction()
    def write():
        for key, value in changes.items():
            setattr(obj, key, value)
        if hasattr(obj, "check_references"):
            obj.check_references()
        after = values_of(obj, changed)
        fields = {model._meta.fields[k]: obj.__data__.get(k) for k in changes}
        query = model.update(fields).where(model._meta.primary_key == obj.get_id())
        if "version" in model._meta.fields:
            expected = obj.version if expected_version is None else expected_version
            stamped = {**fields, model.version: model.version + 1}
            if "updated_at" in model._meta.fields:
                stamped[model.updated_at] = utcnow()
            query = model.update(stamped).where(
                model._meta.primary_key == obj.get_id(), model.version == expected)
            if query.execute() != 1:
                raise Conflict(obj, expected)
            obj.version = expected + 1
        else:
            query.execute()
        audited(action or f"{object_type(obj)}.update", obj, before=before, after=after,
                payload=payload)

    write()
    return obj


def _raw(model, key, value):
    field = model._meta.fields.get(key)
    if isinstance(value, pw.Model):
        return value.get_id()
    if field is not None and value is not None and not isinstance(field, pw.ForeignKeyField):
        try:
            return field.python_value(field.db_value(value))
        except (TypeError, ValueError):
            return value
    return value


def delete(obj: pw.Model, *, expected_version: int | None = None, action: str | None = None,
           payload=None) -> None:
    """Delete ``obj`` and audit what it held.

    :raises Conflict: when the stored version differs from the one the user confirmed.
    """
    model = type(obj)

    @transaction()
    def write():
        query = model.delete().where(model._meta.primary_key == obj.get_id())
        if "version" in model._meta.fields:
            expected = obj.version if expected_version is None else expected_version
            query = query.where(model.version == expected)
            if query.execute() != 1:
                raise Conflict(obj, expected)
        else:
            query.execute()
        audited(action or f"{object_type(obj)}.delete", obj, before=values_of(obj),
                payload=payload)

    write()
