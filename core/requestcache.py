"""A per-request memo for identity facts, so one request asks the database once.

The layout, the dashboard and its widgets all need the user's rights in the
current site and the site's plugins; without this each asked again. Outside a
request (CLI, jobs, test bodies) nothing is cached. Writes that change a fact
call :func:`forget` so the rest of the request sees the change.
"""

from __future__ import annotations

from flask import g, has_request_context


def memo(name: str, key, compute):
    """``compute()`` once per request for ``(name, key)``."""
    if not has_request_context():
        return compute()
    store = g.setdefault("_request_memo", {}).setdefault(name, {})
    if key not in store:
        store[key] = compute()
    return store[key]


def forget(name: str) -> None:
    """Drop every memo of ``name`` in this request."""
    if has_request_context():
        g.get("_request_memo", {}).pop(name, None)
