"""Sites, users and memberships: creating them and deciding who may act where.

A user acts in one site at a time. Their rights there come from their own
memberships in that site, or from a grant the site's parent holds over it
(``read`` or ``approve``) when they are a member of the parent. Platform
administrators may act in every site.
"""

from __future__ import annotations

import dataclasses

from core import bundles, requestcache, textfold
from core.kernel import kernel
from core.models import SITE_KINDS, Membership, Site, SiteGrant, User
from core.permissions import held
from core.records import audited, create, values_of
from core.storage import transaction

#: which kinds may sit under which
CHILD_KINDS = {
    "street_office": ("village", "urban_community", "health_station"),
    "township_health_centre": ("health_station", "village"),
    "village": (),
    "urban_community": ("health_station",),
    "health_station": (),
}


class IdentityError(ValueError):
    """A refused identity change; ``code`` says which rule, ``field`` which input."""

    def __init__(self, code: str, field: str | None = None):
        super().__init__(code, field)
        self.code, self.field = code, field


def create_site(*, code: str, name: str, kind: str, parent: Site | None = None) -> Site:
    """Create a site, apply its kind's default bundle and tell its plugins.

    :raises IdentityError: ``kind`` unknown, ``parent_kind`` when the parent may
        not hold that kind, ``code_taken`` for a duplicate code.
    """
    if kind not in SITE_KINDS:
        raise IdentityError("kind", "kind")
    if parent is not None and kind not in CHILD_KINDS[parent.kind]:
        raise IdentityError("parent_kind", "parent")
    _rights_changed()
    with transaction():
        if Site.select().where(Site.code == code).exists():
            raise IdentityError("code_taken", "code")
        site = create(Site, code=code, name=name, kind=kind, parent=parent,
                      search=textfold.search_keys(name), action="core.site.create")
        bundles.apply_default_bundle(site)
        bundles.site_hooks(site).site_created(site=site)
    return site


def create_user(*, username: str, display_name: str, password_hash: str,
                is_platform_admin: bool = False, must_change_password: bool = False,
                initial_password_expires_at=None, is_demo: bool = False,
                locale: str | None = None) -> User:
    """Create a user (the caller has checked the password policy and hashed it).

    :raises IdentityError: ``username_taken``.
    """
    with transaction():
        if User.select().where(User.username == username).exists():
            raise IdentityError("username_taken", "username")
        user = User(username=username, display_name=display_name, password_hash=password_hash,
                    is_platform_admin=is_platform_admin, is_demo=is_demo, locale=locale,
                    must_change_password=must_change_password,
                    initial_password_expires_at=initial_password_expires_at,
                    search=textfold.search_keys(f"{display_name} {username}"))
        user.save(force_insert=True)
        audited("core.user.create", user, site=None,
                after={k: v for k, v in values_of(user).items()
                       if k not in ("password_hash", "totp_secret", "search")})
    return user


def _rights_changed() -> None:
    requestcache.forget("access")
    requestcache.forget("sites")


def add_member(user: User, site: Site, role: str) -> Membership:
    """Give ``user`` a role in ``site`` (idempotent).

    :raises IdentityError: ``role`` for an unknown role.
    """
    from core.models import ROLES

    if role not in ROLES:
        raise IdentityError("role", "role")
    _rights_changed()
    with transaction():
        existing = Membership.get_or_none(user=user, site=site, role=role)
        if existing:
            return existing
        membership = Membership.create(user=user, site=site, role=role)
        audited("core.member.add", membership, site=site,
                after={"user": user.id, "role": role})
    return membership


def remove_member(membership: Membership) -> None:
    _rights_changed()
    with transaction():
        membership.delete_instance()
        audited("core.member.remove", membership, site=membership.site_id,
                before={"user": membership.user_id, "role": membership.role})


def grant(parent: Site, child: Site, right: str) -> SiteGrant:
    """Give a parent site ``read`` or ``approve`` rights over its own child.

    :raises IdentityError: ``not_child`` when ``child`` is not under ``parent``.
    """
    if child.parent_id != parent.id:
        raise IdentityError("not_child", "child")
    if right not in ("read", "approve"):
        raise IdentityError("right", "right")
    _rights_changed()
    with transaction():
        row = SiteGrant.get_or_none(parent=parent, child=child)
        before = {"right": row.right} if row else None
        if row:
            SiteGrant.update(right=right).where(SiteGrant.id == row.id).execute()
        else:
            row = SiteGrant.create(parent=parent, child=child, right=right)
        audited("core.grant.set", row, site=child, before=before,
                after={"parent": parent.id, "right": right})
    return row


def revoke_grant(parent: Site, child: Site) -> None:
    _rights_changed()
    with transaction():
        row = SiteGrant.get_or_none(parent=parent, child=child)
        if row:
            row.delete_instance()
            audited("core.grant.revoke", row, site=child, before={"parent": parent.id,
                                                                  "right": row.right})


@dataclasses.dataclass(frozen=True)
class Access:
    """What one user may do in one site."""

    site: Site
    roles: frozenset[str]
    grant: str | None
    permissions: frozenset[str]
    platform_admin: bool = False

    def can(self, permission: str) -> bool:
        return self.platform_admin or permission in self.permissions


def access(user: User, site: Site) -> Access | None:
    """The user's rights in ``site``, or None when they may not act there at all.

    Asked once per request for each (user, site); membership and grant changes
    made during the request are seen.
    """
    return requestcache.memo("access", (user.id, site.id, user.is_platform_admin),
                             lambda: _access(user, site))


def _access(user: User, site: Site) -> Access | None:
    roles = frozenset(
        r for (r,) in Membership.select(Membership.role)
        .where(Membership.user == user, Membership.site == site).tuples())
    grant_right = None
    if site.parent_id is not None:
        row = (SiteGrant.select(SiteGrant.right)
               .join(Membership, on=(Membership.site == SiteGrant.parent))
               .where(SiteGrant.child == site, Membership.user == user).first())
        grant_right = row.right if row else None
    if not roles and grant_right is None and not user.is_platform_admin:
        return None
    perms = held(kernel().permissions, set(roles), grant_right)
    return Access(site=site, roles=roles, grant=grant_right, permissions=perms,
                  platform_admin=user.is_platform_admin)


def accessible_sites(user: User) -> list[Site]:
    """Sites the user may switch to: memberships, granted children, or all for admins."""
    return requestcache.memo("sites", (user.id, user.is_platform_admin),
                             lambda: _accessible_sites(user))


def _accessible_sites(user: User) -> list[Site]:
    if user.is_platform_admin:
        return list(Site.select().order_by(Site.code))
    own = Site.select(Site.id).join(Membership).where(Membership.user == user)
    children = (SiteGrant.select(SiteGrant.child)
                .join(Membership, on=(Membership.site == SiteGrant.parent))
                .where(Membership.user == user))
    return list(Site.select().where((Site.id.in_(own)) | (Site.id.in_(children)))
                .order_by(Site.code))
