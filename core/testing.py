"""pytest fixtures and factories that the kernel's and every plugin's tests share.

Loaded by the root ``conftest.py`` (``pytest_plugins = ["core.testing"]``).
A plugin's tests choose the loaded plugins with ``@pytest.mark.plugins("a", "b")``;
without the marker every installed plugin is loaded. Each test gets a fresh
copy of a database built once per session by the real migrations.
"""

from __future__ import annotations

import contextlib
import importlib
import itertools
import os
import re
import shutil

import peewee as pw
import pytest
from flask.testing import FlaskClient

from core import identity
from core.context import Actor, acting_as
from core.isolation import (  # noqa: F401 - the isolation harness, re-exported for plugins
    Route,
    assert_reference_refused,
    assert_site_isolated,
    signed_in,
)

PASSWORD = "correct horse battery staple"  # noqa: S105 - the test users' password
_counter = itertools.count(1)


def base_config(db_url: str, **extra) -> dict:
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-that-is-long-enough-and-varied-0123456789",
        "DATABASE_URL": db_url,
        "PASSWORD_HASH_PROFILE": "test",
        "SESSION_COOKIE_SECURE": False,
        "SERVER_NAME": None,
    }
    config.update(extra)
    return config


def _postgres_url() -> str | None:
    return os.environ.get("GRASSROOTS_TEST_PG")


def pytest_configure(config):
    # declared here as well as in setup.cfg, so that a plugin's tests run with
    # ``pytest -p core.testing`` outside this repository know the marker
    config.addinivalue_line("markers", "plugins(*names): the plugins loaded in the test app")


def extra_plugins() -> list[tuple[str, object]]:
    """Plugins named by ``GRASSROOTS_EXTRA_PLUGINS=name=module[,name=module]``.

    Loaded into every test app besides the installed ones, so that a plugin
    can be tested before it has an entry point (the generator's own test does).
    """
    spec = os.environ.get("GRASSROOTS_EXTRA_PLUGINS", "")
    pairs = [item.split("=", 1) for item in spec.split(",") if item.strip()]
    return [(name.strip(), importlib.import_module(module.strip())) for name, module in pairs]


@contextlib.contextmanager
def register_test_plugin(app, plugin, name: str):
    """Register ``plugin`` as ``name`` on a running app for a block (STYLE rule 21).

    The bus's plugin infos and per-site callers are refreshed on the way in
    and out. For site hooks only: installed hooks (permissions, blueprints)
    run at start-up, so give those plugins to ``create_app(extra_plugins=...)``.
    ``plugin`` must implement ``plugin_info`` naming itself ``name``.
    """
    from core.plugins import PluginError

    hub = app.extensions["grassroots"].bus
    hub.pm.register(plugin, name=name)
    try:
        hub.pm.check_pending()
        hub.refresh()
        if name not in hub.infos:
            raise PluginError(f"test plugin {name!r} does not implement plugin_info")
        yield plugin
    finally:
        hub.pm.unregister(name=name)
        hub.refresh()


def owned_models(hub) -> dict[str, list[type[pw.Model]]]:
    """Every model by owner: ``core`` (the kernel) and each plugin's ``register_models``."""
    from core import models
    from core.audit import models as audit_models

    kernel = [value for module in (models, audit_models) for value in vars(module).values()
              if isinstance(value, type) and issubclass(value, pw.Model)
              and value.__module__ == module.__name__]
    owned = {"core": kernel}
    for impl in hub.pm.hook.register_models.get_hookimpls():
        if impl.plugin_name != "core":
            owned[impl.plugin_name] = list(impl.function() or ())
    return owned


def schema_drift(hub):
    """Differences between the migrated database and the models (empty when in step).

    Tests build their database by running the migrations (STYLE rule 12), so
    a model changed without a migration shows up here.
    """
    from playhouse.schema_diff import diff_models

    from core.storage import db

    return diff_models(db.obj, [m for ms in owned_models(hub).values() for m in ms])


_FROZEN_HEAD = '''"""{doc}"""
from peewee import *


def up(migrator, db):
    class Site(Model):
        class Meta:
            table_name = "core_site"

    class User(Model):
        class Meta:
            table_name = "core_user"

    class Base(Model):
        site = ForeignKeyField(Site, index=True, on_delete="RESTRICT")
        version = IntegerField(default=1)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        created_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
'''

_FROZEN_TABLE = '''
    class {cls}(Base):
        {fields}

        class Meta:
            table_name = "{table}"
'''


def site_table_migration(doc: str, tables) -> str:
    """The text of a migration creating site-scoped tables, for a test's own plugin.

    :param tables: ``(class name, table name, field lines)`` in creation order;
        the field lines are peewee declarations (``"text = CharField()"``, one per
        line) and may refer to earlier classes.
    """
    body = [_FROZEN_HEAD.format(doc=doc)]
    for cls, table, fields in tables:
        body.append(_FROZEN_TABLE.format(cls=cls, table=table,
                                         fields="\n        ".join(fields.strip().splitlines())))
    names = [cls for cls, _table, _fields in tables]
    body.append(f"\n    db.bind([Site, User, Base, {', '.join(names)}])\n"
                f"    db.create_tables([{', '.join(names)}])\n")
    return "".join(body)


@pytest.fixture(scope="session")
def migrated_db(tmp_path_factory):
    """A SQLite file migrated once per session; each test copies it."""
    from core.app import create_app

    path = tmp_path_factory.mktemp("template") / "template.sqlite"
    create_app(base_config(f"sqlite:///{path}"), extra_plugins=extra_plugins())
    return path


def _database_named(url: str, name: str) -> str:
    from urllib.parse import urlparse

    return urlparse(url)._replace(path=f"/{name}").geturl()


def _run(database, statement, *identifiers) -> None:
    """Run a ``psycopg2.sql.SQL`` statement with each ``{}`` replaced by a quoted name."""
    from psycopg2 import sql

    database.cursor().execute(statement.format(*map(sql.Identifier, identifiers)))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class PostgresReset:
    """The PostgreSQL test database of one pytest process, emptied between tests.

    Each pytest process (each xdist worker too) gets its own database,
    ``<name of GRASSROOTS_TEST_PG>_s<pid>``, so sessions never empty each other's
    tables; it is dropped at the end, and databases of pytest processes that
    no longer run are dropped at the start. The database is migrated once;
    before each test, tables a test created are dropped, the rows of every
    table are deleted (except the migration history), the rows the migrations
    seeded are put back and sequences restart. A test that changed the schema
    itself (dropped a trigger, added a column) leaves a different catalogue
    fingerprint, and the next reset migrates a fresh schema instead. Triggers
    are off while it deletes (the audit table's append-only trigger would
    refuse), so it needs a superuser, which the throwaway cluster of
    ``.ci/postgres.sh`` has. Measured on the 2-core machine under load: ~0.1 s
    per test, against ~0.55 s to copy a template database and ~0.8 s to drop
    the schema and migrate again.
    """

    #: everything of the schema a test could change, as one text to compare
    FINGERPRINT = (
        "SELECT md5(string_agg(item, ',' ORDER BY item)) FROM ("
        " SELECT 'col ' || table_name || '.' || column_name || ' ' || data_type || ' '"
        "  || is_nullable || ' ' || coalesce(column_default, '') AS item"
        "  FROM information_schema.columns WHERE table_schema = 'public'"
        " UNION ALL SELECT 'trg ' || tgrelid::regclass::text || '.' || tgname || tgenabled::text"
        "  FROM pg_trigger WHERE NOT tgisinternal"
        " UNION ALL SELECT 'con ' || conrelid::regclass::text || '.' || conname"
        "  FROM pg_constraint WHERE connamespace = 'public'::regnamespace"
        " UNION ALL SELECT 'rel ' || relname || relkind::text || coalesce(relacl::text, '')"
        "  FROM pg_class WHERE relnamespace = 'public'::regnamespace"
        " UNION ALL SELECT 'fn ' || proname || md5(prosrc)"
        "  FROM pg_proc WHERE pronamespace = 'public'::regnamespace) AS items")

    def __init__(self, url: str):
        from urllib.parse import urlparse

        from core.storage import open_database

        self.base = urlparse(url).path.lstrip("/")
        self.name = f"{self.base}_s{os.getpid()}"
        self.url = _database_named(url, self.name)
        self.server = open_database(_database_named(url, "postgres"))
        self.database = open_database(self.url)
        self.tables: list[str] = []
        self.history: list[str] = []
        self.seeds: dict[str, tuple[list[str], list[tuple]]] = {}
        self.sequences: list[tuple[str, str, str]] = []
        self.fingerprint = ""

    def _sessions(self) -> list[tuple[str, int]]:
        """The databases of test sessions: (name, pid), companions (``…_restore``) too."""
        found = []
        pattern = re.compile(rf"{re.escape(self.base)}_s(\d+)(_\w+)?")
        for (name,) in self.server.execute_sql("SELECT datname FROM pg_database").fetchall():
            matched = pattern.fullmatch(name)
            if matched:
                found.append((name, int(matched.group(1))))
        return found

    def create(self) -> None:
        """Drop the databases of finished sessions, then create and migrate this one's."""
        from psycopg2 import sql

        with self.server.connection_context():
            for name, pid in self._sessions():
                if pid == os.getpid() or not _alive(pid):
                    _run(self.server, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)"), name)
            _run(self.server, sql.SQL("CREATE DATABASE {}"), self.name)
        self.database.connect()
        self.build()

    def drop(self) -> None:
        from psycopg2 import sql

        self.database.close()
        with self.server.connection_context():
            for name, pid in self._sessions():
                if pid == os.getpid():
                    _run(self.server, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)"), name)

    def build(self) -> None:
        """Migrate an empty schema and remember what the migrations made."""
        from psycopg2 import sql

        from core.app import create_app
        from core.storage import db

        database = self.database
        with database.atomic():
            database.execute_sql("DROP SCHEMA public CASCADE")
            database.execute_sql("CREATE SCHEMA public")
        create_app(base_config(self.url), extra_plugins=extra_plugins())
        db.obj.close()
        every = database.get_tables()
        self.history = [t for t in every if t.endswith("_migrations")]
        self.tables = [t for t in every if t not in self.history]
        self.seeds = {}
        for table in self.tables:
            cursor = database.cursor()
            cursor.execute(sql.SQL("SELECT * FROM {}").format(sql.Identifier(table)))
            rows = cursor.fetchall()
            if rows:
                self.seeds[table] = ([c[0] for c in cursor.description], rows)
        self.sequences = database.execute_sql(
            "SELECT s.relname, t.relname, a.attname FROM pg_class s"
            " JOIN pg_depend d ON d.objid = s.oid AND d.deptype = 'a'"
            " JOIN pg_class t ON t.oid = d.refobjid"
            " JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid"
            " WHERE s.relkind = 'S'").fetchall()
        self.fingerprint = database.execute_sql(self.FINGERPRINT).fetchone()[0]

    def reset(self) -> None:
        """Back to the migrated state; ends every other connection to the database."""
        from psycopg2 import sql

        database = self.database
        database.execute_sql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()")
        known = {*self.tables, *self.history}
        for table in database.get_tables():
            if table not in known:
                _run(database, sql.SQL("DROP TABLE {} CASCADE"), table)
        if database.execute_sql(self.FINGERPRINT).fetchone()[0] != self.fingerprint:
            self.build()
            return
        with database.atomic():
            database.execute_sql("SET LOCAL session_replication_role = replica")
            for table in self.tables:
                _run(database, sql.SQL("DELETE FROM {}"), table)
            for table, (columns, rows) in self.seeds.items():
                insert = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
                    sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns)),
                    sql.SQL(", ").join(sql.Placeholder() * len(columns)))
                database.cursor().executemany(insert, rows)
            for sequence, table, column in self.sequences:
                largest = sql.SQL("SELECT MAX({}) FROM {}").format(sql.Identifier(column),
                                                                   sql.Identifier(table))
                database.cursor().execute(sql.SQL(
                    "SELECT setval({}::regclass, COALESCE(({}), 0) + 1, false)").format(
                    sql.Literal(sequence), largest))


@pytest.fixture(scope="session")
def postgres_reset():
    """On PostgreSQL: this session's test database, created and migrated once, and the
    :class:`PostgresReset` that empties it for each test."""
    reset = PostgresReset(_postgres_url())
    reset.create()
    yield reset
    reset.drop()


@pytest.fixture
def app_config(migrated_db, tmp_path, request):
    """The configuration of the test app (a fresh database per test)."""
    pg = _postgres_url()
    if pg:
        reset = request.getfixturevalue("postgres_reset")
        reset.reset()
        url = reset.url
    else:
        db_file = tmp_path / "test.sqlite"
        shutil.copy(migrated_db, db_file)
        url = f"sqlite:///{db_file}"
    marker = request.node.get_closest_marker("plugins")
    config = base_config(url, UPLOAD_DIR=str(tmp_path / "files"),
                         CHECKPOINT_DIR=str(tmp_path / "checkpoints"),
                         AUDIT_KEY_FILE=str(tmp_path / "audit.key"))
    (tmp_path / "audit.key").write_bytes(b"00" * 32)
    if marker is not None:
        config["PLUGINS"] = list(marker.args)
    return config


class IsolatedClient(FlaskClient):
    """A test client whose every request gets its own application context.

    The ``app`` fixture keeps an app context pushed for the test body, and
    Flask reuses a pushed context for requests, which would share ``g``
    (the signed-in user, the CSRF token) between requests.
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def app(app_config):
    """A Grassroots app on a fresh database, inside an app context."""
    from core.app import create_app

    application = create_app(app_config, extra_plugins=extra_plugins())
    application.test_client_class = IsolatedClient
    with application.app_context(), acting_as(Actor(via="test")):
        yield application


@pytest.fixture
def app_with_plugins(app_config):
    """Build an app with test plugins loaded at start-up: ``app_with_plugins(("name", obj))``.

    For installed hooks (permissions, settings, blueprints, API, commands,
    migrations), which the factory calls once. Keyword arguments override the
    configuration. The app's context stays pushed until the test ends; use it
    instead of the ``app`` fixture, not beside it.
    """
    from core.app import create_app

    with contextlib.ExitStack() as stack:

        def build(*plugins, **config):
            application = create_app({**app_config, **config},
                                     extra_plugins=[*extra_plugins(), *plugins])
            application.test_client_class = IsolatedClient
            stack.enter_context(application.app_context())
            stack.enter_context(acting_as(Actor(via="test")))
            return application

        yield build


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def make_site(kind: str = "urban_community", parent=None, name: str | None = None,
              code: str | None = None):
    """Create a site with a unique code."""
    n = next(_counter)
    return identity.create_site(code=code or f"site{n}", name=name or f"测试社区{n}",
                                kind=kind, parent=parent)


def make_user(site=None, roles=("staff",), *, username: str | None = None,
              platform_admin: bool = False, password: str = PASSWORD, totp_secret=None):
    """Create a user with ``roles`` in ``site`` and a known password.

    Platform administrators, site administrators and leaders must use a
    second factor (SECURITY A6), so they get a TOTP secret unless
    ``totp_secret=False`` (a user who has not enrolled yet); :meth:`Browser.login`
    enters their codes.
    """
    from core.auth import hash_password
    from core.models import User
    from core.security.totp import new_secret

    n = next(_counter)
    user = identity.create_user(username=username or f"user{n}", display_name=f"用户{n}",
                                password_hash=hash_password(password),
                                is_platform_admin=platform_admin)
    if totp_secret is None and (platform_admin or (site is not None and
                                                   {"site_admin", "leader"} & set(roles))):
        totp_secret = new_secret()
    if totp_secret:
        User.update(totp_secret=totp_secret).where(User.id == user.id).execute()
        user = User.get_by_id(user.id)
    for role in roles if site is not None else ():
        identity.add_member(user, site, role)
    return user


@pytest.fixture
def site(app):
    return make_site()


@pytest.fixture
def two_sites(app):
    """Two sibling communities under one street office: ``(a, b)``."""
    office = make_site("street_office", name="测试街道")
    return make_site(parent=office), make_site(parent=office)


def totp_code(username: str) -> str:
    """A current TOTP code for ``username`` that the replay check will still accept.

    Codes of the previous, current and next 30-second step are all accepted
    once (SECURITY A6), so up to three sign-ins of one user fit in one step.
    The current step comes first: its code still works if the clock passes a
    step boundary before the server checks it, the previous step's would not.
    """
    import time

    import pyotp

    from core.models import User
    from core.security.totp import STEP_SECONDS

    user = User.get(User.username == username)
    now = int(time.time()) // STEP_SECONDS
    for step in (now, now + 1, now - 1):
        if user.totp_last_step is None or step > user.totp_last_step:
            return pyotp.TOTP(user.totp_secret).at(step * STEP_SECONDS)
    raise AssertionError(f"{username} signed in more than three times in one TOTP step")


_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Browser:
    """A test client that signs in and posts forms with their CSRF token."""

    def __init__(self, client):
        self.client = client

    def csrf(self, path: str = "/login") -> str:
        page = self.client.get(path)
        found = _CSRF.search(page.get_data(as_text=True))
        assert found, f"no CSRF token on {path}"
        return found.group(1)

    def login(self, user, password: str = PASSWORD, site=None):
        """Sign in, entering a TOTP code when asked for one, and switch to ``site``."""
        token = self.csrf("/login")
        response = self.client.post("/login", data={
            "username": user.username, "password": password, "csrf_token": token})
        if response.status_code == 302 and response.location.startswith("/login"):
            response = self.client.post(response.location, data={
                "code": totp_code(user.username), "csrf_token": self.csrf(response.location)})
        if site is not None:
            self.post("/site", {"site_id": site.id})
        return response

    def post(self, path: str, data=None, page: str | None = None, **kwargs):
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf(page or "/"))
        return self.client.post(path, data=data, **kwargs)

    def get(self, path: str, **kwargs):
        return self.client.get(path, **kwargs)


@pytest.fixture
def browser(client):
    return Browser(client)


#: who the role matrix signs in as (SECURITY Z5): nobody, each role, a platform administrator
MATRIX_ROLES = ("guest", "site_admin", "leader", "staff", "supervisor", "platform_admin")


def role_matrix_mismatches(app, site, requests, roles=MATRIX_ROLES) -> list[str]:
    """Send each request as each role in ``site``; list the answers its ``@requires`` forbids.

    ``requests`` holds ``(method, path)`` or ``(method, path, form_data)``
    (POSTs carry a valid CSRF token). The expected answer comes from the
    view's declared permission (SECURITY Z5, Indico's basic access checks):
    a guest is sent to the login page (401 under ``/api/``) unless the view is
    public; a member whose roles lack the permission gets 403; a member who
    holds it, and anyone on a public or signed-in-only view, an answer below
    400 that is not the login page. Plugins call it with their own routes
    after enabling the plugin for ``site``; an empty list means no mismatch.
    """
    from urllib.parse import urlsplit

    from core.web.access import AUTHENTICATED, PUBLIC, declared_permission

    adapter = app.url_map.bind("localhost")
    found = []
    for role in roles:
        browser, user, access = Browser(app.test_client()), None, None
        if role != "guest":
            admin = role == "platform_admin"
            user = make_user(site, roles=() if admin else (role,), platform_admin=admin)
            assert browser.login(user, site=site).status_code == 302, f"{role} cannot sign in"
            access = identity.access(user, site)
        for method, path, *data in requests:
            endpoint, _args = adapter.match(urlsplit(path).path, method=method)
            permission = declared_permission(app.view_functions[endpoint])
            if method == "GET":
                response = browser.get(path)
            else:
                response = browser.post(path, data[0] if data else {},
                                        page="/login" if user is None else "/account/")
            status = response.status_code
            to_login = status in (301, 302, 303) and (
                urlsplit(response.location).path == "/login")
            if permission is None:
                ok = False
            elif user is None and permission != PUBLIC:
                ok = status == 401 if path.startswith("/api/") else to_login
            elif permission in (PUBLIC, AUTHENTICATED) or access.can(permission):
                ok = status < 400 and not to_login
            else:
                ok = status == 403
            if not ok:
                found.append(f"{role}: {method} {path} (requires {permission}) "
                             f"answered {status}")
    return found
