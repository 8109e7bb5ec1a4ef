"""The plugin manager: discovery, validation at start-up, blocking and tracing (STYLE 5, 8, 25)."""

from __future__ import annotations

import logging
import sys
import textwrap

import pytest

from core import hookimpl
from core.plugins import PluginError, PluginInfo, build_plugin_manager, installed_plugins


@pytest.fixture
def distribution(tmp_path, monkeypatch):
    """Install a fake distribution whose modules are grassroots plugins.

    ``distribution({"name": "module source"})`` writes each module and an
    entry point ``name = name`` in the ``grassroots.plugins`` group, exactly
    what ``pip install`` leaves behind, so the real entry-point loading runs.
    """
    created = []

    def install(modules: dict[str, str]):
        info = tmp_path / "grassroots_probes-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text("Metadata-Version: 2.1\nName: grassroots-probes\n"
                                       "Version: 1.0\n")
        lines = "".join(f"{name} = {name}\n" for name in modules)
        (info / "entry_points.txt").write_text(f"[grassroots.plugins]\n{lines}")
        for name, source in modules.items():
            (tmp_path / f"{name}.py").write_text(textwrap.dedent(source))
            created.append(name)
        monkeypatch.syspath_prepend(str(tmp_path))

    yield install
    for name in created:
        sys.modules.pop(name, None)


def plugin_source(name: str, calls_itself: str | None = None) -> str:
    return f"""
        from core import PluginInfo, hookimpl

        @hookimpl
        def plugin_info():
            return PluginInfo(name={calls_itself or name!r}, title={name!r})
        """


def test_entry_points_are_discovered(distribution):
    distribution({"gr_probe_one": plugin_source("gr_probe_one")})
    assert "gr_probe_one" in installed_plugins()
    pm = build_plugin_manager()
    assert pm.get_plugin("gr_probe_one").__name__ == "gr_probe_one"


def test_PLUGINS_config_blocks_the_other_installed_plugins(distribution, app_with_plugins):
    distribution({"gr_probe_one": plugin_source("gr_probe_one"),
                  "gr_probe_two": plugin_source("gr_probe_two")})
    app = app_with_plugins(PLUGINS=["gr_probe_one"])
    hub = app.extensions["grassroots"].bus
    assert hub.names == ["gr_probe_one"]
    assert hub.pm.is_blocked("gr_probe_two")
    assert hub.pm.get_plugin("gr_probe_two") is None


def test_PLUGINS_naming_an_uninstalled_plugin_fails(app_config):
    from core.app import create_app

    with pytest.raises(PluginError, match="not installed: gr_nowhere"):
        create_app({**app_config, "PLUGINS": ["gr_nowhere"]})


def test_entry_point_name_must_equal_plugin_info_name(distribution):
    distribution({"gr_probe_liar": plugin_source("gr_probe_liar", calls_itself="honest")})
    with pytest.raises(PluginError, match="'gr_probe_liar' calls itself 'honest'"):
        build_plugin_manager()


def test_misspelt_hookimpl_fails_startup_naming_it(app_config):
    from core.app import create_app

    class Typo:
        @hookimpl
        def plugin_info(self):
            return PluginInfo(name="typo", title="typo")

        @hookimpl
        def menu_itemz(self, site, user):
            return []

    with pytest.raises(PluginError, match="menu_itemz"):
        create_app(app_config, extra_plugins=[("typo", Typo())])


def test_hookimpl_with_an_argument_the_spec_lacks_fails_startup(app_config):
    from core.app import create_app

    class Greedy:
        @hookimpl
        def plugin_info(self):
            return PluginInfo(name="greedy", title="greedy")

        @hookimpl
        def site_created(self, site, colour):
            """``colour`` is no argument of site_created."""

    with pytest.raises(PluginError, match="colour"):
        create_app(app_config, extra_plugins=[("greedy", Greedy())])


def test_plugin_without_plugin_info_fails_startup():
    class Anonymous:
        @hookimpl
        def register_permissions(self):
            return []

    with pytest.raises(PluginError, match="'anonymous' does not implement plugin_info"):
        build_plugin_manager(extra=[("anonymous", Anonymous())])


def test_plugin_requiring_an_absent_plugin_fails_startup():
    class Needy:
        @hookimpl
        def plugin_info(self):
            return PluginInfo(name="needy", title="needy", requires=("registry_probe",))

    with pytest.raises(PluginError, match="'needy' requires registry_probe"):
        build_plugin_manager(extra=[("needy", Needy())])


class Echo:
    """A plugin whose menu hook the trace should show."""

    @hookimpl
    def plugin_info(self):
        return PluginInfo(name="echo", title="echo", default_for=("urban_community",))

    @hookimpl
    def obligations(self, site, today):
        return []


def test_trace_hooks_logs_each_call_with_arguments_implementations_and_result(
        app_with_plugins, caplog, monkeypatch):
    from core import bundles
    from core.testing import make_site

    monkeypatch.setenv("GRASSROOTS_TRACE_HOOKS", "1")
    with caplog.at_level(logging.INFO, logger="grassroots.hooks"):
        app = app_with_plugins(("echo", Echo()))
        assert app.config["TRACE_HOOKS"] == 1
        site = make_site()
        caplog.clear()
        bundles.site_hooks(site).obligations(site=site, today="2025-01-01")
    lines = [r.getMessage() for r in caplog.records]
    calls = [line for line in lines if line.startswith("hook obligations(site=")]
    assert len(calls) == 1, lines
    arguments, implementations = calls[0].split(" -> ")
    assert "today='2025-01-01'" in arguments
    assert "echo" in implementations.split(", ")
    assert "hook obligations returned [[]]" in lines


def test_hooks_are_not_traced_by_default(app_with_plugins, caplog):
    with caplog.at_level(logging.INFO, logger="grassroots.hooks"):
        app_with_plugins(("echo", Echo()))
    assert not [r for r in caplog.records if r.name == "grassroots.hooks"]
