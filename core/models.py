"""The kernel's tables: sites, users, memberships, grants and plugin state.

Every kernel table is named ``core_*``. Times are naive UTC (see
:func:`core.storage.utcnow`).
"""

from __future__ import annotations

import peewee as pw

from core.storage import BaseModel, utcnow

#: Site kinds and their order in the tree (a parent is never of a later kind).
SITE_KINDS = (
    "street_office",
    "township_health_centre",
    "village",
    "urban_community",
    "health_station",
)

#: Built-in roles (ARCHITECTURE: identity). ``platform_admin`` is a user flag,
#: not a membership, because it spans every site.
ROLES = ("site_admin", "leader", "staff", "supervisor")


class Site(BaseModel):
    """A body using Grassroots: a street office, a village, a community, a station."""

    code = pw.CharField(max_length=64, unique=True)
    name = pw.CharField(max_length=200)
    kind = pw.CharField(max_length=32, choices=[(k, k) for k in SITE_KINDS])
    parent = pw.ForeignKeyField("self", null=True, backref="children", on_delete="RESTRICT")
    search = pw.TextField(default="")
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "core_site"

    def __str__(self) -> str:
        return self.name


class User(BaseModel):
    """A person who logs in. Passwords are argon2id hashes (SECURITY A8)."""

    username = pw.CharField(max_length=64, unique=True)
    display_name = pw.CharField(max_length=100)
    password_hash = pw.CharField(max_length=255)
    password_changed_at = pw.DateTimeField(default=utcnow)
    #: set for initial passwords: a forced change at first login (SECURITY A7)
    must_change_password = pw.BooleanField(default=False)
    initial_password_expires_at = pw.DateTimeField(null=True)
    is_active = pw.BooleanField(default=True)
    is_platform_admin = pw.BooleanField(default=False)
    #: demo accounts make ``grassroots check --deploy`` refuse (SECURITY A5)
    is_demo = pw.BooleanField(default=False)
    locale = pw.CharField(max_length=16, null=True)
    totp_secret = pw.CharField(max_length=64, null=True)
    totp_last_step = pw.BigIntegerField(null=True)
    failed_logins = pw.IntegerField(default=0)
    locked_until = pw.DateTimeField(null=True)
    #: bumped on password/MFA change or disabling: older sessions end (SECURITY S5)
    session_epoch = pw.IntegerField(default=0)
    search = pw.TextField(default="")
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "core_user"

    def __str__(self) -> str:
        return self.display_name


class Membership(BaseModel):
    """A user's role in one site."""

    user = pw.ForeignKeyField(User, backref="memberships", on_delete="CASCADE")
    site = pw.ForeignKeyField(Site, backref="memberships", on_delete="CASCADE")
    role = pw.CharField(max_length=32)
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "core_membership"
        indexes = ((("user", "site", "role"), True),)


class SiteGrant(BaseModel):
    """A parent site's right over one child: ``read`` or ``approve``."""

    parent = pw.ForeignKeyField(Site, backref="grants_given", on_delete="CASCADE")
    child = pw.ForeignKeyField(Site, backref="grants_received", on_delete="CASCADE")
    right = pw.CharField(max_length=16, choices=[("read", "read"), ("approve", "approve")])
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "core_site_grant"
        indexes = ((("parent", "child"), True),)


class SitePlugin(BaseModel):
    """Whether a plugin is enabled for a site; a disabled plugin keeps its data."""

    site = pw.ForeignKeyField(Site, backref="plugin_states", on_delete="CASCADE")
    plugin = pw.CharField(max_length=64)
    enabled = pw.BooleanField(default=True)
    changed_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "core_site_plugin"
        indexes = ((("site", "plugin"), True),)


class SettingValue(BaseModel):
    """A per-site override of one plugin setting (JSON-encoded value)."""

    site = pw.ForeignKeyField(Site, on_delete="CASCADE")
    plugin = pw.CharField(max_length=64)
    key = pw.CharField(max_length=100)
    value = pw.TextField()
    changed_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "core_setting"
        indexes = ((("site", "plugin", "key"), True),)


class Fact(BaseModel):
    """Deployment-wide facts, e.g. the deployment id that seeds every audit chain."""

    key = pw.CharField(max_length=64, primary_key=True)
    value = pw.TextField()

    class Meta:
        table_name = "core_fact"


class AuthSession(BaseModel):
    """A server-side session; the cookie holds a token, the table only its SHA-256.

    Ending the row ends the session (SECURITY S3); ``epoch`` must equal the
    user's ``session_epoch`` or the session is over (S5).
    """

    token_hash = pw.CharField(max_length=64, primary_key=True)
    user = pw.ForeignKeyField(User, null=True, backref="sessions", on_delete="CASCADE")
    epoch = pw.IntegerField(default=0)
    site_id = pw.IntegerField(null=True)
    data = pw.TextField(default="{}")
    #: the second factor is still owed (password accepted, TOTP not yet)
    pending_mfa = pw.BooleanField(default=False)
    created_at = pw.DateTimeField(default=utcnow)
    last_seen_at = pw.DateTimeField(default=utcnow, index=True)
    ip = pw.CharField(max_length=64, null=True)
    user_agent = pw.CharField(max_length=255, null=True)

    class Meta:
        table_name = "core_session"


class LoginFailure(BaseModel):
    """One failed sign-in, kept in the database so every worker sees it (SECURITY A4)."""

    username = pw.CharField(max_length=64, index=True)
    ip = pw.CharField(max_length=64, null=True, index=True)
    at = pw.DateTimeField(default=utcnow, index=True)

    class Meta:
        table_name = "core_login_failure"


class ApiToken(BaseModel):
    """A per-user API token scoped to one site; only its SHA-256 is stored."""

    user = pw.ForeignKeyField(User, backref="api_tokens", on_delete="CASCADE")
    site = pw.ForeignKeyField(Site, on_delete="CASCADE")
    name = pw.CharField(max_length=100)
    token_hash = pw.CharField(max_length=64, unique=True)
    created_at = pw.DateTimeField(default=utcnow)
    last_used_at = pw.DateTimeField(null=True)
    revoked_at = pw.DateTimeField(null=True)

    class Meta:
        table_name = "core_api_token"


class Attachment(BaseModel):
    """A stored file, owned by one record of one site; the bytes live under ``instance/``."""

    site = pw.ForeignKeyField(Site, index=True, on_delete="RESTRICT")
    owner_type = pw.CharField(max_length=64)
    owner_id = pw.CharField(max_length=64)
    sha256 = pw.CharField(max_length=64, index=True)
    size = pw.IntegerField()
    mime = pw.CharField(max_length=100)
    filename = pw.CharField(max_length=255)
    uploaded_by = pw.ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "core_attachment"
        indexes = ((("owner_type", "owner_id"), False),)


class Notification(BaseModel):
    """A message to one user in one site, shown in the inbox until read."""

    site = pw.ForeignKeyField(Site, index=True, on_delete="CASCADE")
    user = pw.ForeignKeyField(User, backref="notifications", on_delete="CASCADE")
    kind = pw.CharField(max_length=64)
    title = pw.CharField(max_length=200)
    body = pw.TextField(default="")
    url = pw.CharField(max_length=500, default="")
    created_at = pw.DateTimeField(default=utcnow)
    read_at = pw.DateTimeField(null=True)

    class Meta:
        table_name = "core_notification"
        indexes = ((("user", "read_at"), False),)


class CalendarDay(BaseModel):
    """An official holiday or make-up workday entered by an administrator for a year."""

    day = pw.DateField(unique=True)
    is_workday = pw.BooleanField()
    name = pw.CharField(max_length=100, default="")

    class Meta:
        table_name = "core_calendar_day"
