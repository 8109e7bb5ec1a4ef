"""Which plugins a site runs: enabling, disabling and default bundles.

Enabling checks the plugin's requirements; disabling refuses while another
enabled plugin requires it, naming both. Disabling keeps the plugin's data;
re-enabling shows it again.
"""

from __future__ import annotations

from core import requestcache
from core.kernel import bus
from core.models import Site, SitePlugin
from core.records import audited
from core.storage import transaction, utcnow


class BundleError(ValueError):
    """A bundle change that would break a requirement; ``args`` name the plugins."""

    def __init__(self, code: str, plugin: str, others: list[str]):
        super().__init__(code, plugin, others)
        self.code, self.plugin, self.others = code, plugin, others


def enabled_plugins(site: Site | int) -> frozenset[str]:
    """Names of the installed plugins enabled for ``site`` (asked once per request)."""
    site_id = site if isinstance(site, int) else site.id

    def load():
        rows = (SitePlugin.select(SitePlugin.plugin)
                .where(SitePlugin.site == site_id, SitePlugin.enabled == True)  # noqa: E712
                .tuples())
        installed = bus().infos
        return frozenset(name for (name,) in rows if name in installed)

    return requestcache.memo("enabled_plugins", site_id, load)


def site_hooks(site: Site | int):
    """Hook callers restricted to the plugins enabled for ``site``."""
    return bus().for_enabled(enabled_plugins(site))


def _set(site: Site, name: str, enabled: bool) -> None:
    requestcache.forget("enabled_plugins")
    updated = (SitePlugin.update(enabled=enabled, changed_at=utcnow())
               .where(SitePlugin.site == site, SitePlugin.plugin == name).execute())
    if not updated:
        SitePlugin.create(site=site, plugin=name, enabled=enabled)


def enable(site: Site, name: str) -> None:
    """Enable ``name`` for ``site``.

    :raises BundleError: ``unknown`` for a plugin not installed, ``requires``
        naming the missing requirements.
    """
    hub = bus()
    if name not in hub.infos:
        raise BundleError("unknown", name, [])
    with transaction():
        current = enabled_plugins(site)
        if name in current:
            return
        missing = hub.missing_requirements(name, current)
        if missing:
            raise BundleError("requires", name, missing)
        _set(site, name, True)
        audited("core.plugin.enable", site, site=site, after={"plugin": name})
        hub.for_enabled(current | {name}).plugin_enabled(site=site, plugin=name)


def disable(site: Site, name: str) -> None:
    """Disable ``name`` for ``site``; its data stays.

    :raises BundleError: ``required_by`` naming the enabled plugins that need it.
    """
    hub = bus()
    if name not in hub.infos:
        raise BundleError("unknown", name, [])
    with transaction():
        current = enabled_plugins(site)
        if name not in current:
            return
        dependants = hub.dependants(name, current)
        if dependants:
            raise BundleError("required_by", name, dependants)
        _set(site, name, False)
        audited("core.plugin.disable", site, site=site, before={"plugin": name})
        hub.for_enabled(current).plugin_disabled(site=site, plugin=name)


def apply_default_bundle(site: Site) -> list[str]:
    """Enable the default bundle of the site's kind (used when a site is created)."""
    names = bus().default_bundle(site.kind)
    for name in names:
        _set(site, name, True)
    if names:
        audited("core.plugin.bundle", site, site=site, after={"plugins": names})
    return names
