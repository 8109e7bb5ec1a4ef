"""Per-site settings (core.settings, STYLE rule 13): defaults with citations, validated, audited."""

from __future__ import annotations

import json

import marshmallow
import pytest
from marshmallow import Schema, ValidationError, fields, validate

from core import PluginInfo, hookimpl, settings
from core.audit.models import AuditEvent
from core.cli import cli
from core.kernel import kernel
from core.models import SettingValue
from core.testing import make_site


class Dues:
    """A plugin with two settings, the numbers and citations of an imagined rule."""

    @hookimpl
    def plugin_info(self):
        return PluginInfo(name="dues", title="Dues", default_for=("urban_community",))

    # -- start settings_schema --
    @hookimpl
    def register_settings(self):
        class DuesSettings(Schema):
            #: rules/dues.md#R4: dues are paid monthly, at most 6 months in advance
            months_in_advance = fields.Integer(
                load_default=6, validate=validate.Range(min=1, max=12),
                metadata={"label": "Months that may be paid in advance",
                          "citation": "rules/dues.md#R4 seeds/dues.txt:31"})
            remind = fields.Boolean(
                load_default=True,
                metadata={"label": "Remind members who are behind",
                          "citation": "rules/dues.md#R7 seeds/dues.txt:48"})

        return DuesSettings
    # -- end settings_schema --


@pytest.fixture
def dues_app(app_with_plugins):
    return app_with_plugins(("dues", Dues()))


def test_every_declared_setting_has_a_default_a_label_and_a_citation(app):
    """STYLE rule 13: a regulation's number is never without its source."""
    missing = []
    with app.test_request_context():                    # labels are lazily translated
        for plugin, schema in kernel().settings_schemas.items():
            for key, field in schema().fields.items():
                meta = field.metadata
                if (field.load_default is marshmallow.missing or not str(meta.get("label", ""))
                        or not meta.get("citation")):
                    missing.append(f"{plugin}.{key}")
    assert missing == []


def test_defaults_until_changed(dues_app):
    site = make_site()
    assert settings.values(site, "dues") == {"months_in_advance": 6, "remind": True}
    described = {s.key: s for s in settings.describe(site, "dues")}
    assert described["months_in_advance"].citation == "rules/dues.md#R4 seeds/dues.txt:31"
    assert not described["months_in_advance"].overridden


def test_a_change_is_stored_for_one_site_and_audited(dues_app):
    here, there = make_site(), make_site()
    assert settings.change(here, "dues", "months_in_advance", "3") == 3
    assert settings.values(here, "dues")["months_in_advance"] == 3
    assert settings.values(there, "dues")["months_in_advance"] == 6
    event = AuditEvent.select().where(AuditEvent.action == "core.setting.change").get()
    assert event.site_id == here.id
    assert json.loads(event.payload) == {"before": {"dues.months_in_advance": 6},
                                         "after": {"dues.months_in_advance": 3}}


@pytest.mark.parametrize(("raw", "accepted"), [(0, False), (1, True), (12, True), (13, False),
                                               ("six", False)])
def test_a_change_is_validated_against_the_schema(dues_app, raw, accepted):
    site = make_site()
    if accepted:
        assert settings.change(site, "dues", "months_in_advance", raw) == raw
    else:
        with pytest.raises(ValidationError) as refused:
            settings.change(site, "dues", "months_in_advance", raw)
        assert "months_in_advance" in refused.value.messages
        assert not SettingValue.select().where(SettingValue.site == site).exists()


@pytest.mark.parametrize(("plugin", "key"), [("dues", "colour"), ("nowhere", "x")])
def test_unknown_settings_are_refused(dues_app, plugin, key):
    with pytest.raises(settings.UnknownSetting):
        settings.change(make_site(), plugin, key, 1)


def test_a_stored_value_the_schema_no_longer_accepts_falls_back_to_the_default(dues_app):
    site = make_site()
    settings.change(site, "dues", "remind", False)
    SettingValue.create(site=site, plugin="dues", key="months_in_advance", value="99")
    assert settings.values(site, "dues") == {"months_in_advance": 6, "remind": False}


def test_settings_show_and_set_from_the_command_line(dues_app):
    site = make_site()
    runner = dues_app.test_cli_runner()
    changed = runner.invoke(cli, ["settings", "set", "--site", site.code,
                                  "dues.months_in_advance", "4"])
    assert changed.exit_code == 0, changed.output
    shown = runner.invoke(cli, ["settings", "show", "--site", site.code, "--plugin", "dues"])
    assert shown.output.splitlines() == [
        "* dues.months_in_advance = 4\t(default 6; rules/dues.md#R4 seeds/dues.txt:31)",
        "  dues.remind = true\t(default true; rules/dues.md#R7 seeds/dues.txt:48)",
    ]
    refused = runner.invoke(cli, ["settings", "set", "--site", site.code,
                                  "dues.months_in_advance", "13"])
    assert refused.exit_code == 1
    assert "months_in_advance" in refused.output
