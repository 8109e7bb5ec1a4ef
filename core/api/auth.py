"""Who is calling the API: ``Authorization: Bearer <token>``, nothing else.

The API accepts only bearer tokens. A browser's session cookie is ignored
under ``/api/``, so a page on another origin cannot make a signed-in
browser call the API: no ambient credential, hence no CSRF check (and API
blueprints are exempt from it). A valid token sets what a session sets for a
page: ``g.user``, ``g.site`` (the token's site), ``g.access`` (the user's
rights there now, :func:`core.identity.access`) and ``g.enabled_plugins``.
Without a valid token they stay empty and ``@requires`` answers 401.
"""

from __future__ import annotations

import logging

from flask import g, request

from core import bundles
from core.api import tokens
from core.context import Actor, reset_actor, set_actor

log = logging.getLogger("grassroots.api")


def bearer_token() -> str | None:
    """The token of an ``Authorization: Bearer`` header, or None."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip() or None


def authenticate_request() -> None:
    """``before_request`` for ``/api/`` paths: replace the session's identity by the token's."""
    if not request.path.startswith("/api/"):
        return
    g.user, g.site, g.access, g.enabled_plugins = None, None, None, frozenset()
    g.session_locale, g.api_token_refused = None, False
    token = bearer_token()
    bearer = tokens.authenticate(token) if token else None
    if token and bearer is None:
        g.api_token_refused = True
        # never the token itself in a log (SECURITY L3)
        log.info("request %s: API token refused", g.get("request_id"))
    if bearer is not None:
        g.user, g.site, g.access = bearer.user, bearer.site, bearer.access
        g.enabled_plugins = bundles.enabled_plugins(bearer.site)
    previous = g.pop("actor_token", None)
    if previous is not None:
        reset_actor(previous)
    g.actor_token = set_actor(Actor(
        user_id=g.user.id if g.user else None, site_id=g.site.id if g.site else None,
        ip=request.remote_addr, user_agent=(request.user_agent.string or "")[:255],
        request_id=g.get("request_id"), via="api"))
