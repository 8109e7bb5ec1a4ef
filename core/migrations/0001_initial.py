"""The kernel's tables: identity, plugin state, settings, sessions, audit.

A frozen copy of the models as they were when this migration was written;
never import ``core.models`` here.
"""
import datetime

from peewee import *


def utcnow():
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


class _Frozen(Model):
    class Meta:
        legacy_table_names = False

class Site(_Frozen):

    code = CharField(max_length=64, unique=True)
    name = CharField(max_length=200)
    kind = CharField(max_length=32, choices=None)
    parent = ForeignKeyField("self", null=True, backref="children", on_delete="RESTRICT")
    search = TextField(default="")
    created_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "core_site"



class User(_Frozen):

    username = CharField(max_length=64, unique=True)
    display_name = CharField(max_length=100)
    password_hash = CharField(max_length=255)
    password_changed_at = DateTimeField(default=utcnow)
    must_change_password = BooleanField(default=False)
    initial_password_expires_at = DateTimeField(null=True)
    is_active = BooleanField(default=True)
    is_platform_admin = BooleanField(default=False)
    is_demo = BooleanField(default=False)
    locale = CharField(max_length=16, null=True)
    totp_secret = CharField(max_length=64, null=True)
    totp_last_step = BigIntegerField(null=True)
    failed_logins = IntegerField(default=0)
    locked_until = DateTimeField(null=True)
    session_epoch = IntegerField(default=0)
    search = TextField(default="")
    created_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "core_user"



class Membership(_Frozen):

    user = ForeignKeyField(User, backref="memberships", on_delete="CASCADE")
    site = ForeignKeyField(Site, backref="memberships", on_delete="CASCADE")
    role = CharField(max_length=32)
    created_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "core_membership"
        indexes = ((("user", "site", "role"), True),)


class SiteGrant(_Frozen):

    parent = ForeignKeyField(Site, backref="grants_given", on_delete="CASCADE")
    child = ForeignKeyField(Site, backref="grants_received", on_delete="CASCADE")
    right = CharField(max_length=16)
    created_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "core_site_grant"
        indexes = ((("parent", "child"), True),)


class SitePlugin(_Frozen):

    site = ForeignKeyField(Site, backref="plugin_states", on_delete="CASCADE")
    plugin = CharField(max_length=64)
    enabled = BooleanField(default=True)
    changed_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "core_site_plugin"
        indexes = ((("site", "plugin"), True),)


class SettingValue(_Frozen):

    site = ForeignKeyField(Site, on_delete="CASCADE")
    plugin = CharField(max_length=64)
    key = CharField(max_length=100)
    value = TextField()
    changed_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "core_setting"
        indexes = ((("site", "plugin", "key"), True),)


class Fact(_Frozen):

    key = CharField(max_length=64, primary_key=True)
    value = TextField()

    class Meta:
        table_name = "core_fact"


class AuthSession(_Frozen):

    token_hash = CharField(max_length=64, primary_key=True)
    user = ForeignKeyField(User, null=True, backref="sessions", on_delete="CASCADE")
    epoch = IntegerField(default=0)
    site_id = IntegerField(null=True)
    data = TextField(default="{}")
    pending_mfa = BooleanField(default=False)
    created_at = DateTimeField(default=utcnow)
    last_seen_at = DateTimeField(default=utcnow, index=True)
    ip = CharField(max_length=64, null=True)
    user_agent = CharField(max_length=255, null=True)

    class Meta:
        table_name = "core_session"


class LoginFailure(_Frozen):

    username = CharField(max_length=64, index=True)
    ip = CharField(max_length=64, null=True, index=True)
    at = DateTimeField(default=utcnow, index=True)

    class Meta:
        table_name = "core_login_failure"


class ApiToken(_Frozen):

    user = ForeignKeyField(User, backref="api_tokens", on_delete="CASCADE")
    site = ForeignKeyField(Site, on_delete="CASCADE")
    name = CharField(max_length=100)
    token_hash = CharField(max_length=64, unique=True)
    created_at = DateTimeField(default=utcnow)
    last_used_at = DateTimeField(null=True)
    revoked_at = DateTimeField(null=True)

    class Meta:
        table_name = "core_api_token"


class Attachment(_Frozen):

    site = ForeignKeyField(Site, index=True, on_delete="RESTRICT")
    owner_type = CharField(max_length=64)
    owner_id = CharField(max_length=64)
    sha256 = CharField(max_length=64, index=True)
    size = IntegerField()
    mime = CharField(max_length=100)
    filename = CharField(max_length=255)
    uploaded_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "core_attachment"
        indexes = ((("owner_type", "owner_id"), False),)


class Notification(_Frozen):

    site = ForeignKeyField(Site, index=True, on_delete="CASCADE")
    user = ForeignKeyField(User, backref="notifications", on_delete="CASCADE")
    kind = CharField(max_length=64)
    title = CharField(max_length=200)
    body = TextField(default="")
    url = CharField(max_length=500, default="")
    created_at = DateTimeField(default=utcnow)
    read_at = DateTimeField(null=True)

    class Meta:
        table_name = "core_notification"
        indexes = ((("user", "read_at"), False),)


class CalendarDay(_Frozen):

    day = DateField(unique=True)
    is_workday = BooleanField()
    name = CharField(max_length=100, default="")

    class Meta:
        table_name = "core_calendar_day"


class AuditEvent(_Frozen):

    chain_id = IntegerField()
    seq = BigIntegerField()
    ts_utc = CharField(max_length=32)
    actor_id = IntegerField(null=True)
    actor_site_id = IntegerField(null=True)
    site_id = IntegerField(null=True)
    action = CharField(max_length=64)
    object_type = CharField(max_length=64, null=True)
    object_id = CharField(max_length=64, null=True)
    result = CharField(max_length=16, default="ok")
    ip = CharField(max_length=64, null=True)
    request_id = CharField(max_length=64, null=True)
    payload_hash = CharField(max_length=64)
    payload = TextField(null=True)
    alg = CharField(max_length=16)
    prev_hash = CharField(max_length=64)
    hash = CharField(max_length=64)

    class Meta:
        table_name = "core_audit_event"
        indexes = (
            (("chain_id", "seq"), True),
            (("site_id", "ts_utc"), False),
            (("object_type", "object_id"), False),
            (("actor_id",), False),
        )


class AuditHead(_Frozen):

    chain_id = IntegerField(primary_key=True)
    seq = BigIntegerField()
    hash = CharField(max_length=64)

    class Meta:
        table_name = "core_audit_head"


MODELS = [Site, User, Membership, SiteGrant, SitePlugin, SettingValue, Fact, AuthSession,
          LoginFailure, ApiToken, Attachment, Notification, CalendarDay, AuditEvent, AuditHead]

APPEND_ONLY_SQLITE = (
    """CREATE TRIGGER core_audit_event_no_delete BEFORE DELETE ON core_audit_event
       BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END""",
    """CREATE TRIGGER core_audit_event_no_update BEFORE UPDATE ON core_audit_event
       WHEN NOT (NEW.payload IS NULL AND NEW.hash = OLD.hash AND NEW.seq = OLD.seq
                 AND NEW.chain_id = OLD.chain_id AND NEW.payload_hash = OLD.payload_hash)
       BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END""",
)

APPEND_ONLY_POSTGRES = (
    """CREATE OR REPLACE FUNCTION core_audit_event_guard() RETURNS trigger AS $$
       BEGIN
         IF TG_OP = 'UPDATE' AND NEW.payload IS NULL AND NEW.hash = OLD.hash
            AND NEW.seq = OLD.seq AND NEW.chain_id = OLD.chain_id
            AND NEW.payload_hash = OLD.payload_hash THEN
           RETURN NEW;
         END IF;
         RAISE EXCEPTION 'audit events are append-only';
       END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER core_audit_event_append_only BEFORE UPDATE OR DELETE ON core_audit_event
       FOR EACH ROW EXECUTE FUNCTION core_audit_event_guard()""",
    """CREATE TRIGGER core_audit_event_no_truncate BEFORE TRUNCATE ON core_audit_event
       FOR EACH STATEMENT EXECUTE FUNCTION core_audit_event_guard()""",
)


def up(migrator, db):
    db.bind(MODELS)
    db.create_tables(MODELS)
    statements = APPEND_ONLY_POSTGRES if isinstance(db, PostgresqlDatabase) \
        else APPEND_ONLY_SQLITE
    for sql in statements:
        db.execute_sql(sql)
