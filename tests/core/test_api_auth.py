"""Bearer tokens: who the API sees, and who it refuses (SECURITY S2, F1, Z1; ASVS 7.2.3)."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest

from core import identity
from core.api import tokens
from core.audit.models import AuditEvent
from core.models import ApiToken, Membership, User
from core.storage import utcnow
from core.testing import make_user
from core.web.access import declared_permission


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def holder(site):
    """A staff member of ``site`` with a token for it: ``(user, token)``."""
    user = make_user(site, roles=("staff",))
    _row, token = tokens.create_token(user, site, "spreadsheet")
    return user, token


def test_S2_only_the_sha256_of_a_token_is_stored(holder):
    user, token = holder
    row = ApiToken.get(ApiToken.user == user)
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert len(token) == 43
    stored = [str(v) for v in row.__data__.values()]
    assert token not in stored
    event = AuditEvent.select().where(AuditEvent.action == "core.api_token.create").get()
    assert token not in str(event.__data__) and row.token_hash not in str(event.__data__)


def test_api_bearer_token_acts_as_its_user_in_its_site(client, site, holder):
    user, token = holder
    response = client.get("/api/v1/me", headers=bearer(token))
    assert response.status_code == 200
    body = response.get_json()
    assert body["user"] == {"id": user.id, "username": user.username,
                            "display_name": user.display_name}
    assert body["site"]["id"] == site.id
    assert body["roles"] == ["staff"]
    assert "core.api.token" in body["permissions"]
    assert "core.site.admin" not in body["permissions"]
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("header", [
    None,
    "Bearer",
    "Bearer not-a-token",
    "Basic dXNlcjpwYXNz",
    "Bearer " + "x" * 500,
])
def test_api_401_without_a_valid_token(client, holder, header):
    headers = {"Authorization": header} if header else {}
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401
    assert response.get_json()["code"] == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_api_401_after_revocation_on_the_very_next_request(client, holder):
    user, token = holder
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    tokens.revoke_token(ApiToken.get(ApiToken.user == user))
    response = client.get("/api/v1/me", headers=bearer(token))
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert AuditEvent.select().where(AuditEvent.action == "core.api_token.revoke").count() == 1


def test_api_token_refused_once_its_user_loses_access_to_the_site(client, site, holder):
    user, token = holder
    identity.remove_member(Membership.get(Membership.user == user, Membership.site == site))
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401


def test_api_token_refused_for_a_disabled_user(client, holder):
    user, token = holder
    User.update(is_active=False).where(User.id == user.id).execute()
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401


def test_api_token_of_another_site_sees_only_that_site(client, two_sites):
    a, b = two_sites
    user = make_user(a, roles=("staff",))
    identity.add_member(user, b, "staff")
    _row, token_b = tokens.create_token(user, b, "b only")
    assert client.get("/api/v1/me", headers=bearer(token_b)).get_json()["site"]["id"] == b.id


def test_api_last_used_at_is_written_at_most_once_a_minute(client, holder):
    user, token = holder
    client.get("/api/v1/me", headers=bearer(token))
    first = ApiToken.get(ApiToken.user == user).last_used_at
    assert first is not None
    client.get("/api/v1/me", headers=bearer(token))
    assert ApiToken.get(ApiToken.user == user).last_used_at == first
    earlier = utcnow() - dt.timedelta(seconds=61)
    ApiToken.update(last_used_at=earlier).where(ApiToken.user == user).execute()
    client.get("/api/v1/me", headers=bearer(token))
    assert ApiToken.get(ApiToken.user == user).last_used_at > earlier


def test_F1_api_ignores_the_session_cookie(browser, site):
    user = make_user(site, roles=("staff",))
    browser.login(user, site=site)
    assert browser.get("/inbox/").status_code == 200
    assert browser.get("/api/v1/me").status_code == 401
    # a cross-site form post riding on the cookie gets nowhere, CSRF token or not
    assert browser.client.post("/api/v1/notifications/read", json={}).status_code == 401


def test_F1_api_writes_with_a_bearer_token_need_no_csrf_token(client, holder):
    _user, token = holder
    response = client.post("/api/v1/notifications/read", json={}, headers=bearer(token))
    assert response.status_code == 200


def test_F1_pages_still_refuse_writes_without_csrf(client, site, holder):
    _user, token = holder
    # a bearer token is no way around CSRF outside /api/
    response = client.post("/inbox/read", headers=bearer(token))
    assert response.status_code in (302, 400)
    assert response.status_code != 200


def test_Z1_every_api_rule_declares_a_permission(app):
    missing = [rule.rule for rule in app.url_map.iter_rules()
               if rule.rule.startswith("/api/")
               and declared_permission(app.view_functions[rule.endpoint]) is None]
    assert missing == []


def test_api_writes_are_audited_as_the_tokens_user(client, site):
    admin = make_user(site, roles=("site_admin",))
    _row, token = tokens.create_token(admin, site, "settings robot")
    response = client.patch("/api/v1/settings/core", json={"audit_retention_days": 400},
                            headers=bearer(token))
    assert response.status_code == 200
    event = AuditEvent.select().where(AuditEvent.action == "core.setting.change").get()
    assert (event.actor_id, event.actor_site_id, event.site_id) == (admin.id, site.id, site.id)
    assert event.request_id == response.headers["X-Request-Id"]
