"""A person of one community cannot reach another community's pages (SECURITY Z2: 404)."""

from __future__ import annotations

import pytest

from core import bundles

pytestmark = pytest.mark.e2e


def test_Z2_staff_cannot_switch_to_or_open_another_community(person, live):
    village = live.demo.sites["dongfeng"]
    bundles.enable(village, "e2e_base")
    bundles.enable(village, "e2e_addon")

    villager = person()
    villager.sign_in("sunli")
    assert villager.visit("/e2e-addon/", "village-addon-page").status == 200

    staff = person()
    staff.sign_in("wangfang")
    page = staff.page
    staff.visit("/", "dashboard")
    assert page.locator("#site-switch option").all_inner_texts() == ["阳光社区"]
    # a forged switch to the village: the form is the real one, only the id is foreign
    page.eval_on_selector("#site-switch option", "(o, id) => { o.value = id; }", village.id)
    with page.expect_navigation() as forged:
        page.eval_on_selector("form.site-switch", "f => f.submit()")
    assert forged.value.status == 404
    staff.check("forged-switch")
    assert "东风村" not in page.inner_text("body")
    assert staff.visit("/e2e-addon/", "addon-page-elsewhere").status == 404
    staff.visit("/", "dashboard-after")
    assert page.inner_text("main h1") == "阳光社区"


def test_Z2_site_admin_cannot_open_another_sites_member(person, live):
    villager = live.user("sunli")
    admin = person()
    admin.sign_in("zhouhong")
    assert admin.visit(f"/admin/members/{villager.id}", "foreign-member").status == 404
    assert "孙丽" not in admin.page.inner_text("body")
    own = live.user("wangfang")
    assert admin.visit(f"/admin/members/{own.id}", "own-member").status == 200
    assert "王芳" in admin.page.inner_text("main")
