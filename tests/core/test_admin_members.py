"""Members of the current site: list, new and existing users, roles, removal (issue item 20).

SECURITY Z2 (other sites' users are 404), Z5 (role matrix), A7 (initial
passwords), E1 (escaped names on the confirmation page, Indico CVE-2023-37901).
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

from core import auth, identity
from core.audit.models import AuditEvent
from core.models import Membership, User
from core.security import passwords
from core.storage import utcnow
from core.testing import Browser, make_user


def signed_in(app, user, site=None) -> Browser:
    browser = Browser(app.test_client())
    browser.login(user, site=site)
    return browser


def main_of(response) -> str:
    text = response.get_data(as_text=True)
    return text[text.index('<main id="main">'):text.index("</main>")]


def roles_in(user, site) -> set[str]:
    return {m.role for m in Membership.select().where(Membership.user == user,
                                                      Membership.site == site)}


ADMIN_GETS = ["/admin/members/new", "/admin/members/add", "/admin/members/{id}/remove"]
ADMIN_POSTS = ["/admin/members/new", "/admin/members/add", "/admin/members/{id}/roles",
               "/admin/members/{id}/remove"]
VIEW_GETS = ["/admin/members/", "/admin/members/{id}"]


def test_Z5_members_matrix_guest_goes_to_login(app, site, client):
    member = make_user(site)
    for path in ADMIN_GETS + VIEW_GETS:
        response = client.get(path.format(id=member.id))
        assert response.status_code == 302 and "/login" in response.location, path


def test_Z5_members_matrix_staff_gets_403(app, site):
    member = make_user(site)
    browser = signed_in(app, make_user(site, roles=("staff",)), site)
    for path in ADMIN_GETS + VIEW_GETS:
        assert browser.get(path.format(id=member.id)).status_code == 403, path
    for path in ADMIN_POSTS:
        assert browser.post(path.format(id=member.id), {
            "roles": "site_admin", "username": "x1", "display_name": "x", "role": "staff",
        }).status_code == 403, path
    assert roles_in(member, site) == {"staff"}


def test_Z5_members_matrix_leader_may_view_but_not_change(app, site):
    member = make_user(site)
    browser = signed_in(app, make_user(site, roles=("leader",)), site)
    for path in VIEW_GETS:
        assert browser.get(path.format(id=member.id)).status_code == 200, path
    for path in ADMIN_GETS:
        assert browser.get(path.format(id=member.id)).status_code == 403, path
    assert "/admin/members/new" not in main_of(browser.get("/admin/members/"))


def test_Z5_members_matrix_site_admin_gets_200(app, site):
    member = make_user(site)
    browser = signed_in(app, make_user(site, roles=("site_admin",)), site)
    for path in ADMIN_GETS + VIEW_GETS:
        assert browser.get(path.format(id=member.id)).status_code == 200, path


def test_Z2_site_admin_of_b_gets_404_for_a_members(app, two_sites):
    a, b = two_sites
    stranger = make_user(a, roles=("staff",))
    browser = signed_in(app, make_user(b, roles=("site_admin",)), b)
    for path in ADMIN_GETS[2:] + VIEW_GETS[1:]:
        assert browser.get(path.format(id=stranger.id)).status_code == 404, path
    for path in ADMIN_POSTS[2:]:
        assert browser.post(path.format(id=stranger.id),
                            {"roles": "site_admin"}).status_code == 404, path
    assert browser.post("/site", {"site_id": a.id}).status_code == 404
    assert stranger.display_name not in main_of(browser.get("/admin/members/"))
    assert roles_in(stranger, a) == {"staff"}


def test_members_list_searches_name_pinyin_and_username(app, site):
    admin = make_user(site, roles=("site_admin",))
    for username, name in (("zxm01", "张晓明"), ("lisi", "李四")):
        person = identity.create_user(username=username, display_name=name, password_hash="x")
        identity.add_member(person, site, "staff")
    browser = signed_in(app, admin, site)
    for query, present, absent in [("张晓明", "张晓明", "李四"), ("zhangxiao", "张晓明", "李四"),
                                   ("zxm", "张晓明", "李四"), ("lisi", "李四", "张晓明"),
                                   ("張曉明", "张晓明", "李四")]:
        text = main_of(browser.get("/admin/members/", query_string={"q": query}))
        assert present in text and absent not in text, query


def test_members_list_pages(app, site):
    admin = make_user(site, roles=("site_admin",))
    for _ in range(3):
        make_user(site)
    app.config["PAGE_SIZE"] = 2
    browser = signed_in(app, admin, site)
    first = main_of(browser.get("/admin/members/"))
    last = main_of(browser.get("/admin/members/?page=2"))
    member_link = re.compile(r'href="/admin/members/\d+"')
    assert len(member_link.findall(first)) == 2
    assert len(member_link.findall(last)) == 2
    assert 'rel="prev"' in last


def test_A7_new_user_gets_an_initial_password_shown_once(app, site):
    browser = signed_in(app, make_user(site, roles=("site_admin",)), site)
    response = browser.post("/admin/members/new", {"username": "wangwu", "display_name": "王五",
                                                   "role": "staff"})
    text = main_of(response)
    assert response.status_code == 200
    shown = re.search(r'<code class="secret">([^<]+)</code>', text).group(1)
    user = User.get(User.username == "wangwu")
    assert passwords.verify_password(auth.hasher(), user.password_hash, shown)
    assert user.must_change_password and not user.is_platform_admin
    remaining = user.initial_password_expires_at - utcnow()
    assert dt.timedelta(hours=71) < remaining <= dt.timedelta(hours=72)
    assert roles_in(user, site) == {"staff"}
    assert shown not in browser.get(f"/admin/members/{user.id}").get_data(as_text=True)
    assert AuditEvent.select().where(AuditEvent.action == "core.user.create").exists()


def test_new_user_cannot_be_made_a_platform_admin(app, site):
    browser = signed_in(app, make_user(site, roles=("site_admin",)), site)
    browser.post("/admin/members/new", {"username": "sneaky", "display_name": "某人",
                                        "role": "site_admin", "is_platform_admin": "1"})
    assert not User.get(User.username == "sneaky").is_platform_admin


@pytest.mark.parametrize(("form", "field"), [
    ({"username": "a b", "display_name": "王五", "role": "staff"}, "username"),
    ({"username": "wangwu", "display_name": "", "role": "staff"}, "display_name"),
    ({"username": "wangwu", "display_name": "王五", "role": "platform_admin"}, "role"),
])
def test_new_user_refused_names_the_field_and_keeps_input(app, site, form, field):
    browser = signed_in(app, make_user(site, roles=("site_admin",)), site)
    response = browser.post("/admin/members/new", form)
    text = main_of(response)
    assert response.status_code == 422
    assert f'id="e-{field}"' in text
    assert f'value="{form["username"]}"' in text
    assert not User.select().where(User.username == form["username"]).exists()


def test_new_user_with_a_taken_username_is_refused(app, site):
    taken = make_user(site)
    browser = signed_in(app, make_user(site, roles=("site_admin",)), site)
    response = browser.post("/admin/members/new", {"username": taken.username,
                                                   "display_name": "别人", "role": "staff"})
    assert response.status_code == 422
    assert 'id="e-username"' in main_of(response)


def test_add_an_existing_user_by_exact_username(app, two_sites):
    a, b = two_sites
    elsewhere = make_user(a)
    browser = signed_in(app, make_user(b, roles=("site_admin",)), b)
    response = browser.post("/admin/members/add", {"username": elsewhere.username,
                                                   "role": "supervisor"})
    assert response.status_code == 302
    assert roles_in(elsewhere, b) == {"supervisor"}
    assert roles_in(elsewhere, a) == {"staff"}


def test_add_an_unknown_username_is_refused(app, site):
    browser = signed_in(app, make_user(site, roles=("site_admin",)), site)
    response = browser.post("/admin/members/add", {"username": "nobody", "role": "staff"})
    assert response.status_code == 422
    assert 'id="e-username"' in main_of(response) and 'value="nobody"' in main_of(response)


def test_change_roles(app, site):
    member = make_user(site, roles=("staff",))
    browser = signed_in(app, make_user(site, roles=("site_admin",)), site)
    response = browser.post(f"/admin/members/{member.id}/roles",
                            {"roles": ["leader", "supervisor"]})
    assert response.status_code == 302
    assert roles_in(member, site) == {"leader", "supervisor"}
    assert AuditEvent.select().where(AuditEvent.action == "core.member.remove").exists()


def test_change_roles_needs_at_least_one(app, site):
    member = make_user(site, roles=("staff",))
    browser = signed_in(app, make_user(site, roles=("site_admin",)), site)
    response = browser.post(f"/admin/members/{member.id}/roles", {})
    assert response.status_code == 422
    assert 'id="e-roles"' in main_of(response)
    assert roles_in(member, site) == {"staff"}


def test_an_admin_cannot_drop_their_own_admin_role(app, site):
    admin = make_user(site, roles=("site_admin",))
    browser = signed_in(app, admin, site)
    response = browser.post(f"/admin/members/{admin.id}/roles", {"roles": ["staff"]})
    assert response.status_code == 422
    assert roles_in(admin, site) == {"site_admin"}


def test_remove_member_after_confirmation_keeps_the_account(app, site):
    member = make_user(site, roles=("staff", "supervisor"))
    browser = signed_in(app, make_user(site, roles=("site_admin",)), site)
    page = browser.get(f"/admin/members/{member.id}/remove")
    assert page.status_code == 200 and roles_in(member, site) == {"staff", "supervisor"}
    assert f'action="/admin/members/{member.id}/remove"' in page.get_data(as_text=True)
    response = browser.post(f"/admin/members/{member.id}/remove")
    assert response.status_code == 302
    assert roles_in(member, site) == set()
    assert User.get_by_id(member.id).is_active


def test_E1_remove_confirmation_escapes_the_name(app, site):
    member = make_user(site)
    User.update(display_name='<img src=x onerror="alert(1)">').where(
        User.id == member.id).execute()
    browser = signed_in(app, make_user(site, roles=("site_admin",)), site)
    text = browser.get(f"/admin/members/{member.id}/remove").get_data(as_text=True)
    assert "<img src=x" not in text
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in text


def test_an_admin_cannot_remove_themselves(app, site):
    admin = make_user(site, roles=("site_admin",))
    browser = signed_in(app, admin, site)
    browser.post(f"/admin/members/{admin.id}/remove")
    assert roles_in(admin, site) == {"site_admin"}
