"""``grassroots i18n extract|update|compile``: the translation catalogs (STYLE rule 18).

The kernel's catalogs live in ``locales/`` and are extracted from ``core/`` and
``themes/``; each plugin's live in ``plugins/<name>/translations/`` and are
extracted from the plugin's own folder. Both scripts, ``zh_Hans`` and
``zh_Hant``, are kept in the folders of exactly those names: gettext's
fallback list for ``zh_Hant`` is ``['zh_Hant', 'zh']``, so a bare ``zh``
folder would leak Simplified text into Traditional pages (STYLE gotcha 5).

Extraction follows ``babel.cfg``. Files are written only when their messages
changed (the creation and revision dates alone never cause a rewrite), and
``.po``/``.pot`` carry file names without line numbers, so re-running a
command on unchanged code leaves the work tree clean. ``update`` merges
without fuzzy matching: a guessed translation marked fuzzy is never shipped
and only hides a missing one. The functions here are what
``tests/core/test_i18n.py`` uses to check the committed catalogs.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
from collections.abc import Iterator
from importlib.metadata import entry_points
from pathlib import Path

import click
from babel.messages.catalog import PYTHON_FORMAT, Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from core.cli import cli, fail
from core.i18n import LOCALES

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = "messages"
#: header lines that change on every run and alone never justify a rewrite
_VOLATILE = (b'"POT-Creation-Date:', b'"PO-Revision-Date:', b"# Copyright (C)")


@dataclasses.dataclass(frozen=True)
class Catalogs:
    """One set of catalogs: where its messages come from and where its files live.

    :param name: ``core`` for the kernel, else the plugin's name.
    :param sources: folders extracted, in order.
    :param directory: the folder holding ``messages.pot`` and ``<locale>/LC_MESSAGES``.
    :param base: file locations in the catalogs are written relative to this folder.
    """

    name: str
    sources: tuple[Path, ...]
    directory: Path
    base: Path

    @property
    def pot(self) -> Path:
        return self.directory / f"{DOMAIN}.pot"

    def po(self, locale: str) -> Path:
        return self.directory / locale / "LC_MESSAGES" / f"{DOMAIN}.po"

    def mo(self, locale: str) -> Path:
        return self.directory / locale / "LC_MESSAGES" / f"{DOMAIN}.mo"


def kernel_catalogs(root: Path = ROOT) -> Catalogs:
    return Catalogs("core", (root / "core", root / "themes"), root / "locales", root)


def plugin_catalogs(name: str, root: Path = ROOT) -> Catalogs:
    """The catalogs of plugin ``name``: ``plugins/<name>/`` in the repository, else
    the folder of the installed package that the entry point names.

    :raises LookupError: no such plugin.
    """
    folder = root / "plugins" / name
    if not (folder / "__init__.py").is_file():
        found = [ep for ep in entry_points(group="grassroots.plugins") if ep.name == name]
        if not found:
            raise LookupError(name)
        module = found[0].load()
        folder = Path(module.__file__).resolve().parent
    base = root if folder.is_relative_to(root) else folder
    return Catalogs(name, (folder,), folder / "translations", base)


def repository_catalogs(root: Path = ROOT) -> list[Catalogs]:
    """The kernel's catalogs, then those of every plugin package in ``plugins/``."""
    plugins = root / "plugins"
    names = sorted(p.name for p in plugins.iterdir()
                   if (p / "__init__.py").is_file()) if plugins.is_dir() else []
    return [kernel_catalogs(root), *(plugin_catalogs(n, root) for n in names)]


def _mapping(root: Path):
    with open(root / "babel.cfg", encoding="utf-8") as fileobj:
        return parse_mapping_cfg(fileobj, filename="babel.cfg")


def new_catalog(locale: str | None = None) -> Catalog:
    """An empty template (``locale`` None) or ``locale`` catalog with Grassroots' header."""
    catalog = Catalog(locale=locale, domain=DOMAIN, project="Grassroots", version="1",
                      copyright_holder="Grassroots contributors", charset="utf-8",
                      fuzzy=False, last_translator="Grassroots contributors",
                      language_team=f"Grassroots {locale}" if locale else "Grassroots")
    what = f"{locale} translations" if locale else "Translations template"
    catalog.header_comment = (f"# {what} for Grassroots.\n"
                              "# Copyright (C) YEAR Grassroots contributors\n"
                              "# This file is distributed under the same license as Grassroots "
                              "(AGPL-3.0-or-later).\n#")
    return catalog


def extract(target: Catalogs, root: Path = ROOT) -> Catalog:
    """Every message of ``target``'s sources, as a template catalog (nothing written)."""
    method_map, options_map = _mapping(root)
    catalog = new_catalog()
    for source in target.sources:
        if not source.is_dir():
            continue
        prefix = source.relative_to(target.base).as_posix()
        for filename, lineno, message, comments, context in extract_from_dir(
                source, method_map, options_map, keywords=DEFAULT_KEYWORDS,
                comment_tags=("TRANSLATORS:",), strip_comment_tags=True):
            location = f"{prefix}/{filename}" if prefix != "." else filename
            catalog.add(message, None, [(location, lineno)], auto_comments=comments,
                        context=context)
    return catalog


def msgid_keys(catalog: Catalog) -> set[tuple[str | None, str]]:
    """``(context, msgid)`` of every message (the singular for plurals), header excluded."""
    return {(m.context, m.id[0] if isinstance(m.id, (list, tuple)) else m.id)
            for m in catalog if m.id}


def placeholders(text: str) -> list[str]:
    """The ``%``-placeholders of ``text``, sorted (``%%`` is a literal percent sign).

    Babel's checker lets a translation drop named placeholders; a translation
    must keep exactly the msgid's, or a value silently disappears from the page.
    """
    return sorted(m.group(0) for m in PYTHON_FORMAT.finditer(text) if m.group(0) != "%%")


def wrong_script(text: str, locale: str) -> str:
    """The characters of ``text`` that do not belong to ``locale``'s script, or "".

    zh_Hant: every CJK ideograph must be a Big5 character, the set Taiwan and
    Hong Kong share (it has no Simplified-only forms such as 发 or 这).
    zh_Hans: the text must read the same after OpenCC's Traditional-to-Simplified
    conversion (no 發 or 這 left).
    """
    if locale == "zh_Hant":
        wrong = []
        for char in text:
            if "\u4e00" <= char <= "\u9fff" or "\u3400" <= char <= "\u4dbf":
                try:
                    char.encode("big5")
                except UnicodeEncodeError:
                    wrong.append(char)
        return "".join(dict.fromkeys(wrong))
    import opencc

    simplified = opencc.OpenCC("t2s").convert(text)
    return "".join(dict.fromkeys(a for a, b in zip(text, simplified, strict=False) if a != b))


def po_bytes(catalog: Catalog) -> bytes:
    buf = io.BytesIO()
    write_po(buf, catalog, width=100, sort_output=True, ignore_obsolete=True,
             include_lineno=False)
    return buf.getvalue()


def write_if_changed(path: Path, data: bytes) -> bool:
    """Write ``data`` unless the file holds the same apart from its dates; True if written."""

    def stable(blob: bytes) -> list[bytes]:
        return [line for line in blob.splitlines() if not line.startswith(_VOLATILE)]

    if path.is_file() and stable(path.read_bytes()) == stable(data):
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return True


def read_catalog(path: Path, locale: str | None = None) -> Catalog:
    with open(path, "rb") as fileobj:
        return read_po(fileobj, locale=locale, domain=DOMAIN)


def write_template(target: Catalogs, root: Path = ROOT) -> bool:
    """Extract ``target`` into its ``messages.pot``; True if the file changed."""
    return write_if_changed(target.pot, po_bytes(extract(target, root)))


def update(target: Catalogs, locale: str, translations: dict | None = None) -> Catalog:
    """Merge ``messages.pot`` into the ``locale`` catalog and write it.

    Messages no longer in the template are dropped; kept messages keep their
    translation (a translator's ``fuzzy`` mark stays until a new translation
    replaces it). ``translations`` maps ``(context, msgid)`` to a msgstr that
    replaces the current one (the merge script's input). No fuzzy matching.
    """
    template = read_catalog(target.pot)
    po = target.po(locale)
    catalog = read_catalog(po, locale) if po.is_file() else new_catalog(locale)
    catalog.update(template, no_fuzzy_matching=True)
    catalog.fuzzy = False
    catalog.revision_date = dt.datetime.now(dt.UTC)
    for message in catalog:
        if not message.id:
            continue
        key = (message.context, message.id[0] if message.pluralizable else message.id)
        text = (translations or {}).get(key)
        if text:
            message.string = (text,) * catalog.num_plurals if message.pluralizable else text
            message.flags.discard("fuzzy")
    write_if_changed(po, po_bytes(catalog))
    return catalog


def compile_po(po: Path, locale: str) -> tuple[bytes, list[str]]:
    """The ``.mo`` bytes of ``po`` and the problems ``Catalog.check()`` finds.

    Untranslated and fuzzy messages are left out, as ``pybabel compile`` does.
    """
    catalog = read_catalog(po, locale)
    problems = [f"{po}: {message.id!r}: {error}"
                for message, errors in catalog.check() for error in errors]
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    return buf.getvalue(), problems


def compile_catalogs(target: Catalogs, locale: str) -> list[str]:
    """Write ``target``'s ``.mo`` for ``locale``; returns the problems found."""
    data, problems = compile_po(target.po(locale), locale)
    mo = target.mo(locale)
    if not mo.is_file() or mo.read_bytes() != data:
        mo.parent.mkdir(parents=True, exist_ok=True)
        mo.write_bytes(data)
    return problems


# --- the commands ---------------------------------------------------------------------


def _targets(plugin: str | None, every: bool) -> Iterator[Catalogs]:
    if every:
        yield from repository_catalogs()
        return
    if plugin is None:
        yield kernel_catalogs()
        return
    try:
        yield plugin_catalogs(plugin)
    except LookupError:
        fail(f"no plugin {plugin!r}")


def _label(target: Catalogs) -> str:
    return target.directory.relative_to(ROOT).as_posix() if target.directory.is_relative_to(
        ROOT) else str(target.directory)


@cli.group()
def i18n():
    """Translation catalogs: extract messages, update and compile zh_Hans and zh_Hant."""


_plugin_argument = click.argument("plugin", required=False)
_all_option = click.option("--all", "every", is_flag=True,
                           help="the kernel and every plugin in plugins/")


@i18n.command("extract", with_appcontext=False)
@_plugin_argument
@_all_option
def extract_command(plugin, every):
    """Extract the kernel's messages (or PLUGIN's) into messages.pot."""
    for target in _targets(plugin, every):
        changed = write_template(target)
        click.echo(f"{'wrote' if changed else 'unchanged'} {_label(target)}/{DOMAIN}.pot")


@i18n.command("update", with_appcontext=False)
@_plugin_argument
@_all_option
def update_command(plugin, every):
    """Merge messages.pot into the zh_Hans and zh_Hant catalogs (no fuzzy matching)."""
    for target in _targets(plugin, every):
        if not target.pot.is_file():
            fail(f"{_label(target)}/{DOMAIN}.pot is missing: run `grassroots i18n extract` first")
        for locale in LOCALES:
            catalog = update(target, locale)
            missing = sum(1 for m in catalog if m.id and not _translated(m))
            click.echo(f"updated {_label(target)}/{locale}: {missing} untranslated")


@i18n.command("compile", with_appcontext=False)
@_plugin_argument
@_all_option
def compile_command(plugin, every):
    """Compile the zh_Hans and zh_Hant catalogs to .mo; fail on a placeholder mismatch."""
    problems = []
    for target in _targets(plugin, every):
        for locale in LOCALES:
            if target.po(locale).is_file():
                problems += compile_catalogs(target, locale)
                click.echo(f"compiled {_label(target)}/{locale}")
    for problem in problems:
        click.echo(problem, err=True)
    if problems:
        fail(f"{len(problems)} problems in the catalogs")


def _translated(message) -> bool:
    strings = message.string if isinstance(message.string, (list, tuple)) else (message.string,)
    return all(strings) and not message.fuzzy
