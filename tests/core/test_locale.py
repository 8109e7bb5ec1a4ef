"""Choosing Simplified or Traditional per request (STYLE rule 18, gotcha 5).

Babel's negotiation maps no browser tag but ``zh_Hant`` itself, so the kernel
maps tags explicitly: zh-TW, zh-HK, zh-MO and zh-Hant read Traditional, every
other zh (and any other language) Simplified. The user's own choice, made on
the page (POST /locale) or stored on the account, wins over the header.
"""

from __future__ import annotations

import re

import pytest
from babel import negotiate_locale

from core.i18n import locale_for_tag
from core.models import User
from core.testing import Browser, make_user

TRADITIONAL = ["zh-TW", "zh-HK", "zh-MO", "zh-Hant", "zh-Hant-TW", "zh-hant-hk", "zh_TW"]
SIMPLIFIED = ["zh-CN", "zh", "zh-SG", "zh-Hans", "zh-Hans-CN"]
SIGN_IN = {"zh_Hans": "登录", "zh_Hant": "登入"}


def _title(response) -> str:
    return re.search(r"<title>(.*?)</title>", response.get_data(as_text=True), re.S).group(1)


def _lang(response) -> str:
    return re.search(r'<html lang="([^"]+)"', response.get_data(as_text=True)).group(1)


def test_gotcha5_babel_alone_cannot_map_browser_tags_to_scripts():
    """The reason for our own map: if Babel learns this, the map can go."""
    assert negotiate_locale(["zh_TW"], ["zh_Hans", "zh_Hant"]) is None
    assert negotiate_locale(["zh_CN"], ["zh_Hans", "zh_Hant"]) is None


@pytest.mark.parametrize("tag", TRADITIONAL)
def test_E18_traditional_tags_map_to_zh_Hant(tag):
    assert locale_for_tag(tag) == "zh_Hant"


@pytest.mark.parametrize("tag", SIMPLIFIED)
def test_E18_other_chinese_tags_map_to_zh_Hans(tag):
    assert locale_for_tag(tag) == "zh_Hans"


@pytest.mark.parametrize("tag", ["en", "en-US", "fr", "", "*"])
def test_E18_non_chinese_tags_map_to_nothing(tag):
    assert locale_for_tag(tag) is None


@pytest.mark.parametrize("tag", TRADITIONAL)
def test_E18_traditional_browser_gets_the_traditional_login_page(client, tag):
    page = client.get("/login", headers={"Accept-Language": tag})
    assert SIGN_IN["zh_Hant"] in _title(page)
    assert SIGN_IN["zh_Hans"] not in page.get_data(as_text=True)
    assert _lang(page) == "zh-Hant"


@pytest.mark.parametrize("tag", [*SIMPLIFIED, "en", "en-US,en;q=0.9"])
def test_E18_simplified_or_foreign_browser_gets_the_simplified_login_page(client, tag):
    page = client.get("/login", headers={"Accept-Language": tag})
    assert SIGN_IN["zh_Hans"] in _title(page)
    assert SIGN_IN["zh_Hant"] not in page.get_data(as_text=True)
    assert _lang(page) == "zh-Hans"


def test_E18_no_header_gets_simplified(client):
    assert SIGN_IN["zh_Hans"] in _title(client.get("/login"))


def test_E18_the_first_chinese_tag_in_quality_order_decides(client):
    page = client.get("/login", headers={"Accept-Language": "en;q=1.0, zh-HK;q=0.8, zh-CN;q=0.5"})
    assert _lang(page) == "zh-Hant"


def test_E18_the_two_scripts_render_different_text(client):
    hans = client.get("/login", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    hant = client.get("/login", headers={"Accept-Language": "zh-TW"}).get_data(as_text=True)
    assert "基层治理平台" in hans and "基層治理平台" in hant
    assert "用户名" in hans and "用户名" not in hant


def test_E18_choice_on_the_page_wins_over_the_header(browser):
    headers = {"Accept-Language": "zh-CN"}
    response = browser.post("/locale", {"locale": "zh_Hant", "next": "/login"}, page="/login",
                            headers=headers)
    assert response.status_code == 302
    page = browser.get("/login", headers=headers)
    assert SIGN_IN["zh_Hant"] in _title(page)
    browser.post("/locale", {"locale": "zh_Hans", "next": "/login"}, page="/login",
                 headers={"Accept-Language": "zh-TW"})
    assert SIGN_IN["zh_Hans"] in _title(browser.get("/login", headers={"Accept-Language": "zh-TW"}))


def test_E18_unknown_locale_choice_is_refused(browser):
    assert browser.post("/locale", {"locale": "zh", "next": "/login"}, page="/login"
                        ).status_code == 400


def test_E18_the_account_locale_wins_over_the_header(app, browser, site):
    user = make_user(site)
    User.update(locale="zh_Hant").where(User.id == user.id).execute()
    browser.login(user, site=site)
    page = browser.get("/account/", headers={"Accept-Language": "zh-CN"})
    assert page.status_code == 200
    assert _lang(page) == "zh-Hant"
    assert "登出" in page.get_data(as_text=True)


def test_E18_choosing_on_the_page_is_stored_on_the_account(app, browser, site):
    user = make_user(site)
    browser.login(user, site=site)
    browser.post("/locale", {"locale": "zh_Hant", "next": "/"})
    assert User.get_by_id(user.id).locale == "zh_Hant"
    other = Browser(app.test_client())
    other.login(user, site=site)
    assert _lang(other.get("/account/", headers={"Accept-Language": "zh-CN"})) == "zh-Hant"


def test_lazy_strings_render_outside_a_request(app):
    """The CLI and daily jobs turn lazy strings into text with no request at hand."""
    from core.i18n import _l

    assert str(_l("Dashboard")) == "工作台"
