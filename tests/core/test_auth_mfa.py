"""The second factor through the pages (SECURITY A6, S5, S7), with pyotp-made codes."""

from __future__ import annotations

import datetime as dt
import re

import pyotp
import pytest
import time_machine

from core import auth, settings
from core.audit.models import AuditEvent
from core.models import User
from core.testing import PASSWORD, Browser, make_user

NOW = dt.datetime(2026, 3, 2, 8, 0, 10, tzinfo=dt.UTC)


def code_at(secret: str, moment: dt.datetime) -> str:
    return pyotp.TOTP(secret).at(moment)


def password_step(browser, user, next_path=None):
    token = browser.csrf("/login")
    data = {"username": user.username, "password": PASSWORD, "csrf_token": token}
    if next_path:
        data["next"] = next_path
    response = browser.client.post("/login", data=data)
    assert response.status_code == 302
    return response.location


def send_code(browser, location, code):
    return browser.client.post(location, data={"code": code,
                                               "csrf_token": browser.csrf(location)})


@pytest.fixture
def secret():
    return pyotp.random_base32(32)


def test_A6_enrolled_user_signs_in_with_password_then_code(app, site, browser, secret):
    user = make_user(site, roles=("site_admin",), totp_secret=secret)
    with time_machine.travel(NOW, tick=False):
        location = password_step(browser, user, next_path="/account/")
        assert location.startswith("/login")
        assert browser.client.get("/account/").status_code == 302, (
            "the password alone must not sign in")
        page = browser.client.get(location)
        assert 'name="code"' in page.get_data(as_text=True)
        done = send_code(browser, location, code_at(secret, NOW))
        assert done.status_code == 302 and done.location == "/account/"
        assert browser.client.get("/account/").status_code == 200
    actions = [e.action for e in AuditEvent.select().where(AuditEvent.object_id == str(user.id),
                                                           AuditEvent.action.startswith("auth."))
               .order_by(AuditEvent.id)]
    assert actions == ["auth.password_ok", "auth.login"]


def test_A6_session_id_changes_at_the_code_step(app, site, browser, client, secret):
    user = make_user(site, roles=("site_admin",), totp_secret=secret)
    with time_machine.travel(NOW, tick=False):
        location = password_step(browser, user)
        half = client.get_cookie("gr_session").value
        send_code(browser, location, code_at(secret, NOW))
        assert client.get_cookie("gr_session").value != half


def test_A6_a_code_is_accepted_once_only(app, site, secret):
    user = make_user(site, roles=("leader",), totp_secret=secret)
    code = code_at(secret, NOW)
    with time_machine.travel(NOW, tick=False):
        first = Browser(app.test_client())
        assert send_code(first, password_step(first, user), code).status_code == 302
        second = Browser(app.test_client())
        replay = send_code(second, password_step(second, user), code)
        assert replay.status_code == 401
        assert second.client.get("/account/").status_code == 302


@pytest.mark.parametrize(("offset", "accepted"), [(-60, False), (-30, True), (0, True),
                                                  (30, True), (60, False)])
def test_A6_codes_of_one_step_either_side_only(app, site, browser, secret, offset, accepted):
    user = make_user(site, roles=("leader",), totp_secret=secret)
    with time_machine.travel(NOW, tick=False):
        location = password_step(browser, user)
        code = code_at(secret, NOW + dt.timedelta(seconds=offset))
        response = send_code(browser, location, code)
    assert (response.status_code == 302) is accepted


def test_A6_an_older_code_after_a_newer_one_is_refused(app, site, secret):
    user = make_user(site, roles=("leader",), totp_secret=secret)
    with time_machine.travel(NOW, tick=False):
        first = Browser(app.test_client())
        send_code(first, password_step(first, user), code_at(secret, NOW))
        second = Browser(app.test_client())
        older = code_at(secret, NOW - dt.timedelta(seconds=30))
        assert send_code(second, password_step(second, user), older).status_code == 401


def test_A6_who_must_use_a_second_factor(app, site):
    assert auth.mfa_required(make_user(platform_admin=True, totp_secret=False))
    assert auth.mfa_required(make_user(site, roles=("site_admin",), totp_secret=False))
    assert auth.mfa_required(make_user(site, roles=("leader",), totp_secret=False))
    assert not auth.mfa_required(make_user(site, roles=("staff",)))
    assert not auth.mfa_required(make_user(site, roles=("supervisor",)))


def test_A6_leaders_follow_the_site_setting(app, site):
    leader = make_user(site, roles=("leader",), totp_secret=False)
    assert settings.values(site, "core")["mfa_for_leaders"] is True
    settings.change(site, "core", "mfa_for_leaders", False)
    assert not auth.mfa_required(leader)
    site_admin = make_user(site, roles=("site_admin",), totp_secret=False)
    assert auth.mfa_required(site_admin), "the setting concerns leaders only"


def _enrol_page_secret(browser) -> str:
    page = browser.get("/account/mfa").get_data(as_text=True)
    return re.search(r"<code>([A-Z2-7]{32})</code>", page).group(1)


def test_A6_unenrolled_user_is_sent_to_enrol_from_every_page(app, site, browser):
    user = make_user(site, roles=("site_admin",), totp_secret=False)
    assert browser.login(user).status_code == 302
    for path in ("/", "/account/", "/inbox/", "/account/password"):
        response = browser.get(path)
        assert response.status_code == 302, path
        assert response.location == "/account/mfa", path
    assert browser.get("/account/mfa").status_code == 200
    assert browser.get("/static/grassroots.css").status_code == 200
    locale = browser.post("/locale", {"locale": "zh_Hant", "next": "/account/mfa"},
                          page="/account/mfa")
    assert locale.status_code == 302
    secret = _enrol_page_secret(browser)
    enrolled = browser.post("/account/mfa", {"code": pyotp.TOTP(secret).now(),
                                             "password": PASSWORD}, page="/account/mfa")
    assert enrolled.status_code == 302
    assert User.get_by_id(user.id).totp_secret == secret
    assert browser.get("/account/").status_code == 200
    assert browser.post("/logout", page="/account/").status_code == 302


def test_A6_unenrolled_user_can_sign_out(app, site, browser):
    user = make_user(site, roles=("leader",), totp_secret=False)
    browser.login(user)
    out = browser.post("/logout", page="/account/mfa")
    assert out.status_code == 302 and out.location == "/login"
    assert browser.get("/account/mfa").location.startswith("/login")


def test_S7_enrolment_asks_for_the_password(app, site, browser):
    user = make_user(site, roles=("staff",))
    browser.login(user, site=site)
    secret = _enrol_page_secret(browser)
    refused = browser.post("/account/mfa", {"code": pyotp.TOTP(secret).now(),
                                            "password": "not my password at all"},
                           page="/account/mfa")
    assert refused.status_code == 422
    assert 'id="e-password"' in refused.get_data(as_text=True)
    assert User.get_by_id(user.id).totp_secret is None


def test_A6_enrolment_with_a_wrong_code_keeps_the_factor_off(app, site, browser):
    user = make_user(site, roles=("staff",))
    browser.login(user, site=site)
    _enrol_page_secret(browser)
    refused = browser.post("/account/mfa", {"code": "000000", "password": PASSWORD},
                           page="/account/mfa")
    assert refused.status_code == 422
    assert User.get_by_id(user.id).totp_secret is None


def test_S5_enrolment_ends_other_sessions_and_keeps_this_one(app, site, client):
    user = make_user(site, roles=("staff",))
    other = Browser(app.test_client())
    other.login(user, site=site)
    this = Browser(client)
    this.login(user, site=site)
    before = client.get_cookie("gr_session").value
    secret = _enrol_page_secret(this)
    this.post("/account/mfa", {"code": pyotp.TOTP(secret).now(), "password": PASSWORD},
              page="/account/mfa")
    assert client.get_cookie("gr_session").value != before
    assert this.get("/account/").status_code == 200
    assert other.get("/account/").location.startswith("/login")
    assert AuditEvent.select().where(AuditEvent.action == "auth.mfa_enrol").count() == 1


def test_A6_reset_mfa_makes_a_leader_enrol_again(app, site, browser):
    user = make_user(site, roles=("leader",))
    auth.reset_mfa(user)
    assert User.get_by_id(user.id).totp_secret is None
    browser.login(user)
    assert browser.get("/account/").location == "/account/mfa"
    assert AuditEvent.select().where(AuditEvent.action == "auth.mfa_reset").count() == 1
