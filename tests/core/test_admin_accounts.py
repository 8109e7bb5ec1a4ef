"""Account-wide actions on a member: disable, enable, unlock, sessions, password, MFA.

SECURITY A4 (lock shown and lifted by the site administrator), S5 (disabling
and "end sessions" end the user's sessions), A7 (a new initial password), Z2
(other sites' users are 404), Z5 (role matrix).
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

from core import auth
from core.audit.models import AuditEvent
from core.models import User
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


def fresh(user) -> User:
    return User.get_by_id(user.id)


CONFIRMED = ["/admin/members/{id}/disable", "/admin/members/{id}/password",
             "/admin/members/{id}/mfa"]
POSTS = [*CONFIRMED, "/admin/members/{id}/enable", "/admin/members/{id}/unlock",
         "/admin/members/{id}/sessions"]


def test_Z5_accounts_matrix_guest_goes_to_login(app, site, client):
    member = make_user(site)
    for path in CONFIRMED:
        response = client.get(path.format(id=member.id))
        assert response.status_code == 302 and "/login" in response.location, path


@pytest.mark.parametrize("role", ["staff", "leader", "supervisor"])
def test_Z5_accounts_matrix_other_roles_get_403(app, site, role):
    member = make_user(site, roles=("staff",), totp_secret="JBSWY3DPEHPK3PXP")
    browser = signed_in(app, make_user(site, roles=(role,)), site)
    for path in CONFIRMED:
        assert browser.get(path.format(id=member.id)).status_code == 403, path
    for path in POSTS:
        assert browser.post(path.format(id=member.id)).status_code == 403, path
    member = fresh(member)
    assert member.is_active and member.totp_secret


def test_Z5_accounts_matrix_site_admin_gets_200(app, site):
    member = make_user(site, roles=("staff",), totp_secret="JBSWY3DPEHPK3PXP")
    browser = signed_in(app, make_user(site, roles=("site_admin",)), site)
    for path in CONFIRMED:
        assert browser.get(path.format(id=member.id)).status_code == 200, path


def test_Z2_site_admin_of_b_gets_404_for_a_accounts(app, two_sites):
    a, b = two_sites
    stranger = make_user(a, roles=("staff",), totp_secret="JBSWY3DPEHPK3PXP")
    browser = signed_in(app, make_user(b, roles=("site_admin",)), b)
    for path in CONFIRMED:
        assert browser.get(path.format(id=stranger.id)).status_code == 404, path
    for path in POSTS:
        assert browser.post(path.format(id=stranger.id)).status_code == 404, path
    stranger = fresh(stranger)
    assert stranger.is_active and stranger.totp_secret


def test_S5_disable_after_confirmation_ends_the_sessions(app, site):
    member = make_user(site, roles=("staff",))
    theirs = signed_in(app, member, site)
    assert theirs.get("/").status_code == 200
    browser = signed_in(app, make_user(site, roles=("site_admin",)), site)
    page = browser.get(f"/admin/members/{member.id}/disable")
    assert page.status_code == 200 and fresh(member).is_active
    browser.post(f"/admin/members/{member.id}/disable")
    assert not fresh(member).is_active
    response = theirs.get("/")
    assert response.status_code == 302 and "/login" in response.location
    assert 'class="status err"' in main_of(browser.get("/admin/members/"))
    assert AuditEvent.select().where(AuditEvent.action == "auth.disable").exists()

    browser.post(f"/admin/members/{member.id}/enable")
    assert fresh(member).is_active
    assert AuditEvent.select().where(AuditEvent.action == "auth.enable").exists()


def test_A4_lock_is_shown_and_lifted(app, site):
    member = make_user(site)
    User.update(failed_logins=5, locked_until=utcnow() + dt.timedelta(minutes=15)).where(
        User.id == member.id).execute()
    browser = signed_in(app, make_user(site, roles=("site_admin",)), site)
    assert 'class="status warn"' in main_of(browser.get("/admin/members/"))
    detail = main_of(browser.get(f"/admin/members/{member.id}"))
    assert f'action="/admin/members/{member.id}/unlock"' in detail
    browser.post(f"/admin/members/{member.id}/unlock")
    member = fresh(member)
    assert member.locked_until is None and member.failed_logins == 0
    assert AuditEvent.select().where(AuditEvent.action == "auth.unlock").exists()


def test_S5_end_sessions(app, site):
    member = make_user(site, roles=("staff",))
    theirs = signed_in(app, member, site)
    browser = signed_in(app, make_user(site, roles=("site_admin",)), site)
    browser.post(f"/admin/members/{member.id}/sessions")
    response = theirs.get("/")
    assert response.status_code == 302 and "/login" in response.location


def test_A7_new_initial_password_after_confirmation(app, site):
    member = make_user(site)
    browser = signed_in(app, make_user(site, roles=("site_admin",)), site)
    old_hash = fresh(member).password_hash
    assert browser.get(f"/admin/members/{member.id}/password").status_code == 200
    assert fresh(member).password_hash == old_hash
    text = main_of(browser.post(f"/admin/members/{member.id}/password"))
    shown = re.search(r'<code class="secret">([^<]+)</code>', text).group(1)
    member = fresh(member)
    assert passwords.verify_password(auth.hasher(), member.password_hash, shown)
    assert member.must_change_password


def test_remove_second_factor_after_confirmation(app, site):
    member = make_user(site, roles=("staff",), totp_secret="JBSWY3DPEHPK3PXP")
    browser = signed_in(app, make_user(site, roles=("site_admin",)), site)
    assert browser.get(f"/admin/members/{member.id}/mfa").status_code == 200
    assert fresh(member).totp_secret
    browser.post(f"/admin/members/{member.id}/mfa")
    assert fresh(member).totp_secret is None


def test_site_admin_cannot_change_a_member_of_other_sites_too(app, two_sites):
    a, b = two_sites
    shared = make_user(a, roles=("staff",))
    from core import identity

    identity.add_member(shared, b, "staff")
    browser = signed_in(app, make_user(b, roles=("site_admin",)), b)
    browser.post(f"/admin/members/{shared.id}/disable")
    browser.post(f"/admin/members/{shared.id}/password")
    shared_now = fresh(shared)
    assert shared_now.is_active and shared_now.password_hash == shared.password_hash

    platform = signed_in(app, make_user(platform_admin=True), b)
    platform.post(f"/admin/members/{shared.id}/disable")
    assert not fresh(shared).is_active


def test_site_admin_cannot_disable_a_platform_admin_or_themselves(app, site):
    admin = make_user(site, roles=("site_admin",))
    boss = make_user(site, roles=("staff",), platform_admin=True)
    browser = signed_in(app, admin, site)
    browser.post(f"/admin/members/{boss.id}/disable")
    browser.post(f"/admin/members/{admin.id}/disable")
    assert fresh(boss).is_active and fresh(admin).is_active


def test_E1_disable_confirmation_escapes_the_name(app, site):
    member = make_user(site)
    User.update(display_name="<script>alert(1)</script>").where(User.id == member.id).execute()
    browser = signed_in(app, make_user(site, roles=("site_admin",)), site)
    text = browser.get(f"/admin/members/{member.id}/disable").get_data(as_text=True)
    assert "<script>alert(1)" not in text and "&lt;script&gt;alert(1)" in text
