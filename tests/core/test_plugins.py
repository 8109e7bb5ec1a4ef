"""The plugin manager: discovery, validation at start-up, blocking and tracing (STYLE 5, 8, 25)."""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from core import hookimpl
from core.plugins import PluginError, PluginInfo, build_plugin_manager, installed_plugins

ROOT = Path(__file__).resolve().parents[2]


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


# ---------------------------------------------------------------------------
# grassroots plugin new: the generator
# ---------------------------------------------------------------------------

GENERATED = [
    "README.md", "__init__.py", "api.py", "migrations/0001_initial.py", "models.py", "rules.py",
    "schemas.py", "templates/visits/confirm_delete.html", "templates/visits/detail.html",
    "templates/visits/form.html", "templates/visits/list.html",
    "templates/visits/widget.html", "translations/messages.pot",
    "translations/zh_Hans/LC_MESSAGES/messages.mo",
    "translations/zh_Hans/LC_MESSAGES/messages.po",
    "translations/zh_Hant/LC_MESSAGES/messages.mo",
    "translations/zh_Hant/LC_MESSAGES/messages.po", "views.py",
]


@pytest.fixture
def generated(tmp_path):
    """``grassroots plugin new visits`` into a temporary folder: ``(src, tests)``."""
    from click.testing import CliRunner

    from core.cli import cli

    src, tests = tmp_path / "src", tmp_path / "tests"
    # -- start plugin_new --
    result = CliRunner().invoke(cli, [
        "plugin", "new", "visits", "--dir", str(src), "--tests", str(tests),
        "--title", "Visits", "--title-hans", "走访", "--title-hant", "走訪"])
    # -- end plugin_new --
    assert result.exit_code == 0, result.output
    yield src, tests
    for name in [m for m in sys.modules if m == "visits" or m.startswith("visits.")]:
        del sys.modules[name]


def test_plugin_new_writes_the_whole_tree(generated):
    src, tests = generated
    plugin = src / "visits"
    assert sorted(p.relative_to(plugin).as_posix() for p in plugin.rglob("*")
                  if p.is_file()) == GENERATED
    assert sorted(p.name for p in (tests / "visits").iterdir()) == [
        "test_visits_isolation.py", "test_visits_rules.py", "test_visits_views.py"]
    tokens = re.compile(r"@(name|module|title|tests|title_hans|title_hant)@")
    assert not [p for p in src.rglob("*") if p.suffix in (".py", ".html", ".md")
                and tokens.search(p.read_text())], "a skeleton token was left unfilled"


def test_generated_plugin_is_lint_clean(generated):
    src, tests = generated
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent))
    assert ruff, "ruff is not installed (pip install -e .[test])"
    # inside the repository ``plugins.visits`` is first-party like ``core`` (and
    # sorts after it, as ``visits`` does)
    result = subprocess.run(
        [ruff, "check", "--config", str(ROOT / "ruff.toml"), "--config",
         "lint.isort.known-first-party=['core', 'visits']", str(src), str(tests)],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_generated_catalogs_are_complete(generated):
    from babel.messages.pofile import read_po

    src, _tests = generated
    for locale, title in (("zh_Hans", "走访"), ("zh_Hant", "走訪")):
        path = src / "visits" / "translations" / locale / "LC_MESSAGES" / "messages.po"
        with path.open("rb") as handle:
            catalog = read_po(handle, locale=locale)
        assert [m.id for m in catalog if m.id and not m.string] == []
        assert catalog["Visits"].string == title
        assert catalog.get("Name", context="visits").string


def test_generated_plugin_loads_and_its_migration_matches_its_model(generated, app_with_plugins,
                                                                   monkeypatch):
    import importlib

    from core.testing import schema_drift

    src, _tests = generated
    monkeypatch.syspath_prepend(str(src))
    module = importlib.import_module("visits")
    app = app_with_plugins(("visits", module))
    hub = app.extensions["grassroots"].bus
    with app.test_request_context(headers={"Accept-Language": "zh-TW"}):
        assert str(hub.infos["visits"].title) == "走訪"      # its own catalog is loaded
    assert not schema_drift(hub)
    assert {"visits.index", "visits_api.index"} <= set(app.view_functions)


@pytest.mark.slow
def test_generated_plugins_own_tests_pass(generated):
    """The generated tests, run as a plugin author would before installing the plugin."""
    src, tests = generated
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(src), str(ROOT)]),
           "GRASSROOTS_EXTRA_PLUGINS": "visits=visits"}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "core.testing", "-p", "no:cacheprovider",
         str(tests / "visits")],
        cwd=tests, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
    assert re.search(r"\b16 passed\b", result.stdout), result.stdout[-2000:]


@pytest.mark.parametrize(("name", "message"), [
    ("Visits", "no plugin name"),
    ("x", "no plugin name"),
    ("case__book", "no plugin name"),
    ("class", "no plugin name"),
    ("core", "reserved"),
])
def test_plugin_new_refuses_a_bad_name(tmp_path, name, message):
    from click.testing import CliRunner

    from core.cli import cli

    result = CliRunner().invoke(cli, ["plugin", "new", name, "--dir", str(tmp_path),
                                      "--title-hans", "走访", "--title-hant", "走訪"])
    assert result.exit_code == 1
    assert message in result.output
    assert list(tmp_path.iterdir()) == []


def test_plugin_new_never_overwrites(generated):
    from click.testing import CliRunner

    from core.cli import cli

    src, tests = generated
    before = (src / "visits" / "views.py").read_text()
    result = CliRunner().invoke(cli, ["plugin", "new", "visits", "--dir", str(src),
                                      "--tests", str(tests), "--title-hans", "走访",
                                      "--title-hant", "走訪"])
    assert result.exit_code == 1
    assert "exists already" in result.output
    assert (src / "visits" / "views.py").read_text() == before


def test_plugin_new_names_the_module_after_its_packages(tmp_path):
    from core.scaffold import module_path

    (tmp_path / "plugins").mkdir()
    assert module_path(tmp_path / "plugins", "visits") == "visits"
    (tmp_path / "plugins" / "__init__.py").write_text("")
    assert module_path(tmp_path / "plugins", "visits") == "plugins.visits"
