"""A site administrator enables and disables plugins; requirements hold both ways."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e


def row(plugin: str) -> str:
    """The plugins table's row of ``plugin``."""
    return f"tbody tr:has(code:text-is('{plugin}'))"


def enabled(page, plugin: str) -> bool:
    return page.locator(f"{row(plugin)} .status.ok").count() == 1


def test_site_admin_enables_and_disables_plugins_with_their_requirements(person):
    admin = person()
    admin.sign_in("zhouhong")
    page = admin.page
    admin.visit("/admin/plugins/", "plugins")

    # the add-on needs the base plugin: refused, and the message names it
    admin.click(f"{row('e2e_addon')} form button", "addon-refused")
    assert "测试基础插件" in page.inner_text("main .flash.error")
    assert not enabled(page, "e2e_addon")

    admin.click(f"{row('e2e_base')} form button", "base-enabled")
    assert enabled(page, "e2e_base")
    admin.visit("/", "dashboard-with-base")
    assert "测试面板的内容" in page.inner_text("main")

    admin.visit("/admin/plugins/", "plugins")
    admin.click(f"{row('e2e_addon')} form button", "addon-enabled")
    assert enabled(page, "e2e_addon")
    admin.click("nav.menu a:text-is('附加页面')", "addon-page")
    assert page.inner_text("main h1") == "附加页面"

    # the base cannot go while the add-on needs it
    admin.visit("/admin/plugins/", "plugins")
    admin.click(f"{row('e2e_base')} a.button", "base-refused")
    assert "测试附加插件" in page.inner_text("main .flash.error")
    assert enabled(page, "e2e_base")

    # disabling asks first, then the add-on's page is gone from this site
    admin.click(f"{row('e2e_addon')} a.button", "addon-confirm")
    admin.submit("main form", "addon-disabled")
    assert not enabled(page, "e2e_addon")
    assert page.locator("nav.menu a:text-is('附加页面')").count() == 0
    response = admin.visit("/e2e-addon/", "addon-page-gone")
    assert response.status == 404

