"""Running the kernel's and every plugin's numbered migrations.

The kernel's own run first, then each plugin's after the plugins it requires,
each recorded in its own history table ``<name>_migrations``
(``playhouse.migrations.Runner``).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from playhouse.migrations import Runner

from core.plugins import HookBus
from core.storage import db

KERNEL_MIGRATIONS = Path(__file__).parent / "migrations"


@dataclasses.dataclass(frozen=True)
class Step:
    """One migration script and whether it has run."""

    owner: str
    name: str
    applied: bool


def runners(hub: HookBus) -> list[tuple[str, Runner]]:
    """``(owner, runner)`` for the kernel, then each plugin in requirement order."""
    dirs = {"core": KERNEL_MIGRATIONS}
    for name in hub.migration_order():
        plugin = hub.pm.get_plugin(name)
        impl = getattr(plugin, "register_migrations", None)
        path = impl() if impl else None
        if path:
            dirs[name] = Path(path)
    return [(owner, Runner(db.obj, directory=str(path), table_name=f"{owner}_migrations"))
            for owner, path in dirs.items()]


def upgrade(hub: HookBus) -> list[Step]:
    """Apply every pending migration; returns what ran."""
    done = []
    for owner, runner in runners(hub):
        done.extend(Step(owner, name, True) for name in runner.up())
    return done


def status(hub: HookBus) -> list[Step]:
    """Every migration of the kernel and the plugins, applied or pending."""
    return [Step(owner, m.name, m.applied is not None)
            for owner, runner in runners(hub) for m in runner.status()]
