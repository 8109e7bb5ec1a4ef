"""Who is acting and from where, for the audit log.

The web layer sets it per request, the CLI per command; kernel functions read
it so that plugins never pass the actor around by hand.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses


@dataclasses.dataclass(frozen=True)
class Actor:
    """The origin of a write: a user (or none, for the system) and the request."""

    user_id: int | None = None
    site_id: int | None = None
    ip: str | None = None
    user_agent: str | None = None
    request_id: str | None = None
    via: str = "system"  # web, api, cli, system


_current: contextvars.ContextVar[Actor | None] = contextvars.ContextVar("grassroots_actor",
                                                                         default=None)
_SYSTEM = Actor()


def current_actor() -> Actor:
    return _current.get() or _SYSTEM


def set_actor(actor: Actor) -> contextvars.Token:
    return _current.set(actor)


def reset_actor(token: contextvars.Token) -> None:
    _current.reset(token)


@contextlib.contextmanager
def acting_as(actor: Actor):
    """Run a block as ``actor`` (used by the CLI, jobs and tests)."""
    token = _current.set(actor)
    try:
        yield actor
    finally:
        _current.reset(token)
