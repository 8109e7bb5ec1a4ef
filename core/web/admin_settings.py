"""Per-site settings of the kernel and of each enabled plugin, for site administrators.

Every setting shows its label, current value, default and citation
("依据 …": ARCHITECTURE, regulation as configuration with provenance). The
edit form of one plugin is validated by :func:`core.settings.change`, which
audits each change; a refused value keeps what was typed, names the field
and the limit, and nothing of that form is saved (one transaction).
"""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from marshmallow import ValidationError, fields, validate

from core import bundles, textfold
from core import settings as site_settings
from core.i18n import _
from core.kernel import bus, kernel
from core.storage import transaction
from core.web.access import requires
from core.web.admin import bp, page_of

ADMIN = "core.site.admin"


class _Refused(Exception):
    """Raised inside the form's transaction so that no setting of it is saved."""


def section_title(plugin: str) -> str:
    if plugin == "core":
        return _("Kernel")
    info = bus().infos.get(plugin)
    return str(info.title) if info is not None else plugin


def sections(site) -> list[str]:
    """The kernel, then each enabled plugin that declares settings, by name."""
    enabled = bundles.enabled_plugins(site)
    names = sorted(n for n in kernel().settings_schemas if n != "core" and n in enabled)
    return (["core"] if "core" in kernel().settings_schemas else []) + names


def input_kind(field) -> str:
    """How a setting is edited: ``checkbox``, ``number``, ``lines`` or ``text``."""
    if isinstance(field, fields.Boolean):
        return "checkbox"
    if isinstance(field, (fields.Integer, fields.Float, fields.Decimal)):
        return "number"
    if isinstance(field, fields.List):
        return "lines"
    return "text"


def _limits(field) -> dict:
    out = {}
    for v in field.validators:
        if isinstance(v, validate.Range):
            if v.min is not None:
                out["min"] = v.min
            if v.max is not None:
                out["max"] = v.max
    return out


def _submitted(field, key: str, form):
    kind = input_kind(field)
    if kind == "checkbox":
        return key in form
    if kind == "lines":
        return [line.strip() for line in form.get(key, "").splitlines() if line.strip()]
    return form.get(key, "").strip()


def explain(field, label, raw) -> list[str]:
    """Translated messages for a refused value, naming the field and the rule it broke.

    marshmallow's own messages are English; these say the same in the user's
    language, with the limit (e.g. "at least 180").
    """
    kind = input_kind(field)
    if kind == "number":
        try:
            value = float(raw) if not isinstance(field, fields.Integer) else int(raw)
        except (TypeError, ValueError):
            return [_("%(field)s: enter a whole number.", field=label)
                    if isinstance(field, fields.Integer)
                    else _("%(field)s: enter a number.", field=label)]
    else:
        value = raw
    out = []
    for validator in field.validators:
        try:
            validator(value)
        except ValidationError:
            out.append(_rule_message(validator, label))
    return out or [_("%(field)s: this value is not allowed.", field=label)]


def _rule_message(validator, label) -> str:
    if isinstance(validator, validate.Range):
        if validator.min is not None and validator.max is not None:
            return _("%(field)s: enter a number from %(min)s to %(max)s.", field=label,
                     min=validator.min, max=validator.max)
        if validator.min is not None:
            return _("%(field)s: enter at least %(min)s.", field=label, min=validator.min)
        return _("%(field)s: enter at most %(max)s.", field=label, max=validator.max)
    if isinstance(validator, validate.OneOf):
        return _("%(field)s: choose one of %(choices)s.", field=label,
                 choices="、".join(str(c) for c in validator.choices))
    if isinstance(validator, validate.Length):
        return _("%(field)s: enter %(min)s to %(max)s characters.", field=label,
                 min=validator.min or 0, max=validator.max if validator.max is not None else "∞")
    return _("%(field)s: this value is not allowed.", field=label)


@bp.get("/settings/")
@requires(ADMIN)
def settings():
    """Every setting of the kernel and the enabled plugins with value, default and source."""
    q = request.args.get("q", "").strip()
    rows = []
    for plugin in sections(g.site):
        title = section_title(plugin)
        for info in site_settings.describe(g.site, plugin):
            if q and not textfold.matches(q, f"{title} {info.key} {info.label} {info.citation}"):
                continue
            rows.append((plugin, title, info))
    return render_template("admin/settings.html", page=page_of(rows), q=q)



def _plugin_or_404(plugin: str) -> str:
    if plugin not in sections(g.site):
        abort(404)
    return plugin


@bp.route("/settings/<plugin>", methods=["GET", "POST"])
@requires(ADMIN)
def settings_edit(plugin):
    """Edit one plugin's settings for this site; all saved, or none with the reasons."""
    _plugin_or_404(plugin)
    schema = site_settings.schema_for(plugin)
    infos = site_settings.describe(g.site, plugin)
    errors, values = {}, {i.key: i.value for i in infos}
    if request.method == "POST":
        values = {i.key: _submitted(schema.fields[i.key], i.key, request.form) for i in infos}
        changed = []
        try:
            with transaction():
                for info in infos:
                    field, raw = schema.fields[info.key], values[info.key]
                    try:
                        if field.deserialize(raw) == info.value:
                            continue
                    except ValidationError:
                        pass  # settings.change refuses it below, with the field's rule
                    try:
                        site_settings.change(g.site, plugin, info.key, raw)
                    except ValidationError:
                        errors[info.key] = explain(field, info.label, raw)
                    else:
                        changed.append(info.key)
                if errors:
                    raise _Refused
        except _Refused:
            pass
        else:
            if changed:
                flash(_("Settings saved: %(count)s changed.", count=len(changed)), "success")
            else:
                flash(_("Nothing changed."), "info")
            return redirect(url_for("admin.settings"))
    fields_ = [(info, input_kind(schema.fields[info.key]), _limits(schema.fields[info.key]))
               for info in infos]
    return render_template("admin/settings_edit.html", plugin=plugin,
                           title=section_title(plugin), fields=fields_, values=values,
                           errors=errors), (422 if errors else 200)
