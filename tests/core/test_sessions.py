"""Server-side sessions (SECURITY S2–S6)."""

from __future__ import annotations

import datetime as dt
import hashlib

import time_machine

from core import auth
from core.app import create_app
from core.audit.models import AuditEvent
from core.models import AuthSession
from core.storage import db
from core.testing import Browser, IsolatedClient, make_user

START = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)


def signed_out(response) -> bool:
    return response.status_code == 302 and response.location.startswith("/login")


def test_S2_only_the_sha256_of_the_token_is_stored(app, site, browser, client):
    browser.login(make_user(site))
    token = client.get_cookie("gr_session").value
    assert len(token) == 43, "secrets.token_urlsafe(32): 256 bits"
    row = AuthSession.get(AuthSession.token_hash == hashlib.sha256(token.encode()).hexdigest())
    assert row.user_id is not None
    cursor = db.obj.execute_sql("SELECT * FROM core_session")
    for stored in cursor.fetchall():
        assert all(token not in str(value) for value in stored), "the raw token is stored"


def test_S3_logout_deletes_the_session_row(app, site, browser, client):
    browser.login(make_user(site))
    token = client.get_cookie("gr_session").value
    browser.post("/logout", page="/account/")
    digest = hashlib.sha256(token.encode()).hexdigest()
    assert not AuthSession.select().where(AuthSession.token_hash == digest).exists()


def test_S4_idle_timeout_of_30_minutes(app, site):
    user = make_user(site)
    with time_machine.travel(START, tick=False) as clock:
        browser = Browser(app.test_client())
        browser.login(user)
        clock.shift(dt.timedelta(minutes=29))
        assert browser.get("/account/").status_code == 200
        clock.shift(dt.timedelta(minutes=29))
        assert browser.get("/account/").status_code == 200, "each request restarts the idle time"
        clock.shift(dt.timedelta(minutes=30, seconds=1))
        assert signed_out(browser.get("/account/"))


def test_S4_absolute_timeout_of_12_hours(app, site):
    user = make_user(site)
    with time_machine.travel(START, tick=False) as clock:
        browser = Browser(app.test_client())
        browser.login(user)
        for _ in range(28):  # busy all day: a request every 25 minutes for 11 h 40 min
            clock.shift(dt.timedelta(minutes=25))
            assert browser.get("/account/").status_code == 200
        clock.shift(dt.timedelta(minutes=20, seconds=1))
        assert signed_out(browser.get("/account/"))


def test_S4_timeouts_are_settings(app, site):
    assert (app.config["SESSION_IDLE_MINUTES"], app.config["SESSION_ABSOLUTE_HOURS"]) == (30, 12)
    app.config["SESSION_IDLE_MINUTES"] = 5
    user = make_user(site)
    with time_machine.travel(START, tick=False) as clock:
        browser = Browser(app.test_client())
        browser.login(user)
        clock.shift(dt.timedelta(minutes=5, seconds=1))
        assert signed_out(browser.get("/account/"))


def test_S5_disabling_a_user_ends_their_sessions_on_the_next_request(app, site):
    user = make_user(site)
    browsers = [Browser(app.test_client()) for _ in range(2)]
    for browser in browsers:
        browser.login(user)
        assert browser.get("/account/").status_code == 200
    auth.disable_user(user)
    for browser in browsers:
        assert signed_out(browser.get("/account/"))
    assert Browser(app.test_client()).login(user).status_code == 401
    assert AuditEvent.select().where(AuditEvent.action == "auth.disable").count() == 1


def test_S5_a_session_recreated_by_a_racing_request_is_still_refused(app, site):
    """The epoch bump, not only the deleted rows, ends a disabled user's sessions."""
    user = make_user(site)
    browser = Browser(app.test_client())
    browser.login(user)
    rows = list(AuthSession.select().where(AuthSession.user == user).dicts())
    auth.disable_user(user)
    AuthSession.insert_many(rows).execute()
    assert signed_out(browser.get("/account/"))


def test_S5_an_administrator_can_end_a_users_sessions(app, site):
    user = make_user(site)
    browser = Browser(app.test_client())
    browser.login(user)
    assert auth.end_sessions(user) == 1
    assert signed_out(browser.get("/account/"))
    assert browser.login(user).status_code == 302, "ending sessions does not lock the account"
    event = AuditEvent.get(AuditEvent.action == "auth.sessions_end")
    assert event.object_id == str(user.id)


def test_S6_production_cookie_is_host_prefixed_secure_httponly_lax(app_config):
    secure = create_app({**app_config, "SESSION_COOKIE_SECURE": True})
    secure.test_client_class = IsolatedClient
    with secure.app_context():
        user = make_user()
    client = secure.test_client()
    browser = Browser(client)
    with secure.app_context():
        response = browser.login(user)
    cookies = [c for c in response.headers.getlist("Set-Cookie") if "gr_session" in c]
    assert len(cookies) == 1
    name, _, attributes = cookies[0].partition(";")
    assert name.startswith("__Host-gr_session=")
    flags = {a.strip().split("=")[0].lower(): a.strip() for a in attributes.split(";")}
    assert "secure" in flags and "httponly" in flags
    assert flags["samesite"].lower() == "samesite=lax"
    assert flags["path"] == "Path=/"
    assert "domain" not in flags
    with secure.app_context():
        assert client.get("/account/").status_code == 200


def test_S6_secure_cookies_are_the_production_default():
    from core.app import DEFAULTS

    assert DEFAULTS["SESSION_COOKIE_SECURE"] is True
