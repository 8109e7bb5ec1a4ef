"""The site tree pages, for platform administrators (issue item 20; SECURITY Z5, Z6, E1)."""

from __future__ import annotations

import pytest

from core import identity
from core.audit.models import AuditEvent
from core.models import Site, SiteGrant
from core.testing import Browser, make_site, make_user


def signed_in(app, user, site=None) -> Browser:
    browser = Browser(app.test_client())
    browser.login(user, site=site)
    return browser


def main_of(response) -> str:
    """The page's own content, without the header's site switcher."""
    text = response.get_data(as_text=True)
    return text[text.index('<main id="main">'):text.index("</main>")]


@pytest.fixture
def tree(app):
    """A street office with two communities; the office holds a read grant over the first."""
    office = make_site("street_office", name="东城街道", code="dongcheng")
    first = make_site(parent=office, name="和平社区", code="heping")
    second = make_site(parent=office, name="幸福社区", code="xingfu")
    identity.grant(office, first, "read")
    return office, first, second


def routes(office, first):
    return ["/admin/sites/", "/admin/sites/new", f"/admin/sites/{office.id}",
            f"/admin/sites/{office.id}/rename",
            f"/admin/sites/{office.id}/grants/{first.id}/revoke"]


def test_Z5_site_tree_matrix_guest_goes_to_login(app, tree, client):
    for path in routes(tree[0], tree[1]):
        response = client.get(path)
        assert response.status_code == 302, path
        assert "/login" in response.location


@pytest.mark.parametrize("role", ["staff", "site_admin", "leader"])
def test_Z5_site_tree_matrix_site_roles_get_403(app, tree, role):
    browser = signed_in(app, make_user(tree[0], roles=(role,)), tree[0])
    for path in routes(tree[0], tree[1]):
        assert browser.get(path).status_code == 403, path
    for path in (f"/admin/sites/{tree[0].id}/grants/{tree[1].id}",
                 f"/admin/sites/{tree[0].id}/grants/{tree[1].id}/revoke",
                 f"/admin/sites/{tree[0].id}/rename", "/admin/sites/new"):
        assert browser.post(path, {"right": "approve", "name": "x"}).status_code == 403, path
    assert SiteGrant.get(child=tree[1]).right == "read"


def test_Z5_site_tree_matrix_platform_admin_gets_200(app, tree):
    browser = signed_in(app, make_user(platform_admin=True))
    for path in routes(tree[0], tree[1]):
        assert browser.get(path).status_code == 200, path


def test_platform_admin_reaches_the_tree_before_any_site_exists(app):
    browser = signed_in(app, make_user(platform_admin=True))
    page = browser.get("/admin/sites/")
    assert page.status_code == 200
    assert "/admin/sites/new" in page.get_data(as_text=True)


def test_tree_lists_children_under_their_parent(app, tree):
    other = make_site("village", name="前进村", code="aa-village")
    browser = signed_in(app, make_user(platform_admin=True))
    text = main_of(browser.get("/admin/sites/"))
    order = [text.index(name) for name in ("前进村", "东城街道", "和平社区", "幸福社区")]
    assert order == sorted(order)
    assert 'class="depth-1"' in text and other.code in text


def test_tree_pages(app, tree):
    app.config["PAGE_SIZE"] = 2
    browser = signed_in(app, make_user(platform_admin=True))
    first = main_of(browser.get("/admin/sites/"))
    second = main_of(browser.get("/admin/sites/?page=2"))
    assert "东城街道" in first and "和平社区" in first and "幸福社区" not in first
    assert "幸福社区" in second and "东城街道" not in second


@pytest.mark.parametrize("query", ["和平", "heping", "hpsq", "HePing", "和平社區", "ＨＥＰＩＮＧ"])
def test_tree_search_by_name_pinyin_script_or_code(app, tree, query):
    browser = signed_in(app, make_user(platform_admin=True))
    text = main_of(browser.get("/admin/sites/", query_string={"q": query}))
    assert "和平社区" in text
    assert "幸福社区" not in text


def test_create_site_under_a_parent(app, tree):
    office = tree[0]
    browser = signed_in(app, make_user(platform_admin=True))
    response = browser.post("/admin/sites/new", {"code": "new-station", "name": "新站",
                                                 "kind": "health_station",
                                                 "parent": office.id})
    created = Site.get(Site.code == "new-station")
    assert response.status_code == 302
    assert response.location.endswith(f"/admin/sites/{created.id}")
    assert (created.kind, created.parent_id, created.name) == ("health_station", office.id, "新站")
    assert AuditEvent.select().where(AuditEvent.action == "core.site.create",
                                     AuditEvent.object_id == str(created.id)).exists()


def test_create_site_refuses_a_kind_its_parent_cannot_hold_and_keeps_input(app, tree):
    community = tree[1]
    browser = signed_in(app, make_user(platform_admin=True))
    response = browser.post("/admin/sites/new", {"code": "odd-one", "name": "奇怪的村",
                                                 "kind": "village", "parent": community.id})
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'value="odd-one"' in text and 'value="奇怪的村"' in text
    assert 'id="e-parent"' in text
    assert not Site.select().where(Site.code == "odd-one").exists()


@pytest.mark.parametrize(("form", "field"), [
    ({"code": "has space", "name": "名", "kind": "village"}, "code"),
    ({"code": "", "name": "名", "kind": "village"}, "code"),
    ({"code": "ok-code", "name": "", "kind": "village"}, "name"),
    ({"code": "ok-code", "name": "名", "kind": "castle"}, "kind"),
    ({"code": "ok-code", "name": "名", "kind": "village", "parent": "999999"}, "parent"),
])
def test_create_site_names_the_field_it_refuses(app, form, field):
    browser = signed_in(app, make_user(platform_admin=True))
    response = browser.post("/admin/sites/new", form)
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'id="e-{field}"' in text
    assert not Site.select().where(Site.code == form["code"]).exists() or form["code"] == ""


def test_create_site_refuses_a_taken_code(app, tree):
    browser = signed_in(app, make_user(platform_admin=True))
    response = browser.post("/admin/sites/new", {"code": "heping", "name": "另一个",
                                                 "kind": "village"})
    assert response.status_code == 422
    assert 'id="e-code"' in response.get_data(as_text=True)
    assert Site.select().where(Site.code == "heping").count() == 1


def test_rename_site_rebuilds_search_and_audits(app, tree):
    first = tree[1]
    browser = signed_in(app, make_user(platform_admin=True))
    response = browser.post(f"/admin/sites/{first.id}/rename", {"name": "光明社区"})
    assert response.status_code == 302
    renamed = Site.get_by_id(first.id)
    assert renamed.name == "光明社区" and "guangming" in renamed.search
    assert AuditEvent.select().where(AuditEvent.action == "core.site.rename").exists()
    text = browser.get("/admin/sites/", query_string={"q": "guangming"}).get_data(as_text=True)
    assert "光明社区" in text


def test_rename_site_refuses_an_empty_name(app, tree):
    browser = signed_in(app, make_user(platform_admin=True))
    response = browser.post(f"/admin/sites/{tree[1].id}/rename", {"name": "  "})
    assert response.status_code == 422
    assert Site.get_by_id(tree[1].id).name == "和平社区"


def test_Z6_grant_then_revoke_after_confirmation(app, tree):
    office, _first, second = tree
    leader = make_user(office, roles=("staff",))
    browser = signed_in(app, make_user(platform_admin=True))
    assert browser.post(f"/admin/sites/{office.id}/grants/{second.id}",
                        {"right": "approve"}).status_code == 302
    assert identity.access(leader, second).grant == "approve"

    confirm = browser.get(f"/admin/sites/{office.id}/grants/{second.id}/revoke")
    assert confirm.status_code == 200
    assert SiteGrant.select().where(SiteGrant.child == second).exists()
    browser.post(f"/admin/sites/{office.id}/grants/{second.id}/revoke")
    assert identity.access(leader, second) is None
    assert AuditEvent.select().where(AuditEvent.action == "core.grant.revoke").exists()


def test_grant_refuses_an_unknown_right(app, tree):
    office, first, _second = tree
    browser = signed_in(app, make_user(platform_admin=True))
    browser.post(f"/admin/sites/{office.id}/grants/{first.id}", {"right": "own"})
    assert SiteGrant.get(child=first).right == "read"


def test_grant_over_a_site_that_is_not_a_child_is_404(app, tree):
    _office, first, second = tree
    browser = signed_in(app, make_user(platform_admin=True))
    assert browser.post(f"/admin/sites/{first.id}/grants/{second.id}",
                        {"right": "read"}).status_code == 404
    assert browser.get(f"/admin/sites/{first.id}/grants/{second.id}/revoke").status_code == 404
    assert browser.get("/admin/sites/999999").status_code == 404


def test_E1_confirmation_escapes_site_names(app):
    office = make_site("street_office", name="<script>alert(1)</script>街道")
    child = make_site(parent=office, name='"><img src=x onerror=alert(2)>')
    identity.grant(office, child, "read")
    browser = signed_in(app, make_user(platform_admin=True))
    text = browser.get(f"/admin/sites/{office.id}/grants/{child.id}/revoke").get_data(
        as_text=True)
    assert "<script>alert(1)" not in text and "&lt;script&gt;alert(1)" in text
    assert "<img src=x" not in text
