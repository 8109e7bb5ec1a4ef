"""Per-site settings that plugins declare as marshmallow schemas.

Defaults are the regulations' numbers, each field carrying its citation in
``metadata["citation"]``. A site stores only its overrides. Every change is
validated against the plugin's schema (unknown keys refused) and audited.
"""

from __future__ import annotations

import dataclasses
import json

from marshmallow import Schema, ValidationError

from core.kernel import kernel
from core.models import SettingValue, Site
from core.records import audited
from core.storage import transaction, utcnow


class UnknownSetting(KeyError):
    """No such plugin or key."""


@dataclasses.dataclass(frozen=True)
class SettingInfo:
    """One setting as an administrator sees it."""

    plugin: str
    key: str
    label: object
    value: object
    default: object
    citation: str
    overridden: bool
    help: object = ""


def schema_for(plugin: str) -> Schema:
    try:
        return kernel().settings_schemas[plugin]()
    except KeyError:
        raise UnknownSetting(plugin) from None


def _overrides(site: Site | int, plugin: str) -> dict:
    rows = SettingValue.select().where(SettingValue.site == site, SettingValue.plugin == plugin)
    return {r.key: json.loads(r.value) for r in rows}


def values(site: Site | int, plugin: str) -> dict:
    """The effective settings of ``plugin`` for ``site``: defaults with overrides.

    An override that no longer validates (the schema changed) falls back to
    the default rather than breaking the page.
    """
    schema = schema_for(plugin)
    stored = {k: v for k, v in _overrides(site, plugin).items() if k in schema.fields}
    try:
        return schema.load(stored)
    except ValidationError as err:
        good = {k: v for k, v in stored.items() if k not in err.messages}
        return schema.load(good)


def describe(site: Site | int, plugin: str) -> list[SettingInfo]:
    """Every setting of ``plugin`` with its value, default and citation."""
    schema = schema_for(plugin)
    current = values(site, plugin)
    overrides = _overrides(site, plugin)
    out = []
    for key, field in schema.fields.items():
        default = field.load_default() if callable(field.load_default) else field.load_default
        meta = field.metadata
        out.append(SettingInfo(plugin=plugin, key=key, label=meta.get("label", key),
                               value=current.get(key), default=default,
                               citation=meta.get("citation", ""), overridden=key in overrides,
                               help=meta.get("help", "")))
    return out


def change(site: Site, plugin: str, key: str, raw) -> object:
    """Validate and store one setting; returns the stored value.

    :raises UnknownSetting: for an unknown plugin or key.
    :raises marshmallow.ValidationError: with the field's message when refused.
    """
    schema = schema_for(plugin)
    if key not in schema.fields:
        raise UnknownSetting(f"{plugin}.{key}")
    current = _overrides(site, plugin)
    candidate = {k: v for k, v in current.items() if k in schema.fields}
    candidate[key] = raw
    loaded = schema.load(candidate)
    stored = schema.dump(loaded)[key]
    before = values(site, plugin).get(key)
    with transaction():
        row = SettingValue.get_or_none(site=site, plugin=plugin, key=key)
        encoded = json.dumps(stored, ensure_ascii=False)
        if row:
            SettingValue.update(value=encoded, changed_at=utcnow()).where(
                SettingValue.id == row.id).execute()
        else:
            row = SettingValue.create(site=site, plugin=plugin, key=key, value=encoded)
        audited("core.setting.change", row, site=site,
                before={f"{plugin}.{key}": schema.dump({key: before}).get(key)},
                after={f"{plugin}.{key}": stored})
    return loaded[key]
