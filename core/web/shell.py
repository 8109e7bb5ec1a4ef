"""Installs the web shell on an app: sessions, CSRF, languages, headers, blueprints.

Every installed plugin's blueprints are registered at start-up (Flask allows
no later registration); a request to a plugin the current site has not
enabled answers 404.
"""

from __future__ import annotations

import uuid

from flask import Flask, abort, g, request, send_from_directory, session
from flask_babel import Babel
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from core import bundles, identity
from core.app import ROOT
from core.context import Actor, reset_actor, set_actor
from core.i18n import select_locale
from core.models import Site, User
from core.plugins import HookBus
from core.storage import db
from core.web import errors, headers, templating
from core.web.access import PUBLIC, requires
from core.web.sessions import ServerSessionInterface

csrf = CSRFProtect()


def install(app: Flask, hub: HookBus) -> None:
    app.session_interface = ServerSessionInterface()
    csrf.init_app(app)
    # flask-babel reads the directories once, in Babel(app): set them first
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(translation_dirs(hub))
    Babel(app, locale_selector=select_locale)
    if app.config["PROXY_COUNT"]:
        n = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=0, x_prefix=0)

    app.before_request(_open_request)
    app.teardown_request(_close_request)
    headers.install(app)
    errors.install(app)
    templating.install(app)

    @app.get("/static/<path:filename>")
    @requires(PUBLIC)
    def static(filename):
        """Theme static files: the chosen theme first, then the default theme."""
        theme = ROOT / "themes" / app.config["THEME"] / "static"
        if (theme / filename).is_file():
            return send_from_directory(theme, filename, max_age=3600)
        return send_from_directory(ROOT / "themes" / "default" / "static", filename,
                                   max_age=3600)

    from core.web import (
        account,
        admin,
        attachments,
        audit_views,
        auth,
        home,
        inbox,
        obligations,
        tokens,
    )

    for bp in (auth.bp, home.bp, account.bp, inbox.bp, admin.bp, audit_views.bp,
               obligations.bp, tokens.bp, attachments.bp):
        app.register_blueprint(bp)
    plugin_of = {}
    for impl in hub.pm.hook.register_blueprints.get_hookimpls():
        for bp in impl.function(**_args(impl, app=app)) or ():
            if impl.plugin_name != "core":
                plugin_of[bp.name] = impl.plugin_name
            app.register_blueprint(bp)
    app.before_request(_gate(plugin_of))

    from core.api import install_api

    install_api(app, hub)


def _args(impl, **available):
    return {name: available[name] for name in impl.argnames}


def translation_dirs(hub: HookBus) -> list[str]:
    """The kernel catalogs, then each installed plugin's ``translations``."""
    dirs = [str(ROOT / "locales")]
    for name in hub.names:
        module = hub.pm.get_plugin(name)
        path = getattr(module, "__file__", None)
        if path:
            candidate = ROOT.joinpath(path).parent / "translations"
            if candidate.is_dir():
                dirs.append(str(candidate))
    return dirs


def _gate(plugin_of: dict[str, str]):
    """A plugin's pages answer 404 where the current site has not enabled the plugin.

    Checked on the app by blueprint name, never added to the plugin's own
    blueprint: one blueprint object serves every app built from its module
    (test apps, workers), and Flask refuses setup on a registered blueprint.
    """

    def check_enabled():
        plugin = next((plugin_of[n] for n in request.blueprints if n in plugin_of), None)
        if plugin is not None and (g.get("site") is None or plugin not in g.enabled_plugins):
            abort(404)

    return check_enabled


def _open_request():
    if db.obj.is_closed():
        db.obj.connect(reuse_if_open=True)
    g.request_id = uuid.uuid4().hex[:16]
    g.user, g.site, g.access, g.enabled_plugins = None, None, None, frozenset()
    g.session_locale = session.get("locale")
    user_id = session.get("_user_id")
    if user_id and not session.get("_pending_mfa"):
        loaded = getattr(session, "user", None)
        user = loaded if loaded is not None and loaded.id == user_id \
            else User.get_or_none(User.id == user_id)
        if user is not None and user.is_active:
            g.user = user
            _choose_site(user)
    g.actor_token = set_actor(Actor(
        user_id=g.user.id if g.user else None, site_id=g.site.id if g.site else None,
        ip=request.remote_addr, user_agent=(request.user_agent.string or "")[:255],
        request_id=g.request_id, via="web"))


def _choose_site(user: User) -> None:
    site_id = session.get("site_id")
    site = Site.get_or_none(Site.id == site_id) if site_id else None
    access = identity.access(user, site) if site else None
    if access is None:
        sites = identity.accessible_sites(user)
        site = sites[0] if sites else None
        access = identity.access(user, site) if site else None
        if site is not None and session.get("site_id") != site.id:
            session["site_id"] = site.id
    g.site, g.access = site, access
    if site is not None:
        g.enabled_plugins = bundles.enabled_plugins(site)


def _close_request(exc):
    token = g.pop("actor_token", None)
    if token is not None:
        reset_actor(token)
    if not db.obj.is_closed() and not db.obj.in_transaction():
        db.obj.close()
