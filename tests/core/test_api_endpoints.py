"""The kernel's API endpoints: me, sites, notifications, settings (SECURITY Z2, Z4)."""

from __future__ import annotations

import json

import pytest

from core import bundles, identity, notifications, settings
from core.api import tokens
from core.app import create_app
from core.context import Actor, acting_as
from core.models import Notification, SettingValue
from core.plugins import PluginInfo, hookimpl
from core.testing import IsolatedClient, make_site, make_user


class Api:
    """A test client that sends one token."""

    def __init__(self, client, token):
        self.client, self.headers = client, {"Authorization": f"Bearer {token}"}

    def __getattr__(self, method):
        def call(path, **kwargs):
            return getattr(self.client, method)(path, headers=self.headers, **kwargs)

        return call


def api_for(client, user, site) -> Api:
    _row, token = tokens.create_token(user, site, "test")
    return Api(client, token)


# -- me and sites ---------------------------------------------------------------


def test_api_me_names_roles_permissions_and_plugins(client, site):
    admin = make_user(site, roles=("site_admin", "staff"))
    body = api_for(client, admin, site).get("/api/v1/me").get_json()
    assert body["roles"] == ["site_admin", "staff"]
    assert {"core.site.admin", "core.api.token"} <= set(body["permissions"])
    assert body["grant"] is None and body["platform_admin"] is False
    assert body["enabled_plugins"] == sorted(bundles.enabled_plugins(site))


def test_api_sites_lists_the_accessible_sites_with_the_paging_header(client, two_sites):
    a, b = two_sites
    make_site(name="别人的社区")
    user = make_user(a, roles=("staff",))
    identity.add_member(user, b, "staff")
    api = api_for(client, user, a)
    response = api.get("/api/v1/sites")
    assert [s["id"] for s in response.get_json()] == [a.id, b.id]
    paging = json.loads(response.headers["X-Pagination"])
    assert paging["total"] == 2 and paging["total_pages"] == 1
    response = api.get("/api/v1/sites?page=2&page_size=1")
    assert [s["id"] for s in response.get_json()] == [b.id]
    assert json.loads(response.headers["X-Pagination"])["previous_page"] == 1


@pytest.mark.parametrize("query", ["page=0", "page_size=0", "page_size=101", "page=x"])
def test_api_paging_parameters_out_of_range_are_422(client, site, query):
    api = api_for(client, make_user(site), site)
    response = api.get(f"/api/v1/notifications?{query}")
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"query"}


def test_api_a_page_far_past_the_end_is_empty_not_an_error(client, site):
    api = api_for(client, make_user(site), site)
    response = api.get(f"/api/v1/notifications?page={10**30}")
    assert response.status_code == 200 and response.get_json() == []


# -- notifications ------------------------------------------------------------------


def test_Z2_notifications_are_the_tokens_user_and_site_only(client, two_sites):
    a, b = two_sites
    user, other = make_user(a, roles=("staff",)), make_user(a, roles=("staff",))
    identity.add_member(user, b, "staff")
    mine = notifications.notify(user, a, kind="test", title="mine in A")
    notifications.notify(user, b, kind="test", title="MARKER-B")
    notifications.notify(other, a, kind="test", title="MARKER-OTHER")
    response = api_for(client, user, a).get("/api/v1/notifications")
    assert [n["id"] for n in response.get_json()] == [mine.id]
    assert "MARKER" not in response.get_data(as_text=True)
    assert json.loads(response.headers["X-Pagination"])["total"] == 1


def test_api_notifications_page_newest_first(client, site):
    user = make_user(site)
    made = [notifications.notify(user, site, kind="t", title=f"n{i}") for i in range(3)]
    api = api_for(client, user, site)
    first = api.get("/api/v1/notifications?page_size=2").get_json()
    second = api.get("/api/v1/notifications?page_size=2&page=2").get_json()
    assert [n["id"] for n in first + second] == [m.id for m in reversed(made)]


def test_Z2_marking_read_never_touches_another_users_or_sites_rows(client, two_sites):
    a, b = two_sites
    user, other = make_user(a), make_user(a)
    identity.add_member(user, b, "staff")
    mine = notifications.notify(user, a, kind="t", title="mine")
    theirs = notifications.notify(other, a, kind="t", title="theirs")
    elsewhere = notifications.notify(user, b, kind="t", title="in b")
    api = api_for(client, user, a)
    response = api.post("/api/v1/notifications/read",
                        json={"ids": [mine.id, theirs.id, elsewhere.id]})
    assert response.get_json() == {"marked": 1}
    read = {n.id for n in Notification.select().where(Notification.read_at.is_null(False))}
    assert read == {mine.id}


def test_api_marking_read_without_ids_marks_all_of_the_site(client, site):
    user = make_user(site)
    for i in range(2):
        notifications.notify(user, site, kind="t", title=f"n{i}")
    api = api_for(client, user, site)
    assert api.post("/api/v1/notifications/read", json={}).get_json() == {"marked": 2}
    assert api.post("/api/v1/notifications/read", json={}).get_json() == {"marked": 0}


@pytest.mark.parametrize("field", ["id", "site_id", "version", "created_by", "status",
                                   "approved_by", "user_id"])
def test_Z4_unknown_and_read_only_fields_are_422_naming_the_field(client, site, field):
    api = api_for(client, make_user(site), site)
    response = api.post("/api/v1/notifications/read", json={"ids": [], field: 1})
    assert response.status_code == 422
    assert list(response.get_json()["errors"]["json"]) == [field]


@pytest.mark.parametrize("ids", ["1", [True], ["1"], [1.5], [2**70], 3])
def test_api_json_values_of_the_wrong_type_are_422(client, site, ids):
    api = api_for(client, make_user(site), site)
    response = api.post("/api/v1/notifications/read", json={"ids": ids})
    assert response.status_code == 422
    assert all(key.startswith("ids") for key in response.get_json()["errors"]["json"])


# -- settings -----------------------------------------------------------------------


def test_api_settings_need_the_site_admin_permission(client, site):
    staff = api_for(client, make_user(site, roles=("staff",)), site)
    assert staff.get("/api/v1/settings/core").status_code == 403
    assert staff.patch("/api/v1/settings/core", json={}).status_code == 403


def test_api_settings_read_the_effective_values(client, site):
    settings.change(site, "core", "audit_retention_days", 365)
    api = api_for(client, make_user(site, roles=("site_admin",)), site)
    body = api.get("/api/v1/settings/core").get_json()
    assert body == settings.values(site, "core") | {"audit_retention_days": 365}


def test_api_settings_patch_changes_the_keys_sent_and_audits(client, site):
    api = api_for(client, make_user(site, roles=("site_admin",)), site)
    response = api.patch("/api/v1/settings/core", json={"audit_retention_days": 200})
    assert response.status_code == 200
    assert response.get_json()["audit_retention_days"] == 200
    assert settings.values(site, "core")["audit_retention_days"] == 200
    assert SettingValue.select().where(SettingValue.site == site).count() == 1


@pytest.mark.parametrize(("body", "field"), [
    ({"audit_retention_days": 10}, "audit_retention_days"),
    ({"audit_retention_days": "400"}, "audit_retention_days"),
    ({"mfa_for_leaders": 1}, "mfa_for_leaders"),
    ({"no_such_key": 1}, "no_such_key"),
])
def test_api_settings_patch_refuses_with_422_naming_the_field(client, site, body, field):
    api = api_for(client, make_user(site, roles=("site_admin",)), site)
    response = api.patch("/api/v1/settings/core", json={"mfa_for_leaders": False, **body})
    assert response.status_code == 422
    assert list(response.get_json()["errors"]["json"]) == [field]
    assert not SettingValue.select().where(SettingValue.site == site).exists()


class Tuned:
    """A test plugin with settings, enabled only for villages."""

    @hookimpl
    def plugin_info(self):
        return PluginInfo(name="tuned", title="tuned", default_for=("village",))

    @hookimpl
    def register_settings(self):
        from marshmallow import Schema, fields

        class TunedSettings(Schema):
            interval_months = fields.Integer(load_default=3)

        return TunedSettings


@pytest.fixture
def tuned_app(app_config):
    application = create_app(app_config, extra_plugins=[("tuned", Tuned())])
    application.test_client_class = IsolatedClient
    with application.app_context(), acting_as(Actor(via="test")):
        yield application


def test_api_settings_of_a_plugin_the_site_has_not_enabled_are_404(tuned_app):
    office = make_site("street_office")
    village, community = make_site("village", parent=office), make_site(parent=office)
    admin = make_user(village, roles=("site_admin",))
    identity.add_member(admin, community, "site_admin")
    client = tuned_app.test_client()
    assert api_for(client, admin, village).get("/api/v1/settings/tuned").get_json() == {
        "interval_months": 3}
    assert api_for(client, admin, community).get("/api/v1/settings/tuned").status_code == 404
    assert api_for(client, admin, community).patch(
        "/api/v1/settings/tuned", json={"interval_months": 4}).status_code == 404
