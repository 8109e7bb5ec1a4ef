"""Same-origin redirects only (SECURITY E3, Indico CVE-2024-45399)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import url_for


def safe_next(target: str | None, default_endpoint: str = "home.dashboard") -> str:
    """``target`` when it is a relative path on this server, else the dashboard.

    Refuses ``javascript:``, ``//evil``, ``/\\evil``, ``https://evil`` and
    anything with control characters.
    """
    if not target or any(ord(c) < 32 for c in target) or "\\" in target:
        return url_for(default_endpoint)
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for(default_endpoint)
    return target
