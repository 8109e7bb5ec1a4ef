"""Error pages: a generic page with a request id, never a traceback (SECURITY D4).

Pages get the themed ``error.html`` in the reader's language with the
request id; ``/api/`` paths get the API's one JSON error shape
(:mod:`core.api.errors`), the id being in the ``X-Request-Id`` header. The
handlers here are registered before flask-smorest's, which hands every
error off ``/api/`` (and every 5xx) back to them (:mod:`core.api.extension`).
Every 5xx is logged with its request id, method, path and traceback; the
reader sees only the id.
"""

from __future__ import annotations

import logging

from flask import Flask, g, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

from core.records import Conflict
from core.sitemodel import NotFound

log = logging.getLogger("grassroots.errors")

#: response headers an error keeps (Allow on 405, a challenge on 401)
KEPT_HEADERS = frozenset({"allow", "www-authenticate", "retry-after"})


def wants_json() -> bool:
    return request.path.startswith("/api/")


def render_error(status: int, name: str, exc: HTTPException | None = None):
    """The response for an error ``status``: JSON under ``/api/``, the error page elsewhere."""
    if wants_json():
        from core.api.errors import http_error_response

        return http_error_response(status, name, exc)
    headers = [(k, v) for k, v in (exc.get_headers() if exc is not None else [])
               if k.lower() in KEPT_HEADERS]
    page = render_template("error.html", status=status, request_id=g.get("request_id"))
    return page, status, headers


def install(app: Flask) -> None:
    @app.errorhandler(NotFound)
    def not_found(exc):
        return render_error(404, "Not Found")

    @app.errorhandler(Conflict)
    def conflict(exc):
        return render_error(409, "Conflict")

    @app.errorhandler(HTTPException)
    def http_error(exc):
        if isinstance(exc, InternalServerError):
            return server_error(exc)
        return render_error(exc.code or 500, exc.name, exc)

    @app.errorhandler(Exception)
    def server_error(exc):
        original = getattr(exc, "original_exception", None) or exc
        log.error("request %s failed: %s %r: %r", g.get("request_id"), request.method,
                  request.path, original,
                  exc_info=(type(original), original, original.__traceback__))
        return render_error(500, "Internal Server Error")
