"""Lock-out after repeated failures (SECURITY A4; the TOTP part of A6)."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
import textwrap
from types import SimpleNamespace

import pyotp
import time_machine

from core import auth
from core.audit.models import AuditEvent
from core.models import User
from core.testing import PASSWORD, Browser, make_user

WRONG = "not the password, sorry"


def _locked(user) -> bool:
    return auth.is_locked(User.get_by_id(user.id))


def _fail_in_another_process(app_config: dict, username: str, times: int) -> None:
    """A second worker: its own process and app on the same database file."""
    script = textwrap.dedent("""
        import json, sys
        from types import SimpleNamespace
        from core.app import create_app
        from core.testing import Browser, IsolatedClient
        config = json.loads(sys.argv[1])
        app = create_app(config)
        app.test_client_class = IsolatedClient
        browser = Browser(app.test_client())
        for _ in range(int(sys.argv[3])):
            response = browser.login(SimpleNamespace(username=sys.argv[2]),
                                     password="not the password, sorry")
            assert response.status_code == 401, response.status_code
    """)
    subprocess.run([sys.executable, "-c", script, json.dumps(app_config), username,
                    str(times)], check=True, timeout=120)


def test_A4_five_failures_across_two_worker_processes_lock(app, app_config, site, browser):
    user = make_user(site)
    _fail_in_another_process(app_config, user.username, 3)
    assert not _locked(user)
    for _ in range(2):
        assert browser.login(user, password=WRONG).status_code == 401
    assert _locked(user)
    refused = browser.login(user)
    assert refused.status_code == 401
    assert "/login" not in refused.headers.get("Location", "")
    locks = AuditEvent.select().where(AuditEvent.action == "auth.lock",
                                      AuditEvent.object_id == str(user.id))
    assert locks.count() == 1


def test_A4_lock_lasts_the_configured_minutes(app, site, browser):
    app.config.update(LOGIN_MAX_FAILURES=3, LOGIN_LOCK_MINUTES=10)
    user = make_user(site)
    start = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False) as clock:
        for _ in range(3):
            browser.login(user, password=WRONG)
        assert _locked(user)
        clock.shift(dt.timedelta(minutes=9, seconds=59))
        assert browser.login(user).status_code == 401
        clock.shift(dt.timedelta(seconds=2))
        assert browser.login(user).status_code == 302


def test_A4_default_is_five_failures_for_fifteen_minutes(app):
    assert app.config["LOGIN_MAX_FAILURES"] == 5
    assert app.config["LOGIN_LOCK_MINUTES"] == 15


def test_A4_four_failures_then_success_resets_the_count(app, site, browser):
    user = make_user(site)
    for _ in range(4):
        browser.login(user, password=WRONG)
    assert browser.login(user).status_code == 302
    assert User.get_by_id(user.id).failed_logins == 0


def test_A4_an_expired_lock_starts_a_fresh_count(app, site, browser):
    user = make_user(site)
    start = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False) as clock:
        for _ in range(5):
            browser.login(user, password=WRONG)
        clock.shift(dt.timedelta(minutes=16))
        browser.login(user, password=WRONG)
        assert not _locked(user)


def test_A4_per_ip_limit(app, site):
    app.config["LOGIN_IP_MAX_FAILURES"] = 3
    user = make_user(site)
    attacker = Browser(app.test_client())
    attacker.client.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    for n in range(3):
        attacker.login(SimpleNamespace(username=f"guess{n}"), password=WRONG)
    assert attacker.login(user).status_code == 401
    assert not _locked(user), "an IP limit must not lock the account itself"
    elsewhere = Browser(app.test_client())
    elsewhere.client.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    assert elsewhere.login(user).status_code == 302


def test_A4_the_lock_is_audited_and_an_administrator_can_lift_it(app, site, browser):
    admin = make_user(site, roles=("site_admin",))
    user = make_user(site)
    for _ in range(5):
        browser.login(user, password=WRONG)
    assert browser.login(user).status_code == 401
    lock = AuditEvent.get(AuditEvent.action == "auth.lock")
    assert (lock.object_id, lock.result) == (str(user.id), "locked")
    from core.context import Actor, acting_as

    with acting_as(Actor(user_id=admin.id, via="web")):
        auth.unlock(user)
    unlock = AuditEvent.get(AuditEvent.action == "auth.unlock")
    assert (unlock.object_id, unlock.actor_id) == (str(user.id), admin.id)
    assert browser.login(user).status_code == 302


def _alert(response) -> str:
    found = re.search(r'<p class="error" role="alert">(.*?)</p>', response.get_data(as_text=True))
    assert found, "no error message on the page"
    return found.group(1)


def test_A4_a_locked_account_refuses_the_right_password_with_the_usual_message(app, site,
                                                                                browser):
    user = make_user(site)
    for _ in range(5):
        wrong = browser.login(user, password=WRONG)
    right = browser.login(user, password=PASSWORD)
    assert right.status_code == wrong.status_code == 401
    assert _alert(right) == _alert(wrong)


def _code_step(browser, user, password=PASSWORD):
    """The password step only (``Browser.login`` would enter the code as well)."""
    response = browser.client.post("/login", data={
        "username": user.username, "password": password, "csrf_token": browser.csrf()})
    assert response.status_code == 302 and response.location.startswith("/login")
    return response.location


def _send_code(browser, location, code):
    return browser.client.post(location, data={"code": code,
                                               "csrf_token": browser.csrf(location)})


def test_A6_five_wrong_codes_lock_like_passwords(app, site, browser):
    secret = pyotp.random_base32(32)
    user = make_user(site, roles=("leader",), totp_secret=secret)
    location = _code_step(browser, user)
    for _ in range(5):
        assert _send_code(browser, location, "000000").status_code == 401
    assert _locked(user)
    assert _send_code(browser, location, pyotp.TOTP(secret).now()).status_code == 401
    assert browser.client.get("/account/").status_code == 302
    assert AuditEvent.select().where(AuditEvent.action == "auth.lock").count() == 1


def test_A6_entering_the_password_again_does_not_reset_the_count_of_wrong_codes(app, site):
    user = make_user(site, roles=("leader",))
    for _ in range(4):
        browser = Browser(app.test_client())
        location = _code_step(browser, user)
        assert _send_code(browser, location, "000000").status_code == 401
    browser = Browser(app.test_client())
    location = _code_step(browser, user)
    _send_code(browser, location, "000000")
    assert _locked(user)
