"""Every hook in core/hookspecs.py, exercised through the kernel path that calls it.

One test (at least) per hookspec, named ``test_hook_<name>_...``; test_meta.py
fails when a hookspec has none. Site hooks are proved to reach only the
plugins enabled for the site: each test registers an enabled and a disabled
probe and checks that only the first one hears.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json

import click
import flask
import peewee as pw
import pytest
from marshmallow import Schema, ValidationError, fields, validate

from core import (
    MenuItem,
    Permission,
    PluginInfo,
    SiteModel,
    Widget,
    bundles,
    hookimpl,
    identity,
    records,
    requires,
    settings,
    transaction,
)
from core.api import Blueprint as api_blueprint
from core.audit.models import AuditEvent
from core.cli import cli
from core.kernel import kernel
from core.models import Notification
from core.obligations import Obligation, collect
from core.testing import (
    Browser,
    Route,
    make_site,
    make_user,
    owned_models,
    register_test_plugin,
    schema_drift,
    signed_in,
    site_table_migration,
)


# -- start probe_plugin --
class Probe:
    """A test-only plugin that records every site hook it hears."""

    def __init__(self, name, default_for=("urban_community",)):
        self.name, self.default_for, self.heard = name, default_for, []

    @hookimpl
    def plugin_info(self):
        return PluginInfo(name=self.name, title=self.name, default_for=self.default_for)

    @hookimpl
    def site_created(self, site):
        self.heard.append(("site_created", site.id))
# -- end probe_plugin --

    @hookimpl
    def plugin_enabled(self, site, plugin):
        self.heard.append(("plugin_enabled", site.id, plugin))

    @hookimpl
    def plugin_disabled(self, site, plugin):
        self.heard.append(("plugin_disabled", site.id, plugin))

    @hookimpl
    def record_written(self, site, event, obj):
        self.heard.append(("record_written", site.id, event.action, obj.get_id()))

    @hookimpl
    def menu_items(self, site, user):
        return [MenuItem(f"menu of {self.name}", "inbox.index", order=50),
                MenuItem(f"audit menu of {self.name}", "inbox.index",
                         permission="core.audit.view", order=51)]

    @hookimpl
    def obligations(self, site, today):
        return [Obligation(title=f"duty of {self.name}", due=today, citation="test")]


@pytest.fixture
def probes(app):
    """``on`` is in the urban community's default bundle, ``off`` only in the village's."""
    on, off = Probe("probe_on"), Probe("probe_off", default_for=("village",))
    with contextlib.ExitStack() as stack:
        stack.enter_context(register_test_plugin(app, on, "probe_on"))
        stack.enter_context(register_test_plugin(app, off, "probe_off"))
        yield on, off


def test_register_test_plugin_refreshes_the_bus_and_unregisters_after(app):
    hub = app.extensions["grassroots"].bus
    # -- start register_test_plugin --
    probe = Probe("probe_on")
    with register_test_plugin(app, probe, "probe_on"):
        site = make_site()                      # urban_community: probe_on is in its bundle
        assert bundles.enabled_plugins(site) == {"probe_on"}
        assert ("site_created", site.id) in probe.heard
    # -- end register_test_plugin --
    assert "probe_on" not in hub.infos
    assert hub.pm.get_plugin("probe_on") is None
    assert bundles.enabled_plugins(site) == frozenset()


def test_register_test_plugin_refuses_a_misspelt_hook(app):
    class Typo(Probe):
        @hookimpl
        def site_createdd(self, site):
            """Misspelt on purpose."""

    with pytest.raises(Exception, match="site_createdd"), \
            register_test_plugin(app, Typo("typo"), "typo"):
        pass
    assert app.extensions["grassroots"].bus.pm.get_plugin("typo") is None


# ---------------------------------------------------------------------------
# Site hooks: only the plugins enabled for the site hear them
# ---------------------------------------------------------------------------


def test_hook_site_created_reaches_only_the_new_sites_bundle(probes):
    on, off = probes
    site = make_site("urban_community")
    village = make_site("village", parent=make_site("street_office"))
    assert ("site_created", site.id) in on.heard
    assert ("site_created", village.id) not in on.heard
    assert ("site_created", village.id) in off.heard
    assert ("site_created", site.id) not in off.heard


def test_hook_plugin_enabled_reaches_the_enabled_plugins_and_the_new_one(probes, app):
    on, off = probes
    idle = Probe("probe_idle", default_for=())
    with register_test_plugin(app, idle, "probe_idle"):
        site = make_site()
        bundles.enable(site, "probe_off")
    assert ("plugin_enabled", site.id, "probe_off") in off.heard
    assert ("plugin_enabled", site.id, "probe_off") in on.heard
    assert not [h for h in idle.heard if h[0] == "plugin_enabled"]


def test_hook_plugin_disabled_reaches_the_disabled_plugin_and_those_still_enabled(probes, app):
    on, off = probes
    idle = Probe("probe_idle", default_for=())
    with register_test_plugin(app, idle, "probe_idle"):
        site = make_site()
        bundles.enable(site, "probe_off")
        bundles.disable(site, "probe_on")
    assert ("plugin_disabled", site.id, "probe_on") in on.heard
    assert ("plugin_disabled", site.id, "probe_on") in off.heard
    assert not [h for h in idle.heard if h[0] == "plugin_disabled"]


def test_hook_record_written_reaches_only_enabled_plugins_in_the_writes_transaction(probes):
    on, off = probes
    site = make_site()
    user = make_user(site)
    note = records.create(Notification, site=site, user=user, kind="test", title="hello")
    assert ("record_written", site.id, "core_notification.create", note.id) in on.heard
    assert not [h for h in off.heard if h[0] == "record_written"]


def test_hook_record_written_failure_undoes_the_write(app):
    class Veto(Probe):
        @hookimpl
        def record_written(self, site, event, obj):
            if isinstance(obj, Notification):
                raise RuntimeError("vetoed")

    site = make_site()
    user = make_user(site)
    with register_test_plugin(app, Veto("veto", default_for=()), "veto"):
        bundles.enable(site, "veto")
        events = AuditEvent.select().count()
        with pytest.raises(RuntimeError, match="vetoed"):
            records.create(Notification, site=site, user=user, kind="test", title="lost")
    assert not Notification.select().where(Notification.title == "lost").exists()
    assert AuditEvent.select().count() == events


def test_hook_menu_items_shows_only_enabled_plugins_entries_the_user_may_see(probes, browser):
    site = make_site()
    user = make_user(site, roles=("staff",))
    browser.login(user, site=site)
    page = browser.get("/inbox/").get_data(as_text=True)
    assert "menu of probe_on" in page
    assert "audit menu of probe_on" not in page          # staff lacks core.audit.view
    assert "menu of probe_off" not in page


def test_hook_obligations_collects_only_enabled_plugins_duties(probes):
    site = make_site()
    titles = [o.title for o in collect(site, dt.date(2025, 3, 1))]
    assert "duty of probe_on" in titles
    assert "duty of probe_off" not in titles
    assert [o.plugin for o in collect(site, dt.date(2025, 3, 1))
            if o.title == "duty of probe_on"] == ["probe_on"]


class Panel:
    """A plugin shipping a dashboard widget template in its blueprint's folder."""

    def __init__(self, name, template_dir):
        self.name, self.template_dir = name, template_dir

    @hookimpl
    def plugin_info(self):
        return PluginInfo(name=self.name, title=self.name, default_for=("village",))

    @hookimpl
    def register_blueprints(self, app):
        return [flask.Blueprint(self.name, __name__, template_folder=str(self.template_dir))]

    @hookimpl
    def dashboard_widgets(self, site, user):
        return [Widget(f"panel of {self.name}", f"{self.name}/widget.html",
                       context={"count": 7}),
                Widget(f"audit panel of {self.name}", f"{self.name}/widget.html",
                       context={"count": 8}, permission="core.audit.view")]


def test_hook_dashboard_widgets_shows_only_enabled_plugins_widgets(app_with_plugins, tmp_path):
    for name in ("panel_on", "panel_off"):
        (tmp_path / name / name).mkdir(parents=True)
        (tmp_path / name / name / "widget.html").write_text(
            f"<p>{name} counts {{{{ w.context.count }}}}</p>")
    app = app_with_plugins(("panel_on", Panel("panel_on", tmp_path / "panel_on")),
                           ("panel_off", Panel("panel_off", tmp_path / "panel_off")))
    site = make_site("village", parent=make_site("street_office"))
    bundles.disable(site, "panel_off")
    browser = Browser(app.test_client())
    browser.login(make_user(site, roles=("staff",)), site=site)
    page = browser.get("/").get_data(as_text=True)
    assert "panel of panel_on" in page
    assert "panel_on counts 7" in page
    assert "panel_on counts 8" not in page               # staff lacks core.audit.view
    assert "panel of panel_off" not in page


# ---------------------------------------------------------------------------
# Installed hooks: called on every installed plugin at start-up
# ---------------------------------------------------------------------------


class Permits:
    """A plugin with pages, an API, a command, settings, permissions and a table."""

    def __init__(self, migrations=None):
        self.migrations = migrations

    @hookimpl
    def plugin_info(self):
        return PluginInfo(name="permits", title="Permits", requires=("probe_base",),
                          default_for=("urban_community",))

    @hookimpl
    def register_permissions(self):
        return [Permission("permits.view", "See permits", roles=("staff", "leader")),
                Permission("permits.approve", "Approve permits", roles=("leader",),
                           level="approve")]

    @hookimpl
    def register_settings(self):
        class PermitSettings(Schema):
            #: illustrative number and citation
            review_days = fields.Integer(
                load_default=15, validate=validate.Range(min=1, max=60),
                metadata={"label": "Days to review a permit",
                          "citation": "rules/permits.md#R3"})

        return PermitSettings

    @hookimpl
    def register_blueprints(self, app):
        bp = flask.Blueprint("permits", __name__, url_prefix="/permits")

        @bp.get("/")
        @requires("permits.view")
        def index():
            """The permits page."""
            return "permits of " + flask.g.site.name

        return [bp]

    @hookimpl
    def register_api(self, api):
        bp = api_blueprint("permits_api", __name__, url_prefix="/api/v1/permits")

        @bp.get("/")
        @requires("permits.view")
        def count():
            """How many permits the site holds."""
            return {"site": flask.g.site.id, "count": 0}

        return [bp]

    @hookimpl
    def register_commands(self, cli):
        @cli.group("permits")
        def group():
            """Permits."""

        @group.command("hello")
        @click.argument("who")
        def hello(who):
            """Greet someone."""
            click.echo(f"hello {who} from permits")

    @hookimpl
    def register_migrations(self):
        return self.migrations

    @hookimpl
    def register_models(self):
        return [PermitEntry]

    @hookimpl
    def personal_data_fields(self):
        return ["permit_holder_id"]


class Base:
    """The plugin Permits requires."""

    @hookimpl
    def plugin_info(self):
        return PluginInfo(name="probe_base", title="Base", default_for=("village",))


class PermitEntry(SiteModel):
    holder = pw.CharField(max_length=100)

    class Meta:
        table_name = "permits_entry"


PERMITS_MIGRATION = site_table_migration("Permit entries.", [
    ("PermitEntry", "permits_entry", "holder = CharField(max_length=100)")])


@pytest.fixture
def permits_app(app_with_plugins, tmp_path):
    migrations = tmp_path / "permits_migrations"
    migrations.mkdir()
    (migrations / "0001_initial.py").write_text(PERMITS_MIGRATION)
    return app_with_plugins(("probe_base", Base()), ("permits", Permits(str(migrations))))


def test_hook_plugin_info_names_title_requirements_and_default_bundle(permits_app):
    hub = permits_app.extensions["grassroots"].bus
    info = hub.infos["permits"]
    assert (info.name, info.title, info.requires) == ("permits", "Permits", ("probe_base",))
    # the default bundle brings the requirement along
    assert hub.default_bundle("urban_community") == ["permits", "probe_base"]
    assert hub.default_bundle("village") == ["probe_base"]
    assert bundles.enabled_plugins(make_site()) == {"permits", "probe_base"}


def test_hook_register_permissions_grants_by_role(permits_app):
    assert kernel().permissions["permits.approve"].level == "approve"
    site = make_site()
    staff = identity.access(make_user(site, roles=("staff",)), site)
    supervisor = identity.access(make_user(site, roles=("supervisor",)), site)
    assert staff.can("permits.view") and not staff.can("permits.approve")
    assert not supervisor.can("permits.view")


def test_hook_register_settings_defaults_citations_validation_and_audit(permits_app):
    site = make_site()
    [info] = settings.describe(site, "permits")
    assert (info.key, info.value, info.default, info.citation) == (
        "review_days", 15, 15, "rules/permits.md#R3")
    settings.change(site, "permits", "review_days", "20")
    assert settings.values(site, "permits") == {"review_days": 20}
    with pytest.raises(ValidationError):
        settings.change(site, "permits", "review_days", 61)
    assert settings.values(site, "permits") == {"review_days": 20}
    last = AuditEvent.select().order_by(AuditEvent.id.desc()).get()
    assert last.action == "core.setting.change"
    assert json.loads(last.payload)["after"] == {"permits.review_days": 20}


def test_hook_register_blueprints_pages_answer_only_where_enabled(permits_app):
    site, other = make_site(), make_site()
    bundles.disable(other, "permits")
    user = make_user(site, roles=("staff",))
    identity.add_member(user, other, "staff")
    browser = Browser(permits_app.test_client())
    browser.login(user, site=site)
    assert browser.get("/permits/").get_data(as_text=True) == f"permits of {site.name}"
    browser.post("/site", {"site_id": other.id})
    assert browser.get("/permits/").status_code == 404


def test_hook_register_api_serves_json_documents_it_and_gates_it(permits_app):
    site, other = make_site(), make_site()
    bundles.disable(other, "permits")
    user = make_user(site, roles=("staff",))
    identity.add_member(user, other, "staff")
    here = signed_in(permits_app, user, site, api=True)
    response = here.send(Route("GET", "/api/v1/permits/"))
    assert response.status_code == 200
    assert response.get_json() == {"site": site.id, "count": 0}
    spec = here.send(Route("GET", "/api/v1/openapi.json")).get_json()
    assert "/api/v1/permits/" in spec["paths"]
    there = signed_in(permits_app, user, other, api=True)
    assert there.send(Route("GET", "/api/v1/permits/")).status_code == 404


def test_hook_register_commands_adds_the_plugins_group(permits_app):
    result = permits_app.test_cli_runner().invoke(cli, ["permits", "hello", "Li"])
    assert result.exit_code == 0, result.output
    assert result.output == "hello Li from permits\n"


def test_hook_register_migrations_runs_and_records_the_plugins_scripts(permits_app):
    assert PermitEntry.table_exists()
    result = permits_app.test_cli_runner().invoke(cli, ["db", "status"])
    assert result.exit_code == 0, result.output
    assert "applied  permits/0001_initial" in result.output.splitlines()


def test_hook_register_models_feeds_the_drift_check(permits_app):
    hub = permits_app.extensions["grassroots"].bus
    assert owned_models(hub)["permits"] == [PermitEntry]
    assert not schema_drift(hub)
    PermitEntry._meta.database.execute_sql("DROP TABLE permits_entry")
    assert [m._meta.table_name for m in schema_drift(hub).create_tables] == ["permits_entry"]


def test_hook_personal_data_fields_are_masked_in_the_audit_log(permits_app):
    site = make_site()
    with transaction():
        records.audited("permits.check", site, site=site,
                        after={"permit_holder_id": "110101199003077777", "holder": "李四"})
    payload = AuditEvent.select().order_by(AuditEvent.id.desc()).get().payload
    assert "李四" in payload
    assert "110101199003077777" not in payload
