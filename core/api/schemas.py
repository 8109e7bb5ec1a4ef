"""Base schemas for the API and the forms: unknown and read-only fields are refused.

SECURITY Z4 (CKAN CVE-2022-43685 was a mass assignment): a client must never
set ``id``, ``site_id``, ``version``, ``created_by``, ``status`` or
``approved_by``. :class:`StrictSchema` refuses every field it does not load
(``unknown = RAISE``; ``dump_only`` fields count as unknown when loading), so
such a field in a request answers 422 naming it. It also refuses, when the
schema is built, to *load* one of those names unless the schema says so in
``allow_input``: a plugin cannot make them writable by accident.

Plugins derive their input and output schemas from :class:`StrictSchema`
(or :class:`RecordSchema` for :class:`core.SiteModel` rows).
"""

from __future__ import annotations

import numbers

from marshmallow import RAISE, Schema, ValidationError, fields

from core.i18n import _l

#: names a client never sets (SECURITY Z4)
READ_ONLY_NAMES = frozenset({"id", "site", "site_id", "version", "created_at", "updated_at",
                             "created_by", "created_by_id", "status", "approved_by",
                             "approved_by_id"})


class StrictSchema(Schema):
    """A schema that refuses unknown input and never loads a read-only name.

    :cvar allow_input: read-only names this schema may load anyway (e.g. a
        query filter on ``status``); empty by default.
    :raises TypeError: when instantiated with a loadable read-only field.
    """

    allow_input: frozenset[str] = frozenset()

    class Meta:
        unknown = RAISE

    error_messages = {"unknown": _l("Unknown field."),
                      "type": _l("Invalid input type.")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.load_fields.items():
            key = field.data_key or name
            if {name, key} & READ_ONLY_NAMES and not {name, key} & set(self.allow_input):
                raise TypeError(f"{type(self).__name__}.{name} (input {key!r}) may not be "
                                "loaded from input; declare it dump_only (SECURITY Z4)")


class RecordSchema(StrictSchema):
    """Output of a :class:`core.SiteModel` row: its bookkeeping fields, all dump-only."""

    id = fields.Integer(dump_only=True)
    site_id = fields.Integer(dump_only=True)
    version = fields.Integer(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)
    created_by = fields.Integer(dump_only=True, attribute="created_by_id", allow_none=True)


def json_type_errors(schema: Schema, data) -> dict:
    """Values whose JSON type differs from the field's: ``{key: [message]}``.

    marshmallow is lenient for HTML forms (``"1"`` is an integer, ``"yes"``
    is true). A JSON body has real types, so the API takes only the right
    one: ``1`` for a Boolean, ``"1"`` for an Integer or ``1.5`` for an
    Integer is refused rather than coerced.
    """
    if not isinstance(data, dict):
        return {}
    errors = {}
    for name, field in schema.load_fields.items():
        key = field.data_key or name
        if key in data:
            found = _field_errors(field, data[key])
            if found:
                errors[key] = found
    return errors


def _field_errors(field: fields.Field, value):
    if value is None:
        return None  # allow_none decides
    invalid = [field.error_messages.get("invalid") or field.error_messages.get("type")
               or "Invalid type."]
    if isinstance(field, fields.Boolean):
        return None if isinstance(value, bool) else invalid
    if isinstance(field, fields.Integer):
        return None if isinstance(value, int) and not isinstance(value, bool) else invalid
    if isinstance(field, fields.Number):
        ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
        return None if ok else invalid
    if isinstance(field, (fields.String, fields.UUID, fields.Date, fields.DateTime, fields.Time)):
        return None if isinstance(value, str) else invalid
    if isinstance(field, fields.List):
        if not isinstance(value, list):
            return invalid
        inner = {i: e for i, item in enumerate(value)
                 if (e := _field_errors(field.inner, item))}
        return inner or None
    if isinstance(field, fields.Nested):
        items = value if field.many and isinstance(value, list) else [value]
        nested = {}
        for i, item in enumerate(items):
            found = json_type_errors(field.schema, item)
            if found:
                nested.update({f"{i}.{k}": v for k, v in found.items()} if field.many
                              else found)
        return nested or None
    return None


def check_json_types(schema: Schema, data) -> None:
    """Raise :class:`ValidationError` naming every value of the wrong JSON type."""
    errors = json_type_errors(schema, data)
    if errors:
        raise ValidationError(errors)
