"""The web shell: layout slots, access checks and the kernel's pages."""

from core.web.access import current_site, requires
from core.web.layout import MenuItem, Widget

__all__ = ["MenuItem", "Widget", "current_site", "requires"]
