"""Error pages: a generic page with a request id, never a traceback (SECURITY D4)."""

from __future__ import annotations

import logging

from flask import Flask, g, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

from core.records import Conflict
from core.sitemodel import NotFound

log = logging.getLogger("grassroots.errors")


def wants_json() -> bool:
    return request.path.startswith("/api/")


def _render(status: int, name: str, message: str | None = None):
    if wants_json():
        body = {"code": status, "status": name, "request_id": g.get("request_id")}
        if message:
            body["message"] = message
        return jsonify(body), status
    return render_template("error.html", status=status, message=message,
                           request_id=g.get("request_id")), status


def install(app: Flask) -> None:
    @app.errorhandler(NotFound)
    def not_found(exc):
        return _render(404, "Not Found")

    @app.errorhandler(Conflict)
    def conflict(exc):
        return _render(409, "Conflict")

    @app.errorhandler(HTTPException)
    def http_error(exc):
        if isinstance(exc, InternalServerError):
            return server_error(exc)
        return _render(exc.code or 500, exc.name)

    @app.errorhandler(Exception)
    def server_error(exc):
        original = getattr(exc, "original_exception", None) or exc
        log.error("request %s failed: %r", g.get("request_id"), original,
                  exc_info=(type(original), original, original.__traceback__))
        return _render(500, "Internal Server Error")
