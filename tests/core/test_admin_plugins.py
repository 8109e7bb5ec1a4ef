"""Plugins per site: list, enable, disable with confirmation, refusals naming both plugins.

Test plugins are registered for one test on the app's manager (STYLE rule 21).
"""

from __future__ import annotations

import contextlib

import pytest

from core import PluginInfo, bundles, hookimpl
from core.audit.models import AuditEvent
from core.testing import Browser, make_user, register_test_plugin


class Alpha:
    @hookimpl
    def plugin_info(self):
        return PluginInfo(name="gr_alpha", title="甲插件", description="登记居民的基础信息")


class Beta:
    @hookimpl
    def plugin_info(self):
        return PluginInfo(name="gr_beta", title="乙插件", description="网格走访",
                          requires=("gr_alpha",))


@pytest.fixture
def probes(app):
    with contextlib.ExitStack() as stack:
        stack.enter_context(register_test_plugin(app, Alpha(), "gr_alpha"))
        stack.enter_context(register_test_plugin(app, Beta(), "gr_beta"))
        yield


def signed_in(app, user, site=None) -> Browser:
    browser = Browser(app.test_client())
    browser.login(user, site=site)
    return browser


def main_of(response) -> str:
    text = response.get_data(as_text=True)
    return text[text.index('<main id="main">'):text.index("</main>")]


def flashes(browser) -> str:
    return main_of(browser.get("/admin/plugins/"))


def test_Z5_plugins_matrix(app, site, probes, client):
    for path in ("/admin/plugins/", "/admin/plugins/gr_alpha/disable"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.location
    for role in ("staff", "leader"):
        browser = signed_in(app, make_user(site, roles=(role,)), site)
        assert browser.get("/admin/plugins/").status_code == 403
        assert browser.get("/admin/plugins/gr_alpha/disable").status_code == 403
        assert browser.post("/admin/plugins/gr_alpha/enable").status_code == 403
    assert "gr_alpha" not in bundles.enabled_plugins(site)
    admin = signed_in(app, make_user(site, roles=("site_admin",)), site)
    assert admin.get("/admin/plugins/").status_code == 200


def test_list_shows_title_description_requirements_and_state(app, site, probes):
    bundles.enable(site, "gr_alpha")
    browser = signed_in(app, make_user(site, roles=("site_admin",)), site)
    text = main_of(browser.get("/admin/plugins/"))
    assert "甲插件" in text and "登记居民的基础信息" in text and "网格走访" in text
    beta_row = text[text.index("乙插件"):]
    assert "甲插件" in beta_row  # its requirement, by title
    assert 'action="/admin/plugins/gr_beta/enable"' in text
    assert 'href="/admin/plugins/gr_alpha/disable"' in text


def test_list_searches_and_pages(app, site, probes):
    app.config["PAGE_SIZE"] = 1
    browser = signed_in(app, make_user(site, roles=("site_admin",)), site)
    found = main_of(browser.get("/admin/plugins/", query_string={"q": "wangge"}))
    assert "/admin/plugins/gr_beta/enable" in found
    assert "/admin/plugins/gr_alpha/enable" not in found
    first = main_of(browser.get("/admin/plugins/"))
    second = main_of(browser.get("/admin/plugins/?page=2"))
    assert 'rel="next"' in first
    assert ("/admin/plugins/gr_alpha/enable" in first) != ("/admin/plugins/gr_alpha/enable"
                                                           in second)


def test_enable_refused_without_its_requirement_names_both(app, site, probes):
    browser = signed_in(app, make_user(site, roles=("site_admin",)), site)
    browser.post("/admin/plugins/gr_beta/enable")
    assert "gr_beta" not in bundles.enabled_plugins(site)
    text = flashes(browser)
    message = text[text.index('class="flash error"'):].split("</p>")[0]
    assert "乙插件" in message and "甲插件" in message


def test_enable_then_disable_after_confirmation_keeps_data_message(app, site, probes):
    browser = signed_in(app, make_user(site, roles=("site_admin",)), site)
    assert browser.post("/admin/plugins/gr_alpha/enable").status_code == 302
    assert "gr_alpha" in bundles.enabled_plugins(site)
    confirm = browser.get("/admin/plugins/gr_alpha/disable")
    assert confirm.status_code == 200 and "甲插件" in main_of(confirm)
    assert "gr_alpha" in bundles.enabled_plugins(site)
    browser.post("/admin/plugins/gr_alpha/disable")
    assert "gr_alpha" not in bundles.enabled_plugins(site)
    assert AuditEvent.select().where(AuditEvent.action == "core.plugin.disable").exists()


def test_disable_refused_while_required_names_both(app, site, probes):
    bundles.enable(site, "gr_alpha")
    bundles.enable(site, "gr_beta")
    browser = signed_in(app, make_user(site, roles=("site_admin",)), site)
    refused = browser.get("/admin/plugins/gr_alpha/disable")
    assert refused.status_code == 302
    browser.post("/admin/plugins/gr_alpha/disable")
    assert "gr_alpha" in bundles.enabled_plugins(site)
    text = flashes(browser)
    message = text[text.index('class="flash error"'):].split("</p>")[0]
    assert "甲插件" in message and "乙插件" in message


def test_unknown_plugin_is_404(app, site, probes):
    browser = signed_in(app, make_user(site, roles=("site_admin",)), site)
    assert browser.get("/admin/plugins/nowhere/disable").status_code == 404
    assert browser.post("/admin/plugins/nowhere/enable").status_code == 404


def test_Z2_site_admin_of_b_changes_only_b(app, two_sites, probes):
    a, b = two_sites
    bundles.enable(a, "gr_alpha")
    browser = signed_in(app, make_user(b, roles=("site_admin",)), b)
    assert browser.post("/site", {"site_id": a.id}).status_code == 404
    browser.post("/admin/plugins/gr_alpha/disable")
    browser.post("/admin/plugins/gr_beta/enable")
    assert bundles.enabled_plugins(a) >= {"gr_alpha"}
    text = main_of(browser.get("/admin/plugins/"))
    assert 'action="/admin/plugins/gr_alpha/enable"' in text  # b's own state: off
