"""Simplified and Traditional Chinese: the switch, the browser's language and the user's choice."""

from __future__ import annotations

import gettext

import pytest

from core.app import ROOT

pytestmark = pytest.mark.e2e


def translate(locale: str, msgid: str) -> str:
    catalog = gettext.translation("messages", str(ROOT / "locales"), languages=[locale])
    return catalog.gettext(msgid)


def test_switch_between_simplified_and_traditional(person):
    guest = person()
    page = guest.page
    guest.visit("/login", "sign-in-simplified")
    assert page.get_attribute("html", "lang") == "zh-Hans"
    assert page.inner_text("main h1") == translate("zh_Hans", "Sign in")
    guest.click("form.locale-switch button[value=zh_Hant]", "sign-in-traditional")
    assert page.get_attribute("html", "lang") == "zh-Hant"
    assert page.inner_text("main h1") == translate("zh_Hant", "Sign in")
    assert translate("zh_Hant", "Sign in") != translate("zh_Hans", "Sign in")


def test_traditional_browsers_get_traditional_and_the_choice_stays(person):
    taiwan = person(locale="zh-TW")
    page = taiwan.page
    taiwan.visit("/login", "sign-in-zh-TW")
    assert page.get_attribute("html", "lang") == "zh-Hant"

    staff = person()
    staff.sign_in("wangfang")
    staff.visit("/", "dashboard-simplified")
    menu = staff.page.locator("nav.menu")
    assert translate("zh_Hans", "Dashboard") in menu.inner_text()
    staff.click("form.locale-switch button[value=zh_Hant]", "dashboard-traditional")
    assert translate("zh_Hant", "Dashboard") in menu.inner_text()
    staff.visit("/inbox/", "inbox-traditional")
    assert staff.page.get_attribute("html", "lang") == "zh-Hant"
    assert staff.page.inner_text("main h1") == translate("zh_Hant", "Inbox")
