"""Administration pages: the site tree, users, memberships, plugins and settings.

One blueprint, ``admin``, whose views live in ``admin_sites`` (platform
administrators), ``admin_members``, ``admin_accounts``, ``admin_plugins`` and
``admin_settings`` (site administrators of the current site). This module
holds what they share: labels, the list pager and the confirmation page that
every delete or disable goes through.
"""

from __future__ import annotations

import math

from flask import Blueprint, current_app, render_template, request

from core.i18n import _l
from core.web.pagination import Page

bp = Blueprint("admin", __name__, url_prefix="/admin")

#: translated names of the site kinds (core.models.SITE_KINDS)
KIND_LABELS = {
    "street_office": _l("Street office"),
    "township_health_centre": _l("Township health centre"),
    "village": _l("Village"),
    "urban_community": _l("Urban community"),
    "health_station": _l("Health station"),
}

#: translated names of the roles (core.models.ROLES)
ROLE_LABELS = {
    "site_admin": _l("Site administrator"),
    "leader": _l("Leader"),
    "staff": _l("Staff"),
    "supervisor": _l("Supervisor"),
}


def page_of(items: list, size: int | None = None) -> Page:
    """The page named by ``?page=`` of a list computed in Python (plugins, settings)."""
    size = size or current_app.config["PAGE_SIZE"]
    pages = max(1, math.ceil(len(items) / size))
    number = min(max(request.args.get("page", 1, type=int) or 1, 1), pages)
    start = (number - 1) * size
    return Page(items=items[start:start + size], number=number, size=size, total=len(items))


def confirm(*, title: str, message: str, action: str, button: str, cancel: str,
            details=(), danger: bool = True):
    """The confirmation step of a delete or disable: a page whose form POSTs to ``action``.

    Every value is rendered escaped (Indico CVE-2023-37901 put a user's name
    unescaped into a confirmation dialog).
    """
    return render_template("admin/confirm.html", title=title, message=message, action=action,
                           button=button, cancel=cancel, details=details, danger=danger)


from core.web import admin_accounts, admin_members, admin_plugins, admin_settings, admin_sites  # noqa: E402,F401 - register the views
