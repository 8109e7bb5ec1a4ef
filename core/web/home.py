"""The dashboard, the site switcher and the language switch."""

from __future__ import annotations

from flask import Blueprint, abort, g, redirect, render_template, request, session, url_for

from core import identity
from core.i18n import LOCALES
from core.kernel import bus
from core.models import Site
from core.plugins import flatten
from core.records import update
from core.web.access import AUTHENTICATED, PUBLIC, requires
from core.web.redirects import safe_next

bp = Blueprint("home", __name__)


@bp.get("/")
@requires(AUTHENTICATED)
def dashboard():
    """The current site's dashboard: every enabled plugin's widgets the user may see."""
    widgets = []
    if g.site is not None:
        hooks = bus().for_enabled(g.enabled_plugins)
        widgets = sorted(
            (w for w in flatten(hooks.dashboard_widgets(site=g.site, user=g.user))
             if w.permission is None or g.access.can(w.permission)),
            key=lambda w: (w.order, str(w.title)))
    return render_template("home/dashboard.html", widgets=widgets)


@bp.post("/site")
@requires(AUTHENTICATED)
def switch_site():
    """Act in another site the user may enter; unknown or foreign sites are 404."""
    site = Site.get_or_none(Site.id == request.form.get("site_id", type=int))
    if site is None or identity.access(g.user, site) is None:
        abort(404)
    session["site_id"] = site.id
    return redirect(url_for("home.dashboard"))


@bp.post("/locale")
@requires(PUBLIC)
def set_locale():
    """Choose Simplified or Traditional; remembered on the user when signed in."""
    locale = request.form.get("locale")
    if locale not in LOCALES:
        abort(400)
    session["locale"] = locale
    if g.user is not None and g.user.locale != locale:
        update(g.user, locale=locale, action="core.user.locale")
    return redirect(safe_next(request.form.get("next")))


@bp.get("/health")
@requires(PUBLIC)
def health():
    """Liveness for a proxy or load balancer; says nothing about the data."""
    return {"status": "ok"}
