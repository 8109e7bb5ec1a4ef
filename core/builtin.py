"""The kernel's own hook implementations: it dogfoods the hooks plugins use."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from core.i18n import _l
from core.permissions import Permission
from core.plugins import hookimpl
from core.web.layout import MenuItem


@hookimpl
def register_permissions():
    return [
        Permission("core.site.admin", _l("Manage the site: members, plugins, settings"),
                   roles=("site_admin",), level="admin"),
        Permission("core.member.view", _l("See the site's members"),
                   roles=("site_admin", "leader", "supervisor"), level="read"),
        Permission("core.audit.view", _l("Read the audit log"),
                   roles=("leader", "supervisor"), level="read"),
        Permission("core.obligation.view", _l("See the site's obligations"),
                   roles=("site_admin", "leader", "staff", "supervisor"), level="read"),
        Permission("core.api.token", _l("Create API tokens"),
                   roles=("site_admin", "leader", "staff"), level="write"),
        #: held by no role: only platform administrators (Access.can) manage the site tree
        Permission("core.platform", _l("Manage the site tree of the platform"),
                   roles=(), level="admin"),
    ]


class CoreSettings(Schema):
    """Kernel settings per site."""

    #: SECURITY A6 / MLPS 8.1.4.1 d): leaders sign in with a second factor
    mfa_for_leaders = fields.Boolean(
        load_default=True,
        metadata={"label": _l("Leaders must use a second factor"),
                  "citation": "SECURITY.md A6; GB/T 22239-2019 8.1.4.1 d)"})
    #: SECURITY §2.8: security logs are kept at least 180 days whatever is set
    audit_retention_days = fields.Integer(
        load_default=180, validate=validate.Range(min=180, max=36500),
        metadata={"label": _l("Keep security events (days)"),
                  "citation": "SECURITY.md §2.3; 网络安全法 第二十一条(三)"})
    #: no rule sets a warning period: each site chooses how early obligations show as due soon
    obligation_due_soon_days = fields.Integer(
        load_default=7, validate=validate.Range(min=0, max=365),
        metadata={"label": _l("Obligations count as due soon this many days ahead"),
                  "citation": "无明文规定，由各单位自定 (no rule sets it; a site's own choice)"})


@hookimpl
def register_settings():
    return CoreSettings


@hookimpl
def menu_items(site, user):
    return [
        MenuItem(_l("Dashboard"), "home.dashboard", order=0),
        MenuItem(_l("Inbox"), "inbox.index", order=900),
        MenuItem(_l("Members"), "admin.members", permission="core.member.view", order=10,
                 group="admin"),
        MenuItem(_l("Plugins"), "admin.plugins", permission="core.site.admin", order=20,
                 group="admin"),
        MenuItem(_l("Settings"), "admin.settings", permission="core.site.admin", order=30,
                 group="admin"),
        MenuItem(_l("Audit log"), "audit.events", permission="core.audit.view", order=40,
                 group="admin"),
        MenuItem(_l("Sites"), "admin.sites", permission="core.platform", order=5,
                 group="admin"),
        MenuItem(_l("Obligations"), "obligations.index", permission="core.obligation.view",
                 order=800),
        MenuItem(_l("API tokens"), "tokens.index", permission="core.api.token", order=950),
    ]


@hookimpl
def dashboard_widgets(site, user):
    from core.web.obligations import dashboard_widget

    return [dashboard_widget(site, user)]


@hookimpl(trylast=True)
def can_view_record(site, user, object_type, object_id):
    """Answer for the kernel's own record types; plugins answer for theirs.

    A site's file: the site's members. A user's file: that user, or whoever may
    see the site's members.
    """
    from core import identity

    if object_type == "core_site":
        return object_id == str(site.id) and identity.access(user, site) is not None
    if object_type == "core_user":
        rights = identity.access(user, site)
        return object_id == str(user.id) or (rights is not None
                                             and rights.can("core.member.view"))
    return None
