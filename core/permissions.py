"""Permissions that plugins declare, and who holds them.

A permission has a level. A site's own members hold permissions by role; a
parent site's members act in a child with the child's ``read`` permissions
(a ``read`` grant) or ``read`` and ``approve`` ones (an ``approve`` grant).
Platform administrators hold every permission.
"""

from __future__ import annotations

import dataclasses

LEVELS = ("read", "write", "approve", "admin")


@dataclasses.dataclass(frozen=True)
class Permission:
    """A named right, e.g. ``party.member.edit``, held by default by ``roles``."""

    name: str
    label: object
    roles: tuple[str, ...] = ()
    level: str = "read"

    def __post_init__(self):
        if self.level not in LEVELS:
            raise ValueError(f"permission {self.name}: unknown level {self.level!r}")


#: levels a parent site's members get in a child, by grant
GRANT_LEVELS = {"read": frozenset({"read"}), "approve": frozenset({"read", "approve"})}


def held(permissions: dict[str, Permission], roles: set[str],
         grant: str | None = None) -> frozenset[str]:
    """The permission names held by a member with ``roles``, or through a ``grant``."""
    out = {p.name for p in permissions.values() if roles & set(p.roles)}
    if grant:
        levels = GRANT_LEVELS[grant]
        out |= {p.name for p in permissions.values() if p.level in levels}
    return frozenset(out)
