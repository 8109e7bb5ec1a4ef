"""The plugin manager, per-site hook calls and site bundles.

Plugins are found through the entry-point group ``grassroots.plugins``; the
built-in ones register exactly as a third-party package would. The manager is
built per application and validated with ``check_pending`` so that a misspelt
hook implementation fails start-up with its name.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import logging
import threading
from collections.abc import Iterable

import pluggy

from core import hookspecs

hookimpl = pluggy.HookimplMarker("grassroots")

ENTRY_POINT_GROUP = "grassroots.plugins"

trace_log = logging.getLogger("grassroots.hooks")


@dataclasses.dataclass(frozen=True)
class PluginInfo:
    """Who a plugin is (returned by its ``plugin_info`` hook)."""

    name: str
    title: object
    requires: tuple[str, ...] = ()
    default_for: tuple[str, ...] = ()
    description: object = ""
    version: str = ""


class PluginError(RuntimeError):
    """A plugin that cannot be loaded, or a bundle that breaks a requirement."""


def installed_plugins() -> dict[str, object]:
    """Entry points of the group, by name (not loaded)."""
    return {ep.name: ep for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}


def build_plugin_manager(enabled: Iterable[str] | None = None,
                         extra: Iterable[tuple[str, object]] = (),
                         trace: bool = False) -> pluggy.PluginManager:
    """Build and validate a plugin manager.

    :param enabled: the installed plugins this deployment loads; None loads all.
        The others are blocked, as pytest's ``-p no:NAME`` does.
    :param extra: ``(name, module)`` pairs registered directly (the kernel's own
        hooks, test plugins).
    :param trace: log every hook call (config ``TRACE_HOOKS``, set by
        ``GRASSROOTS_TRACE_HOOKS=1``; STYLE rule 25).
    :raises PluginError: for an unknown hook, a plugin without ``plugin_info``
        or one whose name differs from its entry point.
    """
    from core import builtin

    extra = list(extra)
    pm = pluggy.PluginManager("grassroots")
    pm.add_hookspecs(hookspecs)
    if trace:
        pm.add_hookcall_monitoring(_trace_before, _trace_after)
    if enabled is not None:
        wanted = set(enabled)
        unknown = wanted - set(installed_plugins()) - {name for name, _module in extra}
        if unknown:
            raise PluginError(f"not installed: {', '.join(sorted(unknown))}")
        for name in set(installed_plugins()) - wanted:
            pm.set_blocked(name)
    try:
        # register() validates the arguments of known hooks, check_pending()
        # the names of unknown ones: both fail start-up naming the plugin
        pm.register(builtin, "core")
        for name, module in extra:
            pm.register(module, name)
        pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginError(f"plugin {exc.plugin!r}: {exc}") from None
    infos = plugin_infos(pm)
    for name, plugin in pm.list_name_plugin():
        # a blocked plugin is listed with ``None``: it was never loaded
        if name != "core" and plugin is not None and name not in infos:
            raise PluginError(f"plugin {name!r} does not implement plugin_info")
    for name, info in infos.items():
        missing = set(info.requires) - set(infos)
        if missing:
            raise PluginError(f"plugin {name!r} requires {', '.join(sorted(missing))}, "
                              "which is not loaded")
    return pm


def _trace_before(hook_name, impls, kwargs) -> None:
    trace_log.info("hook %s(%s) -> %s", hook_name,
                   ", ".join(f"{k}={v!r}" for k, v in kwargs.items()),
                   ", ".join(impl.plugin_name for impl in impls) or "no implementation")


def _trace_after(outcome, hook_name, impls, kwargs) -> None:
    if outcome.exception is not None:
        trace_log.info("hook %s raised %r", hook_name, outcome.exception)
    else:
        trace_log.info("hook %s returned %r", hook_name, outcome.get_result())


def plugin_infos(pm: pluggy.PluginManager) -> dict[str, PluginInfo]:
    """Every loaded plugin's :class:`PluginInfo`, checked against its registered name."""
    infos = {}
    for name, plugin in pm.list_name_plugin():
        if name == "core" or plugin is None:
            continue
        impl = getattr(plugin, "plugin_info", None)
        if impl is None:
            continue
        info = impl()
        if info.name != name:
            raise PluginError(f"plugin registered as {name!r} calls itself {info.name!r}")
        infos[name] = info
    return infos


def flatten(results) -> list:
    """Flatten a list hook's per-plugin lists, skipping None."""
    out = []
    for item in results:
        if item is None:
            continue
        if isinstance(item, (list, tuple)):
            out.extend(i for i in item if i is not None)
        else:
            out.append(item)
    return out


class SiteHooks:
    """``hooks.menu_items(...)`` called on only the plugins enabled for one site."""

    def __init__(self, pm: pluggy.PluginManager, disabled: frozenset[str]):
        self._pm = pm
        self._remove = [pm.get_plugin(n) for n in disabled if pm.get_plugin(n) is not None]

    def __getattr__(self, name: str):
        caller = self._pm.subset_hook_caller(name, remove_plugins=self._remove)
        self.__dict__[name] = caller
        return caller


class HookBus:
    """The plugin manager of one app, with per-site hook callers cached by bundle."""

    def __init__(self, pm: pluggy.PluginManager):
        self.pm = pm
        self.hook = pm.hook
        self.infos = plugin_infos(pm)
        self._cache: dict[frozenset[str], SiteHooks] = {}
        self._lock = threading.Lock()

    def refresh(self) -> None:
        """Re-read the plugins' infos and drop the cached site callers.

        For a plugin registered or unregistered after start-up (a test plugin).
        """
        with self._lock:
            self.infos = plugin_infos(self.pm)
            self._cache.clear()

    @property
    def names(self) -> list[str]:
        return sorted(self.infos)

    def for_enabled(self, enabled: Iterable[str]) -> SiteHooks:
        """Hook callers restricted to the kernel and the ``enabled`` plugins."""
        disabled = frozenset(self.infos) - frozenset(enabled)
        hooks = self._cache.get(disabled)
        if hooks is None:
            with self._lock:
                hooks = self._cache.setdefault(disabled, SiteHooks(self.pm, disabled))
        return hooks

    def default_bundle(self, kind: str) -> list[str]:
        """The plugins enabled by default for a site kind, requirements included."""
        names = {n for n, info in self.infos.items() if kind in info.default_for}
        return sorted(self.with_requirements(names))

    def with_requirements(self, names: Iterable[str]) -> set[str]:
        out, todo = set(), list(names)
        while todo:
            name = todo.pop()
            if name in out or name not in self.infos:
                continue
            out.add(name)
            todo.extend(self.infos[name].requires)
        return out

    def missing_requirements(self, name: str, enabled: Iterable[str]) -> list[str]:
        """Requirements of ``name`` not in ``enabled``."""
        return sorted(set(self.infos[name].requires) - set(enabled))

    def dependants(self, name: str, enabled: Iterable[str]) -> list[str]:
        """Enabled plugins that require ``name``."""
        return sorted(n for n in enabled if n in self.infos and name in self.infos[n].requires)

    def migration_order(self) -> list[str]:
        """Plugin names with every plugin after the plugins it requires."""
        order, seen = [], set()

        def visit(name, path=()):
            if name in seen:
                return
            if name in path:
                raise PluginError(f"requirement cycle: {' -> '.join((*path, name))}")
            for req in sorted(self.infos[name].requires):
                visit(req, (*path, name))
            seen.add(name)
            order.append(name)

        for name in sorted(self.infos):
            visit(name)
        return order
