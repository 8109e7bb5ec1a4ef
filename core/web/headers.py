"""Security headers on every response (SECURITY F2, D2).

The CSP allows scripts and styles only from the server itself: no inline
script anywhere, so a stored payload that escaped escaping still cannot run.
"""

from __future__ import annotations

from flask import Flask, g, request

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self'; connect-src 'self'; form-action 'self'; object-src 'none'; "
       "base-uri 'none'; frame-ancestors 'none'")


def install(app: Flask) -> None:
    @app.after_request
    def set_headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
        if g.get("user") is not None or request.path.startswith("/api/"):
            response.headers["Cache-Control"] = "no-store"
        if request.is_secure:
            response.headers["Strict-Transport-Security"] = (
                "max-age=31536000; includeSubDomains")
        if g.get("request_id"):
            response.headers["X-Request-Id"] = g.request_id
        return response
