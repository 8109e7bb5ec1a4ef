"""pytest fixtures and factories that the kernel's and every plugin's tests share.

Loaded by the root ``conftest.py`` (``pytest_plugins = ["core.testing"]``).
A plugin's tests choose the loaded plugins with ``@pytest.mark.plugins("a", "b")``;
without the marker every installed plugin is loaded. Each test gets a fresh
copy of a database built once per session by the real migrations.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil

import pytest
from flask.testing import FlaskClient

from core import identity
from core.context import Actor, acting_as

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


@pytest.fixture(scope="session")
def migrated_db(tmp_path_factory):
    """A SQLite file migrated once per session; each test copies it."""
    from core.app import create_app

    path = tmp_path_factory.mktemp("template") / "template.sqlite"
    create_app(base_config(f"sqlite:///{path}"))
    return path


def _reset_postgres(url: str) -> None:
    import peewee

    from core.storage import open_database

    database = open_database(url)
    assert isinstance(database, peewee.PostgresqlDatabase)
    with database.connection_context():
        database.execute_sql("DROP SCHEMA public CASCADE")
        database.execute_sql("CREATE SCHEMA public")


@pytest.fixture
def app_config(migrated_db, tmp_path, request):
    """The configuration of the test app (a fresh database per test)."""
    pg = _postgres_url()
    if pg:
        _reset_postgres(pg)
        url = pg
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

    application = create_app(app_config)
    application.test_client_class = IsolatedClient
    with application.app_context(), acting_as(Actor(via="test")):
        yield application


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
    """Create a user with ``roles`` in ``site`` and a known password."""
    from core.auth import hash_password
    from core.models import User

    n = next(_counter)
    user = identity.create_user(username=username or f"user{n}", display_name=f"用户{n}",
                                password_hash=hash_password(password),
                                is_platform_admin=platform_admin)
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
        token = self.csrf("/login")
        response = self.client.post("/login", data={
            "username": user.username, "password": password, "csrf_token": token})
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
