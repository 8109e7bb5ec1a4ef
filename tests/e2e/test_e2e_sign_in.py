"""Signing in and out in a real browser, with the second factor (SECURITY A6, S3, F2)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e


def test_A6_administrator_signs_in_with_a_totp_code(person):
    admin = person()
    admin.sign_in("admin")
    page = admin.page
    assert page.locator("header.top").get_by_text("赵建国").is_visible()
    assert page.locator("main h1").inner_text().strip()
    admin.visit("/account/", "account")
    options = page.locator("#site-switch option").all_inner_texts()
    assert sorted(options) == sorted(s.name for s in admin.live.demo.sites.values())


def test_A6_wrong_code_is_refused_and_staff_sign_in_with_a_password(person, live):
    leader = person()
    leader.visit("/login", "sign-in")
    leader.page.fill("#f-username", "liming")
    leader.page.fill("#f-password", live.demo.password)
    leader.submit("main form", "second-factor")
    leader.page.fill("#f-code", "000000")
    leader.submit("main form", "second-factor-refused")
    assert leader.page.locator("#f-code").count() == 1
    assert leader.page.locator("main [role=alert]").count() == 1

    staff = person()
    staff.sign_in("wangfang")
    staff.visit("/inbox/", "inbox")
    assert "欢迎使用基层治理平台" in staff.page.content()


def test_S3_signing_out_ends_the_session(person):
    staff = person()
    staff.sign_in("wangfang")
    staff.visit("/", "dashboard")
    staff.submit("form[action='/logout']", "signed-out")
    assert "/login" in staff.page.url
    staff.visit("/inbox/", "inbox-after-sign-out")
    assert "/login" in staff.page.url


def test_F2_pages_work_under_the_content_security_policy(chromium, live):
    """Without bypass_csp: no page needs an inline script or style the CSP blocks."""
    context = chromium.new_context()
    try:
        page = context.new_page()
        blocked = []
        page.on("console", lambda msg: blocked.append(msg.text)
                if "Content Security Policy" in msg.text else None)
        page.goto(live.url + "/login")
        page.fill("#f-username", "wangfang")
        page.fill("#f-password", live.demo.password)
        with page.expect_navigation():
            page.click("main form button[type=submit]")
        for path in ("/", "/inbox/", "/account/"):
            page.goto(live.url + path)
        assert blocked == []
    finally:
        context.close()
