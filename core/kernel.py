"""The kernel's per-application state, kept in ``app.extensions["grassroots"]``."""

from __future__ import annotations

import dataclasses

from flask import current_app

from core.permissions import Permission
from core.plugins import HookBus


@dataclasses.dataclass
class Kernel:
    """What the factory built: the hook bus, declared permissions and settings."""

    bus: HookBus
    permissions: dict[str, Permission]
    settings_schemas: dict[str, type]


def kernel() -> Kernel:
    """The kernel of the current application."""
    return current_app.extensions["grassroots"]


def bus() -> HookBus:
    return kernel().bus
