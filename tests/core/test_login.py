"""Signing in and out through the pages (SECURITY S1, S3, A9)."""

import pytest

from core.testing import make_user


def test_login_then_dashboard(app, site, browser):
    user = make_user(site, roles=("staff",))
    response = browser.login(user)
    assert response.status_code == 302
    page = browser.get("/")
    assert page.status_code == 200
    assert site.name in page.get_data(as_text=True)


def test_S1_session_id_changes_at_login(app, site, browser, client):
    user = make_user(site)
    browser.csrf("/login")
    before = client.get_cookie("gr_session").value
    browser.login(user)
    assert client.get_cookie("gr_session").value != before


def test_S3_old_cookie_after_logout_goes_to_login(app, site, browser, client):
    user = make_user(site)
    browser.login(user)
    cookie = client.get_cookie("gr_session").value
    browser.post("/logout")
    client.set_cookie("gr_session", cookie)
    response = client.get("/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_A9_unknown_user_and_wrong_password_look_the_same(app, site, browser):
    user = make_user(site)
    wrong = browser.login(user, password="not the password at all")
    browser.client.delete_cookie("gr_session")
    from types import SimpleNamespace

    unknown = browser.login(SimpleNamespace(username="nobody-here"), password="whatever12345")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.get_data(as_text=True).count("error") == unknown.get_data(as_text=True).count(
        "error")


def _count_verifications(monkeypatch):
    import argon2

    calls = []
    original = argon2.PasswordHasher.verify

    def counting(self, stored, password):
        calls.append(stored)
        return original(self, stored, password)

    monkeypatch.setattr(argon2.PasswordHasher, "verify", counting)
    return calls


def test_A9_unknown_user_still_runs_one_argon2_verification(app, site, monkeypatch):
    from core import auth

    user = make_user(site)
    calls = _count_verifications(monkeypatch)
    auth.authenticate("nobody-here", "whatever12345", "127.0.0.1")
    assert len(calls) == 1
    auth.authenticate(user.username, "whatever12345", "127.0.0.1")
    assert len(calls) == 2


@pytest.mark.slow
def test_A9_unknown_user_and_wrong_password_take_the_same_time(app, site):
    """Medians of 5 trials each with the production hasher, within ±20 %."""
    import statistics
    import time

    from core import auth

    app.config["PASSWORD_HASH_PROFILE"] = "production"
    user = make_user(site)
    from core.models import User

    User.update(password_hash=auth.hash_password("a production hashed password")).where(
        User.id == user.id).execute()
    app.config["LOGIN_MAX_FAILURES"] = 1000

    def timed(username):
        start = time.perf_counter()
        auth.authenticate(username, "wrong password value", "127.0.0.1")
        return time.perf_counter() - start

    unknown, wrong = [], []
    for _ in range(5):
        unknown.append(timed("nobody-here"))
        wrong.append(timed(user.username))
    ratio = statistics.median(unknown) / statistics.median(wrong)
    assert 0.8 <= ratio <= 1.2, ratio


def test_A8_old_parameters_are_rehashed_at_the_next_sign_in(app, site, browser):
    from core.models import User

    user = make_user(site)  # hashed with the cheap test profile
    assert "m=65536,t=3,p=4" not in user.password_hash
    app.config["PASSWORD_HASH_PROFILE"] = "production"
    assert browser.login(user).status_code == 302
    assert "$argon2id$v=19$m=65536,t=3,p=4$" in User.get_by_id(user.id).password_hash
