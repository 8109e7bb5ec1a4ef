"""Per-site settings pages: value, default, citation; validated and audited changes.

ARCHITECTURE "regulation as configuration, with provenance"; SECURITY §2.3
(security events kept at least 180 days); Z2 and Z5.
"""

from __future__ import annotations

import pytest
from marshmallow import Schema, fields, validate

from core import PluginInfo, bundles, hookimpl, settings
from core.audit.models import AuditEvent
from core.models import SettingValue
from core.testing import Browser, make_site, make_user


def signed_in(app, user, site=None) -> Browser:
    browser = Browser(app.test_client())
    browser.login(user, site=site)
    return browser


def main_of(response) -> str:
    text = response.get_data(as_text=True)
    return text[text.index('<main id="main">'):text.index("</main>")]


def core_form(site, **changes) -> dict:
    """The kernel's settings form as the page would submit it, with ``changes``."""
    form = {}
    for info in settings.describe(site, "core"):
        if isinstance(info.value, bool):
            if info.value:
                form[info.key] = "1"
        else:
            form[info.key] = str(info.value)
    for key, value in changes.items():
        if value is None:
            form.pop(key, None)
        else:
            form[key] = value
    return form


def test_Z5_settings_matrix(app, site, client):
    for path in ("/admin/settings/", "/admin/settings/core"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.location
    for role in ("staff", "leader", "supervisor"):
        browser = signed_in(app, make_user(site, roles=(role,)), site)
        assert browser.get("/admin/settings/").status_code == 403
        assert browser.get("/admin/settings/core").status_code == 403
        assert browser.post("/admin/settings/core", core_form(
            site, audit_retention_days="200")).status_code == 403
    assert settings.values(site, "core")["audit_retention_days"] == 180
    admin = signed_in(app, make_user(site, roles=("site_admin",)), site)
    assert admin.get("/admin/settings/").status_code == 200
    assert admin.get("/admin/settings/core").status_code == 200


def test_overview_shows_label_value_default_and_citation(app, site):
    settings.change(site, "core", "audit_retention_days", 365)
    browser = signed_in(app, make_user(site, roles=("site_admin",)), site)
    text = main_of(browser.get("/admin/settings/"))
    row = text[text.index("SECURITY.md §2.3") - 600:text.index("SECURITY.md §2.3")]
    assert ">365 <" in row and ">180<" in row
    assert "网络安全法 第二十一条(三)" in text
    assert 'href="/admin/settings/core"' in text


def test_overview_searches_and_pages(app, site):
    app.config["PAGE_SIZE"] = 1
    browser = signed_in(app, make_user(site, roles=("site_admin",)), site)
    found = main_of(browser.get("/admin/settings/", query_string={"q": "GB/T 22239"}))
    assert "8.1.4.1 d)" in found and "§2.3" not in found
    assert 'rel="next"' in main_of(browser.get("/admin/settings/"))


def test_edit_form_uses_checkboxes_and_number_inputs(app, site):
    browser = signed_in(app, make_user(site, roles=("site_admin",)), site)
    text = main_of(browser.get("/admin/settings/core"))
    assert 'type="checkbox" id="f-mfa_for_leaders" name="mfa_for_leaders" value="1" checked' \
        in text
    assert 'name="audit_retention_days" type="number" value="180"' in text
    assert 'min="180"' in text


def test_retention_179_is_refused_naming_the_field_and_180(app, site):
    browser = signed_in(app, make_user(site, roles=("site_admin",)), site)
    response = browser.post("/admin/settings/core", core_form(site, audit_retention_days="179"))
    text = main_of(response)
    assert response.status_code == 422
    message = text[text.index('id="e-audit_retention_days"'):].split("</p>")[0]
    with app.test_request_context():
        label = str(settings.describe(site, "core")[1].label)
    assert "180" in message and label in message
    assert 'value="179"' in text
    assert not SettingValue.select().where(SettingValue.key == "audit_retention_days").exists()


@pytest.mark.parametrize("days", [180, 181])
def test_retention_180_and_181_are_accepted_and_audited(app, site, days):
    browser = signed_in(app, make_user(site, roles=("site_admin",)), site)
    response = browser.post("/admin/settings/core",
                            core_form(site, audit_retention_days=str(days)))
    assert response.status_code == 302
    assert settings.values(site, "core")["audit_retention_days"] == days
    events = list(AuditEvent.select().where(AuditEvent.action == "core.setting.change",
                                            AuditEvent.site_id == site.id))
    assert len(events) == (1 if days != 180 else 0)  # 180 is the default: nothing changed


def test_a_refused_field_saves_nothing_of_the_form(app, site):
    browser = signed_in(app, make_user(site, roles=("site_admin",)), site)
    response = browser.post("/admin/settings/core", core_form(
        site, mfa_for_leaders=None, audit_retention_days="abc"))
    assert response.status_code == 422
    assert 'id="e-audit_retention_days"' in main_of(response)
    assert settings.values(site, "core")["mfa_for_leaders"] is True
    assert not AuditEvent.select().where(AuditEvent.action == "core.setting.change").exists()


def test_unticking_a_checkbox_turns_the_setting_off(app, site):
    browser = signed_in(app, make_user(site, roles=("site_admin",)), site)
    browser.post("/admin/settings/core", core_form(site, mfa_for_leaders=None))
    assert settings.values(site, "core")["mfa_for_leaders"] is False


def test_Z2_settings_change_only_the_current_site(app, two_sites):
    a, b = two_sites
    browser = signed_in(app, make_user(b, roles=("site_admin",)), b)
    assert browser.post("/site", {"site_id": a.id}).status_code == 404
    browser.post("/admin/settings/core", core_form(b, audit_retention_days="400"))
    assert settings.values(b, "core")["audit_retention_days"] == 400
    assert settings.values(a, "core")["audit_retention_days"] == 180


class Gamma:
    class GammaSettings(Schema):
        meeting_months = fields.Integer(
            load_default=3, validate=validate.Range(min=1, max=12),
            metadata={"label": "会议间隔（月）", "citation": "rules/gamma.md#G1"})
        office_name = fields.String(
            load_default="办公室",
            metadata={"label": "办公室名称", "citation": "rules/gamma.md#G2"})

    @hookimpl
    def plugin_info(self):
        return PluginInfo(name="gr_gamma", title="丙插件")

    @hookimpl
    def register_settings(self):
        return self.GammaSettings


def test_plugin_settings_show_only_while_enabled(app_with_plugins):
    app = app_with_plugins(("gr_gamma", Gamma()))
    site = make_site()
    browser = signed_in(app, make_user(site, roles=("site_admin",)), site)
    assert browser.get("/admin/settings/gr_gamma").status_code == 404
    assert "rules/gamma.md#G1" not in main_of(browser.get("/admin/settings/"))

    bundles.enable(site, "gr_gamma")
    assert "rules/gamma.md#G1" in main_of(browser.get("/admin/settings/"))
    form = main_of(browser.get("/admin/settings/gr_gamma"))
    assert 'name="office_name" type="text" value="办公室"' in form
    refused = browser.post("/admin/settings/gr_gamma", {"meeting_months": "13",
                                                         "office_name": "党群服务中心"})
    message = main_of(refused)
    assert refused.status_code == 422 and "12" in message and 'value="党群服务中心"' in message
    assert settings.values(site, "gr_gamma")["office_name"] == "办公室"
    browser.post("/admin/settings/gr_gamma", {"meeting_months": "2", "office_name": "党群服务中心"})
    assert settings.values(site, "gr_gamma") == {"meeting_months": 2,
                                                 "office_name": "党群服务中心"}
