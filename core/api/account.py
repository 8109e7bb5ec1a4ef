"""``/api/v1/me`` and ``/api/v1/sites``: who the token speaks for, and where."""

from __future__ import annotations

from flask import g
from flask_smorest import Page
from marshmallow import fields

from core import identity
from core.api.blueprint import Blueprint
from core.api.schemas import StrictSchema
from core.kernel import kernel
from core.web.access import AUTHENTICATED, requires

blp = Blueprint("api_account", __name__, url_prefix="/api/v1",
                description="The token's user, site and rights")


class UserSchema(StrictSchema):
    id = fields.Integer(dump_only=True)
    username = fields.String(dump_only=True)
    display_name = fields.String(dump_only=True)


class SiteSchema(StrictSchema):
    id = fields.Integer(dump_only=True)
    code = fields.String(dump_only=True)
    name = fields.String(dump_only=True)
    kind = fields.String(dump_only=True)
    parent_id = fields.Integer(dump_only=True, allow_none=True)


class MeSchema(StrictSchema):
    user = fields.Nested(UserSchema, dump_only=True)
    site = fields.Nested(SiteSchema, dump_only=True)
    roles = fields.List(fields.String(), dump_only=True)
    grant = fields.String(dump_only=True, allow_none=True,
                          metadata={"description": "read or approve, through a parent site"})
    platform_admin = fields.Boolean(dump_only=True)
    permissions = fields.List(fields.String(), dump_only=True,
                              metadata={"description": "permissions held in this site"})
    enabled_plugins = fields.List(fields.String(), dump_only=True)


@blp.route("/me")
@requires(AUTHENTICATED)
@blp.response(200, MeSchema)
def me():
    """The token's user, its site, and the user's roles and permissions there."""
    rights = g.access
    held = sorted(name for name in kernel().permissions if rights.can(name))
    return {"user": g.user, "site": g.site, "roles": sorted(rights.roles),
            "grant": rights.grant, "platform_admin": rights.platform_admin,
            "permissions": held, "enabled_plugins": sorted(g.enabled_plugins)}


@blp.route("/sites")
@requires(AUTHENTICATED)
@blp.response(200, SiteSchema(many=True))
@blp.paginate(Page)
def sites():
    """The sites the token's user may act in (paged); the token itself acts in one."""
    return identity.accessible_sites(g.user)
