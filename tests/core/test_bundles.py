"""Site bundles: requirements, default bundles, data kept, per-site gating (STYLE 8, 14)."""

from __future__ import annotations

import flask
import peewee as pw
import pytest

from core import PluginInfo, SiteModel, hookimpl, records, requires
from core.audit.models import AuditEvent
from core.bundles import BundleError, disable, enable, enabled_plugins
from core.identity import add_member
from core.testing import Browser, make_site, make_user, site_table_migration

LEDGER_MIGRATION = site_table_migration(
    "Ledger lines.", [("Line", "ledger_line", "text = CharField(max_length=100)")])


class Line(SiteModel):
    text = pw.CharField(max_length=100)

    class Meta:
        table_name = "ledger_line"


class Ledger:
    """A page listing the site's lines; in every village's and community's bundle."""

    def __init__(self, migrations):
        self.migrations = migrations

    @hookimpl
    def plugin_info(self):
        return PluginInfo(name="ledger", title="Ledger",
                          default_for=("village", "urban_community"))

    @hookimpl
    def register_migrations(self):
        return self.migrations

    @hookimpl
    def register_models(self):
        return [Line]

    @hookimpl
    def register_blueprints(self, app):
        bp = flask.Blueprint("ledger", __name__, url_prefix="/ledger")

        @bp.get("/")
        @requires("core.obligation.view")
        def lines():
            """The site's lines, one per row."""
            return "\n".join(line.text for line in Line.for_site(flask.g.site).order_by(Line.id))

        return [bp]


class Audit:
    """Requires the ledger; only in the village's default bundle."""

    @hookimpl
    def plugin_info(self):
        return PluginInfo(name="audit_probe", title="Audit", requires=("ledger",),
                          default_for=("village",))


class Clinic:
    """In no default bundle."""

    @hookimpl
    def plugin_info(self):
        return PluginInfo(name="clinic_probe", title="Clinic")


@pytest.fixture
def bundle_app(app_with_plugins, tmp_path):
    """An app with three test plugins: ledger, audit_probe (requires ledger), clinic_probe."""
    (tmp_path / "ledger").mkdir()
    (tmp_path / "ledger" / "0001_initial.py").write_text(LEDGER_MIGRATION)
    return app_with_plugins(("ledger", Ledger(str(tmp_path / "ledger"))),
                            ("audit_probe", Audit()), ("clinic_probe", Clinic()))


def village():
    return make_site("village", parent=make_site("street_office"))


def test_each_site_kind_gets_its_default_bundle_at_creation(bundle_app):
    assert enabled_plugins(village()) == {"ledger", "audit_probe"}
    assert enabled_plugins(make_site("urban_community")) == {"ledger"}
    assert enabled_plugins(make_site("street_office")) == frozenset()


def test_the_default_bundle_can_be_changed_afterwards(bundle_app):
    site = make_site("urban_community")
    enable(site, "clinic_probe")
    disable(site, "ledger")
    assert enabled_plugins(site) == {"clinic_probe"}
    assert enabled_plugins(make_site("urban_community")) == {"ledger"}


def test_enabling_checks_requirements(bundle_app):
    site = make_site("street_office")
    with pytest.raises(BundleError) as refused:
        enable(site, "audit_probe")
    assert (refused.value.code, refused.value.plugin, refused.value.others) == (
        "requires", "audit_probe", ["ledger"])
    assert enabled_plugins(site) == frozenset()
    enable(site, "ledger")
    enable(site, "audit_probe")
    assert enabled_plugins(site) == {"ledger", "audit_probe"}


def test_disabling_a_plugin_another_enabled_plugin_requires_is_refused_naming_both(bundle_app):
    site = village()
    with pytest.raises(BundleError) as refused:
        disable(site, "ledger")
    assert (refused.value.code, refused.value.plugin, refused.value.others) == (
        "required_by", "ledger", ["audit_probe"])
    assert enabled_plugins(site) == {"ledger", "audit_probe"}
    disable(site, "audit_probe")
    disable(site, "ledger")
    assert enabled_plugins(site) == frozenset()


def test_an_unknown_plugin_is_refused(bundle_app):
    with pytest.raises(BundleError) as refused:
        enable(make_site(), "nowhere")
    assert refused.value.code == "unknown"


def test_bundle_changes_are_audited(bundle_app):
    site = make_site("urban_community")
    enable(site, "clinic_probe")
    disable(site, "clinic_probe")
    actions = [(e.action, e.payload) for e in AuditEvent.select()
               .where(AuditEvent.site_id == site.id).order_by(AuditEvent.seq)]
    assert [a for a, _ in actions][-2:] == ["core.plugin.enable", "core.plugin.disable"]
    assert "clinic_probe" in actions[-1][1]


def test_a_plugin_page_answers_404_where_the_plugin_is_disabled(bundle_app):
    here, there = make_site("urban_community"), make_site("urban_community")
    disable(there, "ledger")
    user = make_user(here, roles=("staff",))
    add_member(user, there, "staff")
    browser = Browser(bundle_app.test_client())
    browser.login(user, site=here)
    assert browser.get("/ledger/").status_code == 200
    browser.post("/site", {"site_id": there.id})
    assert browser.get("/ledger/").status_code == 404


def test_disabling_keeps_the_data_and_re_enabling_shows_it(bundle_app):
    site = make_site("urban_community")
    records.create(Line, site=site, text="户主 王五 已走访")
    browser = Browser(bundle_app.test_client())
    browser.login(make_user(site, roles=("staff",)), site=site)
    assert browser.get("/ledger/").get_data(as_text=True) == "户主 王五 已走访"

    disable(site, "ledger")
    assert browser.get("/ledger/").status_code == 404
    assert Line.for_site(site).count() == 1

    enable(site, "ledger")
    assert browser.get("/ledger/").get_data(as_text=True) == "户主 王五 已走访"
