"""Per-user API tokens, each scoped to one site, revocable (ASVS 7.2.3, SECURITY S2).

A token is 256 random bits shown to its owner once; the table keeps only its
SHA-256 (:mod:`core.security.tokens`). A token acts as its user in its one
site with the user's permissions there *now*: a user who was disabled or lost
access to the site is refused on the next request, as is a revoked token.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from core import identity
from core.identity import Access
from core.models import ApiToken, Site, User
from core.records import audited
from core.security.tokens import new_token, token_digest
from core.storage import transaction, utcnow

#: the permission needed to create a token for a site
PERMISSION = "core.api.token"
#: ``last_used_at`` is written at most this often per token
TOUCH_EVERY = dt.timedelta(seconds=60)
#: longer header values are refused unread (a token is 43 characters)
MAX_TOKEN_LENGTH = 100


class TokenError(ValueError):
    """A refused token change; ``field`` names the form input at fault."""

    def __init__(self, field: str):
        super().__init__(field)
        self.field = field


@dataclasses.dataclass(frozen=True)
class Bearer:
    """Who a valid token speaks for: its row, user, site and current rights."""

    token: ApiToken
    user: User
    site: Site
    access: Access


def sites_for_tokens(user: User) -> list[Site]:
    """The sites ``user`` may create a token for: accessible and holding the permission."""
    out = []
    for site in identity.accessible_sites(user):
        rights = identity.access(user, site)
        if rights is not None and rights.can(PERMISSION):
            out.append(site)
    return out


def create_token(user: User, site: Site, name: str) -> tuple[ApiToken, str]:
    """Create a token for ``user`` in ``site``; returns the row and the token (once).

    :raises TokenError: ``name`` when blank, ``site_id`` when the user may
        not create tokens there.
    """
    name = (name or "").strip()
    if not name:
        raise TokenError("name")
    rights = identity.access(user, site)
    if rights is None or not rights.can(PERMISSION):
        raise TokenError("site_id")
    token = new_token()
    with transaction():
        row = ApiToken.create(user=user, site=site, name=name[:100],
                              token_hash=token_digest(token))
        # never the hash in the audit log: SECURITY L3 keeps tokens out of every log
        audited("core.api_token.create", row, site=site,
                after={"name": row.name, "user": user.id})
    return row, token


def revoke_token(row: ApiToken) -> None:
    """Revoke ``row`` now; the next request with it gets 401."""
    if row.revoked_at is not None:
        return
    with transaction():
        row.revoked_at = utcnow()
        ApiToken.update(revoked_at=row.revoked_at).where(ApiToken.id == row.id).execute()
        audited("core.api_token.revoke", row, site=row.site_id,
                before={"name": row.name, "user": row.user_id})


def tokens_of(user: User):
    """The user's tokens, newest first (revoked ones included, marked)."""
    return (ApiToken.select(ApiToken, Site).join(Site)
            .where(ApiToken.user == user)
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc()))


def token_of(user: User, token_id) -> ApiToken | None:
    """The user's own token ``token_id``, or None (another user's tokens are not there)."""
    try:
        return tokens_of(user).where(ApiToken.id == int(token_id)).get()
    except (ApiToken.DoesNotExist, TypeError, ValueError, OverflowError):
        return None


def authenticate(token: str) -> Bearer | None:
    """The bearer of ``token``, or None for an unknown, revoked or powerless token.

    Refused: no such token, revoked, user disabled, or the user no longer has
    access to the token's site. Records the use at most once a minute.
    """
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    row = (ApiToken.select(ApiToken, User, Site).join(User).switch(ApiToken).join(Site)
           .where(ApiToken.token_hash == token_digest(token),
                  ApiToken.revoked_at.is_null()).first())
    if row is None or not row.user.is_active:
        return None
    rights = identity.access(row.user, row.site)
    if rights is None:
        return None
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at >= TOUCH_EVERY:
        # bookkeeping like a session's last_seen_at: not an audited change
        ApiToken.update(last_used_at=now).where(ApiToken.id == row.id).execute()
        row.last_used_at = now
    return Bearer(token=row, user=row.user, site=row.site, access=rights)
