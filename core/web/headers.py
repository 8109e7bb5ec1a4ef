"""Security headers on every response (SECURITY F2, D2).

The CSP allows scripts and styles only from the server itself: no inline
script anywhere, so a stored payload that escaped escaping still cannot run.
Nothing but the theme's static files (public, no personal data, served the
same to everyone) may be cached: pages carry personal data and CSRF tokens,
so every other response, signed in or not, page or API, error or not, says
``Cache-Control: no-store``. HSTS is sent whenever the request
came over HTTPS (directly, or through the ``PROXY_COUNT`` trusted proxies).
"""

from __future__ import annotations

from flask import Flask, g, request

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self'; connect-src 'self'; form-action 'self'; object-src 'none'; "
       "base-uri 'none'; frame-ancestors 'none'")
#: one year, the ASVS 3.4.1 floor
HSTS = "max-age=31536000; includeSubDomains"
#: endpoints whose responses may be cached (theme files, no personal data)
CACHEABLE = frozenset({"static"})


def install(app: Flask) -> None:
    @app.after_request
    def set_headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
        if request.endpoint not in CACHEABLE:
            response.headers["Cache-Control"] = "no-store"
        if request.is_secure:
            response.headers["Strict-Transport-Security"] = HSTS
        if g.get("request_id"):
            response.headers["X-Request-Id"] = g.request_id
        return response
