"""The Grassroots kernel. This module is the public surface for plugin authors.

Plugins import from here (and from the documented modules it names), never
from the kernel's internals; ``docs/hooks.md`` and ``docs/plugins.md`` say how.
"""

from core.context import Actor, acting_as, current_actor
from core.i18n import _, _l, ngettext, pgettext
from core.permissions import Permission
from core.plugins import PluginInfo, hookimpl
from core.records import Conflict, audited
from core.sitemodel import CrossSiteReference, NotFound, SiteModel
from core.storage import db, transaction, utcnow
from core.web.access import current_site, requires
from core.web.layout import MenuItem, Widget

__all__ = [
    "Actor",
    "Conflict",
    "CrossSiteReference",
    "MenuItem",
    "NotFound",
    "Permission",
    "PluginInfo",
    "SiteModel",
    "Widget",
    "_",
    "_l",
    "acting_as",
    "audited",
    "current_actor",
    "current_site",
    "db",
    "hookimpl",
    "ngettext",
    "pgettext",
    "requires",
    "transaction",
    "utcnow",
]
