"""Which plugins the current site runs, for its administrators.

Enabling checks the plugin's requirements and disabling refuses while an
enabled plugin requires it (core.bundles); a refusal names both plugins.
Disabling keeps the plugin's data, and the confirmation page says so.
"""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for

from core import bundles, textfold
from core.i18n import _
from core.kernel import bus
from core.web.access import requires
from core.web.admin import bp, confirm, page_of

ADMIN = "core.site.admin"


def _title(name: str) -> str:
    info = bus().infos.get(name)
    return str(info.title) if info is not None else name


def _titles(names) -> str:
    return "、".join(_title(n) for n in names)


def refusal_message(err: bundles.BundleError) -> str:
    """A bundle refusal in the user's language, naming the plugins on both sides."""
    if err.code == "requires":
        return _("%(plugin)s needs %(others)s; enable that first.",
                 plugin=_title(err.plugin), others=_titles(err.others))
    if err.code == "required_by":
        return _("%(plugin)s is needed by %(others)s; disable that first.",
                 plugin=_title(err.plugin), others=_titles(err.others))
    return _("No plugin %(plugin)s is installed.", plugin=err.plugin)


def _installed_or_404(name: str):
    info = bus().infos.get(name)
    if info is None:
        abort(404)
    return info


@bp.get("/plugins/")
@requires(ADMIN)
def plugins():
    """Every installed plugin: title, description, requirements and state in this site."""
    hub = bus()
    q = request.args.get("q", "").strip()
    enabled = bundles.enabled_plugins(g.site)
    rows = [(info, name in enabled) for name, info in sorted(hub.infos.items())]
    if q:
        rows = [(info, on) for info, on in rows
                if textfold.matches(q, f"{info.name} {info.title} {info.description}")]
    return render_template("admin/plugins.html", page=page_of(rows), q=q, title_of=_title)


@bp.post("/plugins/<name>/enable")
@requires(ADMIN)
def plugin_enable(name):
    """Enable a plugin here; refused while a requirement is off."""
    _installed_or_404(name)
    try:
        bundles.enable(g.site, name)
    except bundles.BundleError as err:
        flash(refusal_message(err), "error")
    else:
        flash(_("%(plugin)s is enabled.", plugin=_title(name)), "success")
    return redirect(url_for("admin.plugins"))


@bp.route("/plugins/<name>/disable", methods=["GET", "POST"])
@requires(ADMIN)
def plugin_disable(name):
    """Disable a plugin here after a confirmation step; its data is kept."""
    _installed_or_404(name)
    if request.method == "POST":
        try:
            bundles.disable(g.site, name)
        except bundles.BundleError as err:
            flash(refusal_message(err), "error")
        else:
            flash(_("%(plugin)s is disabled; its data is kept.", plugin=_title(name)),
                  "success")
        return redirect(url_for("admin.plugins"))
    dependants = bus().dependants(name, bundles.enabled_plugins(g.site))
    if dependants:
        flash(refusal_message(bundles.BundleError("required_by", name, dependants)), "error")
        return redirect(url_for("admin.plugins"))
    return confirm(
        title=_("Disable %(plugin)s", plugin=_title(name)),
        message=_("Disable %(plugin)s for %(site)s? Its pages and reminders go away here, but "
                  "its data is kept: enabling it again shows everything as it was.",
                  plugin=_title(name), site=g.site.name),
        action=url_for("admin.plugin_disable", name=name), button=_("Disable"),
        cancel=url_for("admin.plugins"))
