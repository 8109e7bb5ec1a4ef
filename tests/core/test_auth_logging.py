"""Authentication events in the audit log, and no secrets in any output (SECURITY L1, L3)."""

from __future__ import annotations

import json
import logging
import re
from types import SimpleNamespace

import pyotp

from core import auth
from core.audit.models import AuditEvent
from core.context import Actor, acting_as
from core.testing import PASSWORD, Browser, make_user

AGENT = "GrassrootsTestBrowser/1.0 (L1)"
WRONG = "a wrong but secret-looking password"
NEW = "the replacement passphrase for L3"


def agent_browser(app) -> Browser:
    browser = Browser(app.test_client())
    browser.client.environ_base.update(HTTP_USER_AGENT=AGENT, REMOTE_ADDR="192.0.2.44")
    return browser


def auth_events(user) -> dict[str, list[AuditEvent]]:
    out: dict[str, list[AuditEvent]] = {}
    query = AuditEvent.select().where(AuditEvent.object_type == "core_user",
                                      AuditEvent.object_id == str(user.id),
                                      AuditEvent.action.startswith("auth."))
    for event in query.order_by(AuditEvent.id):
        out.setdefault(event.action, []).append(event)
    return out


def test_L1_every_authentication_event_is_complete(app, site):
    admin = make_user(site, roles=("site_admin",))
    user = make_user(site)
    browser = agent_browser(app)
    browser.login(user)                                   # success
    browser.post("/logout", page="/account/")             # logout
    for _ in range(5):                                    # failures, then the lock
        browser.login(user, password=WRONG)
    with acting_as(Actor(user_id=admin.id, ip="192.0.2.1", user_agent=AGENT, via="web")):
        auth.unlock(user)                                 # unlock by an administrator
    browser.login(user)
    browser.post("/account/password", {"current_password": PASSWORD, "new_password": NEW,
                                       "confirm_password": NEW}, page="/account/password")
    page = browser.get("/account/mfa").get_data(as_text=True)
    secret = re.search(r"<code>([A-Z2-7]{32})</code>", page).group(1)
    browser.post("/account/mfa", {"code": pyotp.TOTP(secret).now(), "password": NEW},
                 page="/account/mfa")

    events = auth_events(user)
    expected = {"auth.login": {"ok", "fail"}, "auth.logout": {"ok"}, "auth.lock": {"locked"},
                "auth.unlock": {"ok"}, "auth.password_change": {"ok"},
                "auth.mfa_enrol": {"ok"}}
    for action, results in expected.items():
        assert action in events, f"no {action} event"
        assert {e.result for e in events[action]} == results, action
    for action, rows in events.items():
        for event in rows:
            where = f"{action}/{event.result}"
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", event.ts_utc), where
            assert event.ip in ("192.0.2.44", "192.0.2.1"), where
            assert json.loads(event.payload)["detail"]["user_agent"] == AGENT, where
            assert event.chain_id == 0 and event.site_id is None, where
            if event.result != "fail" and action != "auth.lock":
                assert event.actor_id in (user.id, admin.id), where
    assert events["auth.unlock"][0].actor_id == admin.id
    assert {e.actor_id for e in events["auth.login"] if e.result == "ok"} == {user.id}
    change = events["auth.password_change"][0]
    assert change.actor_site_id == site.id, "the site the user was acting in"
    failure = next(e for e in events["auth.login"] if e.result == "fail")
    assert json.loads(failure.payload)["detail"]["reason"] == "invalid"


def test_L1_unknown_usernames_are_logged_too(app):
    browser = agent_browser(app)
    browser.login(SimpleNamespace(username="nobody-at-all"), password=WRONG)
    event = AuditEvent.get(AuditEvent.action == "auth.login")
    detail = json.loads(event.payload)["detail"]
    assert (event.result, event.object_id, detail["username"]) == ("fail", None,
                                                                   "nobody-at-all")


def test_L3_no_password_totp_secret_or_session_token_in_audit_or_logs(app, site, caplog):
    """Run the sensitive flows, then scan every audit row and the log output.

    The log level is INFO, what a deployment runs at; peewee's DEBUG log
    echoes SQL parameters and must stay off in production (docs/security.md).
    """
    caplog.set_level(logging.INFO)
    user = make_user(site)
    browser = agent_browser(app)
    browser.login(user, password=WRONG)
    browser.login(user)
    tokens = {browser.client.get_cookie("gr_session").value}
    browser.post("/account/password", {"current_password": PASSWORD, "new_password": NEW,
                                       "confirm_password": NEW}, page="/account/password")
    tokens.add(browser.client.get_cookie("gr_session").value)
    page = browser.get("/account/mfa").get_data(as_text=True)
    secret = re.search(r"<code>([A-Z2-7]{32})</code>", page).group(1)
    code = pyotp.TOTP(secret).now()
    browser.post("/account/mfa", {"code": code, "password": NEW}, page="/account/mfa")
    tokens.add(browser.client.get_cookie("gr_session").value)
    browser.post("/logout", page="/account/")
    relogin = Browser(app.test_client())
    relogin.login(user, password=NEW)
    tokens.add(relogin.client.get_cookie("gr_session").value)

    secrets_used = {"password": PASSWORD, "wrong password": WRONG, "new password": NEW,
                    "TOTP secret": secret, **{f"session token {t[:6]}": t for t in tokens}}
    audit_text = "\n".join(
        " ".join(str(v) for v in row) for row in AuditEvent.select().tuples())
    assert AuditEvent.select().where(AuditEvent.action.startswith("auth.")).count() >= 5
    for name, value in secrets_used.items():
        assert value not in audit_text, f"the {name} is in the audit log"
        assert value not in caplog.text, f"the {name} is in the log output"
