"""The account pages for API tokens: create (shown once), list, revoke with confirmation."""

from __future__ import annotations

import re

from core import identity
from core.audit.models import AuditEvent
from core.models import ApiToken
from core.security.tokens import token_digest
from core.testing import make_site, make_user

TOKEN = re.compile(r'<code class="secret">([A-Za-z0-9_-]{43})</code>')


def test_token_page_offers_only_sites_where_the_user_may_create_tokens(browser, two_sites):
    a, b = two_sites
    lonely = make_site(name="无关社区")
    user = make_user(a, roles=("staff",))
    identity.add_member(user, b, "supervisor")  # supervisors hold no core.api.token
    browser.login(user, site=a)
    page = browser.get("/account/tokens/new").get_data(as_text=True)
    form = page[page.index('id="f-site_id"'):page.index("</select>", page.index('id="f-site_id"'))]
    assert a.name in form
    assert b.name not in form and lonely.name not in form


def test_token_is_shown_once_and_only_its_hash_is_kept(browser, site):
    user = make_user(site, roles=("staff",))
    browser.login(user, site=site)
    response = browser.post("/account/tokens/new", {"name": "统计表", "site_id": site.id},
                            page="/account/tokens/new")
    assert response.status_code == 200
    token = TOKEN.search(response.get_data(as_text=True)).group(1)
    row = ApiToken.get(ApiToken.user == user)
    assert (row.name, row.site_id, row.token_hash) == ("统计表", site.id, token_digest(token))
    assert response.headers["Cache-Control"] == "no-store"
    listing = browser.get("/account/tokens/").get_data(as_text=True)
    assert "统计表" in listing and token not in listing
    assert browser.client.get("/api/v1/me", headers={
        "Authorization": f"Bearer {token}"}).status_code == 200


def test_token_form_keeps_input_and_names_the_field(browser, two_sites):
    a, b = two_sites
    user = make_user(a, roles=("staff",))
    browser.login(user, site=a)
    response = browser.post("/account/tokens/new", {"name": "", "site_id": a.id},
                            page="/account/tokens/new")
    assert response.status_code == 422
    assert 'id="e-name"' in response.get_data(as_text=True)
    response = browser.post("/account/tokens/new", {"name": "我的脚本", "site_id": b.id},
                            page="/account/tokens/new")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="e-site_id"' in page and 'value="我的脚本"' in page
    assert not ApiToken.select().exists()


def test_token_revocation_asks_first_then_revokes_and_audits(browser, site):
    user = make_user(site, roles=("staff",))
    browser.login(user, site=site)
    page = browser.post("/account/tokens/new", {"name": "旧脚本", "site_id": site.id},
                        page="/account/tokens/new").get_data(as_text=True)
    token = TOKEN.search(page).group(1)
    row = ApiToken.get(ApiToken.user == user)
    confirm = browser.get(f"/account/tokens/{row.id}/revoke")
    assert confirm.status_code == 200 and "旧脚本" in confirm.get_data(as_text=True)
    assert ApiToken.get_by_id(row.id).revoked_at is None  # asking changes nothing
    response = browser.post(f"/account/tokens/{row.id}/revoke", {},
                            page=f"/account/tokens/{row.id}/revoke")
    assert response.status_code == 302
    assert ApiToken.get_by_id(row.id).revoked_at is not None
    assert browser.client.get("/api/v1/me", headers={
        "Authorization": f"Bearer {token}"}).status_code == 401
    actions = [e.action for e in AuditEvent.select().where(
        AuditEvent.action.startswith("core.api_token"))]
    assert actions == ["core.api_token.create", "core.api_token.revoke"]


def test_another_users_token_is_not_there(browser, site):
    owner, other = make_user(site), make_user(site)
    browser.login(owner, site=site)
    browser.post("/account/tokens/new", {"name": "mine", "site_id": site.id},
                 page="/account/tokens/new")
    row = ApiToken.get(ApiToken.user == owner)
    browser.client.post("/logout", data={"csrf_token": browser.csrf("/")})
    browser.login(other, site=site)
    assert browser.get(f"/account/tokens/{row.id}/revoke").status_code == 404
    assert browser.post(f"/account/tokens/{row.id}/revoke", {}).status_code == 404
    assert "mine" not in browser.get("/account/tokens/").get_data(as_text=True)
    assert ApiToken.get_by_id(row.id).revoked_at is None


def test_token_pages_need_a_signed_in_user(client):
    response = client.get("/account/tokens/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
