"""``grassroots plugin new``: a small, complete, tested plugin to start from (STYLE rule 9).

The skeleton in ``skeleton/`` is the plugin tree of STYLE rule 9 with its
tests: one site-scoped table, rules with edge tests, pages with search,
paging, a version-checked edit and a confirmed delete, a JSON API, settings
with a citation, both translations, and the site-isolation test. Files end
in ``.tmpl`` so that nothing imports, lints or extracts them as they are; the
generator fills in these tokens:

``@name@``        the plugin name (entry point, blueprint, table prefix)
``@module@``      its import path (``plugins.<name>`` inside this repository)
``@title@``       its English title (the msgid of the plugin's title)
``@tests@``       the folder of its tests
``@title_hans@``, ``@title_hant@`` its title in each script (translations only)

``NAME`` in a skeleton path becomes the plugin name. Lines marking a
snippet for docs/plugins.md (``# -- start name --``, ``-- end name --``) are
left out of the generated files. The catalogs are then
extracted, translated from ``skeleton/messages.json`` and compiled with the
same functions as ``grassroots i18n``, so a new plugin passes the catalog
tests from the start.
"""

from __future__ import annotations

import dataclasses
import json
import keyword
import re
from pathlib import Path

SKELETON = Path(__file__).parent / "skeleton"

#: a plugin name: a Python identifier that is also a safe table prefix and URL segment
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,29}$")

#: characters a title may not hold: it is pasted into Python strings, msgids and Markdown
TITLE_FORBIDDEN = re.compile(r'["\\%{}@<>`\n]')

#: a line that marks a documentation snippet (docs/plugins.md, tests/core/test_meta.py)
SNIPPET_MARKER = re.compile(r"-- (start|end) \w+ --")

#: names that would shadow the kernel or the tree (``core_*`` tables are the kernel's)
RESERVED = frozenset({"core", "plugins", "tests", "api", "static", "admin", "auth", "account",
                      "inbox", "home", "site", "locale", "health", "audit", "themes"})


class ScaffoldError(ValueError):
    """A name or a place the generator refuses; the message says why."""


@dataclasses.dataclass(frozen=True)
class Names:
    """Everything the skeleton's tokens stand for."""

    name: str
    module: str
    title: str
    tests: str
    title_hans: str
    title_hant: str

    def fill(self, text: str) -> str:
        for token, value in (("@name@", self.name), ("@module@", self.module),
                             ("@title@", self.title), ("@tests@", self.tests),
                             ("@title_hans@", self.title_hans),
                             ("@title_hant@", self.title_hant)):
            text = text.replace(token, value)
        return text


def check_name(name: str) -> None:
    """:raises ScaffoldError: unless ``name`` can name a plugin."""
    if not NAME_PATTERN.match(name) or keyword.iskeyword(name) or "__" in name:
        raise ScaffoldError(f"{name!r} is no plugin name: use 2 to 30 lower-case letters, "
                            "digits and single underscores, starting with a letter")
    if name in RESERVED:
        raise ScaffoldError(f"{name!r} is reserved by the kernel")


def module_path(directory: Path, name: str) -> str:
    """The import path of ``directory/name``: its parent packages, outermost first."""
    parts = [name]
    folder = directory.resolve()
    while (folder / "__init__.py").is_file():
        parts.insert(0, folder.name)
        folder = folder.parent
    return ".".join(parts)


def default_title(name: str) -> str:
    return name.replace("_", " ").capitalize()


def _render(source_root: Path, target_root: Path, names: Names) -> list[Path]:
    written = []
    for source in sorted(source_root.rglob("*.tmpl")):
        relative = source.relative_to(source_root).with_suffix("")
        target = target_root / Path(*(part.replace("NAME", names.name)
                                      for part in relative.parts))
        target.parent.mkdir(parents=True, exist_ok=True)
        lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
        text = "".join(line for line in lines if not SNIPPET_MARKER.search(line))
        target.write_text(names.fill(text), encoding="utf-8")
        written.append(target)
    return written


def _translate(plugin_dir: Path, names: Names) -> list[Path]:
    """Extract, translate and compile the plugin's catalogs (``grassroots i18n`` functions).

    :raises ScaffoldError: when a message lacks a translation or fails Babel's checks.
    """
    from core.cli.i18n_commands import (
        ROOT,
        Catalogs,
        compile_catalogs,
        update,
        write_template,
    )
    from core.i18n import LOCALES

    table = json.loads((SKELETON / "messages.json").read_text(encoding="utf-8"))["messages"]
    base = ROOT if plugin_dir.resolve().is_relative_to(ROOT) else plugin_dir
    target = Catalogs(names.name, (plugin_dir,), plugin_dir / "translations", base)
    write_template(target, ROOT)
    written = [target.pot]
    for column, locale in enumerate(LOCALES, start=2):
        translations = {(names.fill(row[0]) if row[0] else None, names.fill(row[1])):
                        names.fill(row[column]) for row in table}
        catalog = update(target, locale, translations)
        untranslated = [m.id for m in catalog if m.id and not m.string]
        if untranslated:
            raise ScaffoldError(f"no {locale} translation for {untranslated}")
        problems = compile_catalogs(target, locale)
        if problems:
            raise ScaffoldError("; ".join(problems))
        written += [target.po(locale), target.mo(locale)]
    return written


def generate(name: str, directory: Path, tests_directory: Path, *, title: str | None = None,
             title_hans: str, title_hant: str) -> list[Path]:
    """Write plugin ``name`` into ``directory/name`` and its tests into ``tests_directory/name``.

    :returns: every file written.
    :raises ScaffoldError: for a bad name, an existing plugin or test folder, or
        an empty title translation.
    """
    check_name(name)
    title = (title or default_title(name)).strip()
    if not (title and title_hans.strip() and title_hant.strip()):
        raise ScaffoldError("give the title in English, Simplified and Traditional Chinese")
    for text in (title, title_hans, title_hant):
        if TITLE_FORBIDDEN.search(text):
            raise ScaffoldError(f"{text!r}: a title may not contain quotes, backslashes, "
                                "%, braces, @, angle brackets, backticks or line breaks")
    plugin_dir, tests_dir = Path(directory) / name, Path(tests_directory) / name
    for folder in (plugin_dir, tests_dir):
        if folder.exists():
            raise ScaffoldError(f"{folder} exists already")
    names = Names(name=name, module=module_path(Path(directory), name),
                  title=title, tests=str(tests_dir),
                  title_hans=title_hans.strip(), title_hant=title_hant.strip())
    written = _render(SKELETON / "plugin", plugin_dir, names)
    written += _render(SKELETON / "tests", tests_dir, names)
    written += _translate(plugin_dir, names)
    return written
