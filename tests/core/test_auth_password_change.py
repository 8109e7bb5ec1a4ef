"""Changing passwords, initial passwords and password age (SECURITY A3, A7, S5, S7, §1.3)."""

from __future__ import annotations

import datetime as dt

import time_machine

from core import auth
from core.audit.models import AuditEvent
from core.models import User
from core.security import passwords
from core.storage import utcnow
from core.testing import PASSWORD, Browser, make_user

NEW = "a brand new sentence to remember"


def change(browser, current=PASSWORD, new=NEW, confirm=None):
    return browser.post("/account/password", {
        "current_password": current, "new_password": new,
        "confirm_password": new if confirm is None else confirm}, page="/account/password")


def verifies(user, password) -> bool:
    return passwords.verify_password(auth.hasher(), User.get_by_id(user.id).password_hash,
                                     password)


def test_A3_change_refused_without_the_right_current_password(app, site, browser):
    user = make_user(site)
    browser.login(user)
    refused = change(browser, current="not my password at all")
    assert refused.status_code == 422
    assert 'id="e-current_password"' in refused.get_data(as_text=True)
    assert verifies(user, PASSWORD) and not verifies(user, NEW)
    assert not AuditEvent.select().where(AuditEvent.action == "auth.password_change").exists()


def test_A3_successful_change_is_audited(app, site, browser):
    user = make_user(site)
    browser.login(user)
    done = change(browser)
    assert done.status_code == 302
    assert verifies(user, NEW)
    event = AuditEvent.get(AuditEvent.action == "auth.password_change")
    assert (event.object_id, event.actor_id, event.result) == (str(user.id), user.id, "ok")


def test_A3_policy_and_confirmation_are_checked(app, site, browser):
    user = make_user(site)
    browser.login(user)
    short = change(browser, new="short pass")
    assert short.status_code == 422 and 'id="e-new_password"' in short.get_data(as_text=True)
    differ = change(browser, confirm=NEW + "!")
    assert differ.status_code == 422
    assert 'id="e-confirm_password"' in differ.get_data(as_text=True)
    same = change(browser, new=PASSWORD)
    assert same.status_code == 422 and 'id="e-new_password"' in same.get_data(as_text=True)
    assert verifies(user, PASSWORD)


def test_S5_password_change_ends_other_sessions_and_renews_this_one(app, site, client):
    user = make_user(site)
    other = Browser(app.test_client())
    other.login(user)
    this = Browser(client)
    this.login(user)
    before = client.get_cookie("gr_session").value
    assert change(this).status_code == 302
    assert client.get_cookie("gr_session").value != before
    assert this.get("/account/").status_code == 200
    ended = other.get("/account/")
    assert ended.status_code == 302 and ended.location.startswith("/login")


def _initial_user(site):
    user = make_user(site)
    initial = auth.issue_initial_password(user)
    return User.get_by_id(user.id), initial


def test_A7_initial_password_forces_a_change_before_anything_else(app, site, browser):
    user, initial = _initial_user(site)
    assert browser.login(user, password=initial).status_code == 302
    for path in ("/", "/account/", "/inbox/", "/account/mfa"):
        response = browser.get(path)
        assert (response.status_code, response.location) == (302, "/account/password"), path
    assert browser.get("/account/password").status_code == 200
    assert change(browser, current=initial).status_code == 302
    assert browser.get("/account/").status_code == 200
    assert not User.get_by_id(user.id).must_change_password


def test_A7_forced_change_before_enrolment_for_an_administrator(app, site, browser):
    admin = make_user(site, roles=("site_admin",), totp_secret=False)
    initial = auth.issue_initial_password(admin)
    browser.login(admin, password=initial)
    assert browser.get("/account/mfa").location == "/account/password"
    change(browser, current=initial)
    assert browser.get("/account/").location == "/account/mfa"


def test_A7_initial_password_stops_working_after_72_hours(app, site):
    start = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False) as clock:
        user, initial = _initial_user(site)
        clock.shift(dt.timedelta(hours=71, minutes=59))
        assert Browser(app.test_client()).login(user, password=initial).status_code == 302
    with time_machine.travel(start, tick=False) as clock:
        user, initial = _initial_user(site)
        clock.shift(dt.timedelta(hours=72))
        assert Browser(app.test_client()).login(user, password=initial).status_code == 401


def test_A7_initial_password_works_for_one_sign_in(app, site):
    user, initial = _initial_user(site)
    first = Browser(app.test_client())
    assert first.login(user, password=initial).status_code == 302
    assert Browser(app.test_client()).login(user, password=initial).status_code == 401
    assert change(first, current=initial).status_code == 302, (
        "the session that used it can still choose the new password")


def test_A7_issuing_an_initial_password_is_audited_and_ends_sessions(app, site):
    user = make_user(site)
    browser = Browser(app.test_client())
    browser.login(user)
    initial = auth.issue_initial_password(user)
    assert len(initial) == 19
    assert browser.get("/account/").location.startswith("/login")
    event = AuditEvent.get(AuditEvent.action == "auth.password_reset")
    assert initial not in event.payload


def test_MLPS_password_age_forces_a_change_when_configured(app, site, browser):
    user = make_user(site)
    User.update(password_changed_at=utcnow() - dt.timedelta(days=91)).where(
        User.id == user.id).execute()
    browser.login(user)
    assert browser.get("/account/").status_code == 200, "off by default (ASVS 6.2.10)"
    app.config["PASSWORD_MAX_AGE_DAYS"] = 90
    assert browser.get("/account/").location == "/account/password"
    assert change(browser).status_code == 302
    assert browser.get("/account/").status_code == 200


def test_MLPS_composition_profile_applies_at_change(app, site, browser):
    user = make_user(site)
    browser.login(user)
    app.config["PASSWORD_CLASSES_REQUIRED"] = 3
    refused = change(browser, new="only lower case words here")
    assert refused.status_code == 422
    assert change(browser, new="Mixed Case and 3 digits").status_code == 302


def test_A2_common_and_context_passwords_are_refused_at_change(app, browser):
    from core.testing import make_site

    site = make_site(name="阳光社区")
    user = make_user(site)
    browser.login(user)
    for refused in ("1qaz2wsx3edc", "Grassroots2026!", "yangguangshequ2026", user.username):
        response = change(browser, new=refused)
        assert response.status_code == 422, refused
        assert 'id="e-new_password"' in response.get_data(as_text=True)
    assert verifies(user, PASSWORD)


def test_Z4_account_pages_ignore_fields_they_do_not_own(app, site, browser):
    """Mass assignment: the account pages read their own fields and nothing else."""
    user = make_user(site)
    browser.login(user)
    guarded = ("username", "is_platform_admin", "is_active", "is_demo", "totp_secret",
               "failed_logins", "locked_until", "session_epoch", "must_change_password")
    before = {k: v for k, v in User.select().where(User.id == user.id).dicts().get().items()
              if k in guarded}
    extra = {"is_platform_admin": "1", "username": "root", "is_demo": "1",
             "totp_secret": "A" * 32, "failed_logins": "0", "session_epoch": "0",
             "must_change_password": "1", "locked_until": "", "id": "1"}
    browser.post("/account/mfa", {"code": "000000", "password": PASSWORD, **extra},
                 page="/account/mfa")
    browser.post("/locale", {"locale": "zh_Hant", "next": "/", **extra}, page="/account/")
    change(browser, current="not my password at all")
    browser.post("/account/password", {"current_password": "x", "new_password": "y",
                                       "confirm_password": "y", **extra},
                 page="/account/password")
    after = {k: v for k, v in User.select().where(User.id == user.id).dicts().get().items()
             if k in guarded}
    assert after == before
