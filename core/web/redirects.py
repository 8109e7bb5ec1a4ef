"""Same-origin redirects and absolute links from the configured base URL.

``safe_next`` keeps every redirect on this server (SECURITY E3, Indico
CVE-2024-45399). ``absolute_url`` builds links that leave the browser (a
notification, a reset link, a printed QR code) from ``BASE_URL`` only, never
from the request's ``Host`` or ``X-Forwarded-Host`` (F4, Indico
CVE-2021-30185).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, url_for


def safe_next(target: str | None, default_endpoint: str = "home.dashboard") -> str:
    """``target`` when it is a relative path on this server, else the dashboard.

    Refuses ``javascript:``, ``//evil``, ``/\\evil``, ``https://evil`` and
    anything with control characters (CR/LF would split headers).
    """
    if not target or any(ord(c) < 32 or ord(c) == 127 for c in target) or "\\" in target:
        return url_for(default_endpoint)
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for(default_endpoint)
    return target


def absolute_url(path: str) -> str:
    """``BASE_URL`` joined with ``path``, a path on this server (e.g. from ``url_for``).

    :raises ValueError: when ``path`` is not a same-origin relative path.
    """
    if not path.startswith("/") or path.startswith("//") or "\\" in path or any(
            ord(c) < 32 for c in path):
        raise ValueError(f"not a path on this server: {path!r}")
    return current_app.config["BASE_URL"].rstrip("/") + path
