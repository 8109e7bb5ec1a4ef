"""Stored script in names and messages is shown as text everywhere (SECURITY E1).

The browser context bypasses the CSP (see conftest), so an unescaped payload would run
and set ``window.__xss``; :meth:`Session.check` fails every page where it did.
"""

from __future__ import annotations

import pytest

from core import bundles, identity, notifications
from core.auth import hash_password

pytestmark = pytest.mark.e2e

XSS = '<script>window.__xss=1</script><img src=x onerror="window.__xss=1">'


@pytest.fixture
def planted(live):
    """A site, a person and a message whose texts are the payload."""
    site = identity.create_site(code="xss", name=XSS, kind="urban_community",
                                parent=live.demo.sites["heping"])
    user = identity.create_user(username="xss", display_name=XSS,
                                password_hash=hash_password(live.demo.password))
    identity.add_member(user, site, "staff")
    identity.add_member(user, live.demo.sites["yangguang"], "staff")
    notifications.notify(user, site, kind="e2e.xss", title=XSS, body=XSS)
    bundles.enable(site, "e2e_base")
    return site, user


def shows_payload(session, where: str = "main") -> bool:
    return XSS in session.page.inner_text(where)


@pytest.mark.usefixtures("planted")
def test_E1_payload_owner_sees_text_not_script(person):
    victim = person()
    victim.sign_in("xss")
    victim.visit("/", "dashboard")
    assert shows_payload(victim, "main h1")
    assert XSS in victim.page.locator("#site-switch").inner_text()
    assert shows_payload(victim, "header.top")
    victim.visit("/inbox/", "inbox")
    assert victim.page.inner_text("main").count(XSS) == 2
    victim.visit("/account/", "account")
    assert shows_payload(victim)


def test_E1_administration_pages_show_the_payload_as_text(person, live, planted):
    site, user = planted
    admin = person()
    admin.sign_in("admin")
    admin.visit("/admin/sites/", "sites")
    assert shows_payload(admin)
    admin.visit(f"/admin/sites/{site.id}", "site")
    assert shows_payload(admin)
    admin.switch_site(site, "dashboard")
    assert shows_payload(admin, "main h1")
    for path, label in (("/admin/members/", "members"),
                        (f"/admin/members/{user.id}", "member"),
                        (f"/admin/members/{user.id}/remove", "member-remove-confirmation"),
                        ("/admin/plugins/e2e_base/disable", "plugin-disable-confirmation"),
                        ("/admin/settings/", "settings"),
                        ("/admin/plugins/", "plugins"),
                        ("/audit/", "audit-log"),
                        ("/audit/print", "audit-print")):
        admin.visit(path, label)
        assert shows_payload(admin), label
    # creating a site or a user is a platform event (chain 0); its record holds the name
    for action, obj in (("core.site.create", site), ("core.user.create", user)):
        admin.visit(f"/audit/?site=0&action={action}", f"audit-{action}")
        admin.click(f"table.audit-events tbody tr:has-text('#{obj.id}') a", f"{action}-event")
        assert shows_payload(admin, "main table"), action
