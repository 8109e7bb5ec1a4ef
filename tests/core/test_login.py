"""Signing in and out through the pages (SECURITY S1, S3, A9)."""

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
