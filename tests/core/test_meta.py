"""Meta-tests that keep the architecture honest (STYLE rule 23, gotchas 8 and 10).

Datasette's two hook meta-tests, Indico's table-name check, pytest's
test_meta.py: each fails naming what is out of step.
"""

from __future__ import annotations

import configparser
import inspect
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import core
import plugins
from core import hookspecs
from core.plugins import build_plugin_manager, installed_plugins
from core.testing import owned_models

ROOT = Path(__file__).resolve().parents[2]
HOOK_HEADING = re.compile(r"^## (\w+)\((.*)\)\s*$", re.MULTILINE)


def hookspec_signatures() -> dict[str, str]:
    """``{name: "arg1, arg2"}`` of every hookspec in core/hookspecs.py."""
    return {name: ", ".join(inspect.signature(fn).parameters)
            for name, fn in vars(hookspecs).items()
            if inspect.isfunction(fn) and hasattr(fn, "grassroots_spec")}


def documented_hooks(text: str) -> dict[str, tuple[str, str]]:
    """``{name: (args, section text)}`` of every ``## name(args)`` section."""
    headings = list(HOOK_HEADING.finditer(text))
    out = {}
    for heading, following in zip(headings, [*headings[1:], None], strict=True):
        end = following.start() if following else len(text)
        out[heading.group(1)] = (heading.group(2), text[heading.end():end])
    return out


def test_every_hookspec_is_documented_with_its_exact_signature():
    specs = hookspec_signatures()
    docs = documented_hooks((ROOT / "docs" / "hooks.md").read_text())
    assert sorted(set(specs) - set(docs)) == [], "hookspecs missing from docs/hooks.md"
    assert sorted(set(docs) - set(specs)) == [], "docs/hooks.md documents no such hookspec"
    mismatched = {name: (f"{name}({specs[name]})", f"{name}({docs[name][0]})")
                  for name in specs if docs[name][0] != specs[name]}
    assert mismatched == {}, "signature in code vs docs/hooks.md"


def test_each_hook_section_carries_its_docstring_summary():
    docs = documented_hooks((ROOT / "docs" / "hooks.md").read_text())
    missing = [name for name in hookspec_signatures()
               if inspect.getdoc(getattr(hookspecs, name)).splitlines()[0] not in docs[name][1]]
    assert missing == [], "docs/hooks.md sections without the hookspec's summary line"


def test_every_hookspec_has_a_test_named_after_it():
    names = set()
    for path in (ROOT / "tests").rglob("*.py"):
        names.update(re.findall(r"^\s*def (test_hook_\w+)\(", path.read_text(), re.MULTILINE))
    untested = [hook for hook in hookspec_signatures()
                if not any(n == f"test_hook_{hook}" or n.startswith(f"test_hook_{hook}_")
                           for n in names)]
    assert untested == [], "hookspecs without a test named test_hook_<name>..."


def test_check_pending_passes_with_every_installed_plugin():
    pm = build_plugin_manager()
    pm.check_pending()
    assert sorted(name for name, _ in pm.list_name_plugin()) == sorted(
        ["core", *installed_plugins()])


def test_every_table_name_starts_with_its_owners_name(app):
    wrong = {model.__name__: model._meta.table_name
             for owner, models in owned_models(app.extensions["grassroots"].bus).items()
             for model in models if not model._meta.table_name.startswith(f"{owner}_")}
    assert wrong == {}


def entry_point_mismatches(root: Path) -> list[str]:
    """How the ``plugins/*/`` packages and the ``grassroots.plugins`` entry points differ."""
    config = configparser.ConfigParser()
    config.read(root / "setup.cfg")
    raw = config.get("options.entry_points", "grassroots.plugins", fallback="")
    declared = dict(tuple(part.strip() for part in line.split("=", 1))
                    for line in raw.splitlines() if line.strip())
    packages = {path.parent.name for path in (root / "plugins").glob("*/__init__.py")}
    problems = [f"plugins/{name}/ has no entry point" for name in sorted(packages - set(declared))]
    problems += [f"entry point {name} has no package plugins/{name}/"
                 for name in sorted(set(declared) - packages)]
    problems += [f"entry point {name} = {target} should be plugins.{name}"
                 for name, target in sorted(declared.items())
                 if name in packages and target != f"plugins.{name}"]
    return problems


def test_every_plugin_package_has_an_entry_point_and_vice_versa():
    assert entry_point_mismatches(ROOT) == []


def test_entry_points_are_installed():
    """Gotcha 8: an entry point added to setup.cfg exists only after ``pip install -e .``."""
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    raw = config.get("options.entry_points", "grassroots.plugins", fallback="")
    declared = {line.split("=", 1)[0].strip() for line in raw.splitlines() if line.strip()}
    assert declared <= set(installed_plugins()), "run pip install -e . to install them"


@pytest.mark.parametrize(("packages", "entry_points", "expected"), [
    ((), "", []),
    (("party",), "\n    party = plugins.party", []),
    (("party",), "", ["plugins/party/ has no entry point"]),
    ((), "\n    party = plugins.party", ["entry point party has no package plugins/party/"]),
    (("party",), "\n    party = plugins.partyx",
     ["entry point party = plugins.partyx should be plugins.party"]),
])
def test_entry_point_check_sees_each_mismatch(tmp_path, packages, entry_points, expected):
    for name in packages:
        (tmp_path / "plugins" / name).mkdir(parents=True)
        (tmp_path / "plugins" / name / "__init__.py").write_text('"""A plugin."""\n')
    (tmp_path / "setup.cfg").write_text(
        f"[options.entry_points]\ngrassroots.plugins ={entry_points}\n")
    assert entry_point_mismatches(tmp_path) == expected


def test_import_contracts_hold():
    """``lint-imports``: the kernel imports no plugin; plugins import no other plugin."""
    command = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert command, "import-linter is not installed (pip install -e .[test])"
    result = subprocess.run([command, "--config", str(ROOT / "setup.cfg")], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("package", [core, plugins], ids=["core", "plugins"])
def test_top_level_packages_are_this_repositorys(package):
    """Gotcha 10: ``core`` and ``plugins`` are generic names another distribution could shadow."""
    assert Path(package.__file__).resolve().is_relative_to(ROOT)


# ---------------------------------------------------------------------------
# docs/plugins.md: examples copied from marked test and skeleton code (Datasette style)
# ---------------------------------------------------------------------------

MARKED = re.compile(r"^[ \t]*(?:#|\{#) -- start (\w+) --[^\n]*\n(.*?)^[ \t]*(?:#|\{#) -- end \1 --",
                    re.DOTALL | re.MULTILINE)
DOC_SNIPPET = re.compile(r"<!-- snippet: (\w+) -->\n```\w*\n(.*?)```", re.DOTALL)


def marked_snippets() -> dict[str, str]:
    """Code between ``-- start name --`` and ``-- end name --`` in tests and the skeleton.

    The skeleton is filled in for a plugin named ``notes``, as the guide shows it.
    """
    from core.scaffold import SKELETON, Names

    sample = Names(name="notes", module="plugins.notes", title="Notes",
                   tests="tests/plugins/notes", title_hans="记事", title_hant="記事")
    sources = [path.read_text() for path in sorted((ROOT / "tests").rglob("*.py"))]
    sources += [sample.fill(path.read_text()) for path in sorted(SKELETON.rglob("*.tmpl"))]
    out = {}
    for text in sources:
        for found in MARKED.finditer(text):
            assert found.group(1) not in out, f"snippet {found.group(1)} is marked twice"
            out[found.group(1)] = textwrap.dedent(found.group(2))
    return out


def test_plugin_guide_examples_match_their_marked_source():
    documented = dict(DOC_SNIPPET.findall((ROOT / "docs" / "plugins.md").read_text()))
    marked = marked_snippets()
    assert sorted(set(documented) - set(marked)) == [], "examples without a marked source"
    assert sorted(set(marked) - set(documented)) == [], "marked snippets the guide omits"
    stale = [name for name in documented if documented[name] != marked[name]]
    assert stale == [], "docs/plugins.md examples differ from their source:\n" + "\n".join(
        f"--- {name} should read:\n{marked[name]}" for name in stale)
