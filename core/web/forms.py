"""Validating HTML forms with the same marshmallow schemas as the API.

A refused form is re-rendered with what the user typed and one translated
message per field (STYLE 15, gotcha 6: lazy messages come back as bare
strings, so leaves are normalised to lists here).
"""

from __future__ import annotations

from marshmallow import Schema, ValidationError
from werkzeug.datastructures import MultiDict


def normalise(messages) -> dict[str, list[str]]:
    """marshmallow messages as ``{field: [str, ...]}`` with nested keys dotted."""
    out: dict[str, list[str]] = {}

    def walk(prefix, value):
        if isinstance(value, dict):
            for key, item in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), item)
        elif isinstance(value, (list, tuple)):
            for item in value:
                if isinstance(item, (dict, list, tuple)):
                    walk(prefix, item)
                else:
                    out.setdefault(prefix or "_schema", []).append(str(item))
        else:
            out.setdefault(prefix or "_schema", []).append(str(value))

    walk("", messages)
    return out


def form_data(schema: Schema, form: MultiDict) -> dict:
    """The submitted fields the schema knows, lists for ``List`` fields, blanks dropped."""
    from marshmallow import fields

    data = {}
    for name, field in schema.fields.items():
        key = field.data_key or name
        if field.dump_only or key not in form:
            continue
        if isinstance(field, fields.List):
            data[key] = [v for v in form.getlist(key) if v != ""]
        else:
            value = form.get(key, "").strip()
            if value != "" or isinstance(field, fields.String):
                data[key] = value
    return data


def load_form(schema: Schema, form: MultiDict):
    """Validate a submitted form: ``(data, {})`` or ``(None, errors)``."""
    try:
        return schema.load(form_data(schema, form)), {}
    except ValidationError as err:
        return None, normalise(err.messages)
