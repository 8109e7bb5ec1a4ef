"""Per-request identity, the current site, and the permission on every view.

Every view declares a permission with :func:`requires` (or is public). A test
walks ``app.url_map`` and fails on any view without a declaration (SECURITY
Z1). Guests are sent to the login page, members without the permission get
403, and rows of another site are 404 through :meth:`core.SiteModel.get_in_site`.
"""

from __future__ import annotations

import functools

from flask import abort, g, redirect, request, url_for

#: view attribute holding the declared permission
PERMISSION_ATTR = "_grassroots_permission"
#: a declaration meaning "any logged-in user, no site needed"
AUTHENTICATED = "@authenticated"
#: a declaration meaning "anyone, logged in or not"
PUBLIC = "@public"
#: the kernel permission held by platform administrators only, in any site or none
PLATFORM = "core.platform"


def requires(permission: str):
    """Declare the permission a view needs in the current site.

    ``requires(PUBLIC)`` and ``requires(AUTHENTICATED)`` declare the two
    special cases. Members of the site without the permission get 403.
    """

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if permission != PUBLIC:
                if g.get("user") is None:
                    if request.path.startswith("/api/"):
                        abort(401)
                    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
                if permission == PLATFORM:
                    # the site tree is no site's business: checked on the user, site or not
                    if not g.user.is_platform_admin:
                        abort(403)
                elif permission != AUTHENTICATED:
                    if g.get("access") is None:
                        abort(404)
                    if not g.access.can(permission):
                        abort(403)
            return view(*args, **kwargs)

        setattr(wrapper, PERMISSION_ATTR, permission)
        return wrapper

    return decorate


def current_site():
    """The site the user is acting in (None before login or without any site)."""
    return g.get("site")


def declared_permission(view) -> str | None:
    return getattr(view, PERMISSION_ATTR, None)
