"""The translation catalogs: complete, consistent and what the code uses (STYLE rule 18).

For the kernel (``locales/``) and every plugin with messages
(``plugins/<name>/translations/``): the template is a fresh extraction of the
code, every msgid has a non-empty, non-fuzzy translation in zh_Hans and
zh_Hant with the msgid's placeholders, each committed ``.mo`` is the compile
of its ``.po``, one msgid reads the same in every catalog of a script
(flask-babel's merge lets the later catalog win: STYLE gotcha 4), and no bare
``zh`` folder exists (gotcha 5). The second half checks the commands'
functions on a throw-away plugin.
"""

from __future__ import annotations

import shutil
from collections import defaultdict

import pytest
from babel.messages.catalog import Catalog
from click.testing import CliRunner

from core.cli import cli
from core.cli import i18n_commands as ic
from core.i18n import LOCALES


def _catalog_sets() -> list[ic.Catalogs]:
    found = []
    for target in ic.repository_catalogs():
        if target.name == "core" or target.directory.is_dir() or len(ic.extract(target)):
            found.append(target)
    return found


TARGETS = _catalog_sets()
IDS = [t.name for t in TARGETS]
CASES = [(t, loc) for t in TARGETS for loc in LOCALES]
CASE_IDS = [f"{t.name}-{loc}" for t, loc in CASES]


def _key(message):
    return (message.context, message.id[0] if message.pluralizable else message.id)


def _strings(message) -> tuple[str, ...]:
    return tuple(message.string) if message.pluralizable else (message.string,)


def _label(key) -> str:
    context, msgid = key
    return f"{context}|{msgid}" if context else msgid


@pytest.mark.parametrize("target", TARGETS, ids=IDS)
def test_E18_catalog_folders_are_exactly_zh_Hans_and_zh_Hant(target):
    assert target.directory.is_dir(), "run: grassroots i18n extract/update/compile --all"
    folders = {p.name for p in target.directory.iterdir() if p.is_dir()}
    assert folders == set(LOCALES), f"{target.directory}: {sorted(folders)}"
    for locale in LOCALES:
        assert target.po(locale).is_file()
        assert target.mo(locale).is_file()


@pytest.mark.parametrize("target", TARGETS, ids=IDS)
def test_E18_template_holds_every_msgid_of_the_code(target, tmp_path):
    """Re-extract into a temporary file and compare: a stale .pot hides new strings."""
    fresh = tmp_path / "messages.pot"
    fresh.write_bytes(ic.po_bytes(ic.extract(target)))
    committed = ic.msgid_keys(ic.read_catalog(target.pot))
    extracted = ic.msgid_keys(ic.read_catalog(fresh))
    assert sorted(map(_label, extracted - committed)) == [], "run: python /work/i18n/merge.py"
    assert sorted(map(_label, committed - extracted)) == [], "msgids no longer in the code"


@pytest.mark.parametrize(("target", "locale"), CASES, ids=CASE_IDS)
def test_E18_every_msgid_is_translated_and_not_fuzzy(target, locale):
    template = ic.msgid_keys(ic.read_catalog(target.pot))
    catalog = ic.read_catalog(target.po(locale), locale)
    messages = {_key(m): m for m in catalog if m.id}
    assert not catalog.fuzzy, "the catalog header is marked fuzzy"
    assert sorted(map(_label, template - set(messages))) == [], "missing from the .po"
    assert sorted(map(_label, set(messages) - template)) == [], "not in the .pot"
    empty = sorted(_label(k) for k, m in messages.items() if not all(_strings(m)))
    fuzzy = sorted(_label(k) for k, m in messages.items() if m.fuzzy)
    assert empty == []
    assert fuzzy == []


@pytest.mark.parametrize(("target", "locale"), CASES, ids=CASE_IDS)
def test_E18_placeholders_match_the_msgid(target, locale):
    catalog = ic.read_catalog(target.po(locale), locale)
    problems = [f"{_label(_key(m))}: {e}" for m, errors in catalog.check() for e in errors]
    for message in catalog:
        if not message.id:
            continue
        msgid = message.id[0] if message.pluralizable else message.id
        for text in _strings(message):
            if text and ic.placeholders(text) != ic.placeholders(msgid):
                problems.append(f"{msgid!r} -> {text!r}")
    assert problems == []


@pytest.mark.parametrize(("target", "locale"), CASES, ids=CASE_IDS)
def test_E18_committed_mo_is_a_fresh_compile_of_its_po(target, locale):
    data, _problems = ic.compile_po(target.po(locale), locale)
    assert target.mo(locale).read_bytes() == data, "run: grassroots i18n compile --all"


@pytest.mark.parametrize(("target", "locale"), CASES, ids=CASE_IDS)
def test_E18_translations_are_written_in_their_own_script(target, locale):
    catalog = ic.read_catalog(target.po(locale), locale)
    wrong = {}
    for message in catalog:
        for text in _strings(message) if message.id else ():
            found = ic.wrong_script(text, locale)
            if found:
                wrong[text] = found
    assert wrong == {}


@pytest.mark.parametrize("locale", LOCALES)
def test_E18_one_msgid_reads_the_same_in_every_catalog(locale):
    seen = defaultdict(dict)
    for target in TARGETS:
        for message in ic.read_catalog(target.po(locale), locale):
            if message.id and all(_strings(message)):
                seen[_key(message)][target.name] = _strings(message)
    differing = {_label(k): v for k, v in seen.items() if len(set(v.values())) > 1}
    assert differing == {}


def test_E18_no_bare_zh_folder_anywhere():
    for target in ic.repository_catalogs():
        assert not (target.directory / "zh").exists()


# --- the commands' functions, on a throw-away plugin -------------------------------------

PLUGIN_PY = '''
from core.i18n import _, _l, pgettext

TITLE = _l("Party branch")

def view(n):
    return _("%(n)s members", n=n), pgettext("party", "Status")
'''
PLUGIN_HTML = '<h1>{{ _("Branch meetings") }}</h1>\n'


@pytest.fixture
def plugin(tmp_path):
    """A repository root with babel.cfg and one plugin package ``demo``."""
    shutil.copy(ic.ROOT / "babel.cfg", tmp_path / "babel.cfg")
    package = tmp_path / "plugins" / "demo"
    (package / "templates" / "demo").mkdir(parents=True)
    (package / "__init__.py").write_text(PLUGIN_PY, encoding="utf-8")
    (package / "templates" / "demo" / "index.html").write_text(PLUGIN_HTML, encoding="utf-8")
    return tmp_path, ic.plugin_catalogs("demo", tmp_path)


def test_E18_extract_finds_lazy_contextual_and_template_messages(plugin):
    root, target = plugin
    assert ic.msgid_keys(ic.extract(target, root)) == {
        (None, "Party branch"), (None, "%(n)s members"), ("party", "Status"),
        (None, "Branch meetings")}
    assert target.directory == root / "plugins" / "demo" / "translations"


def test_E18_writing_an_unchanged_template_leaves_the_file_alone(plugin):
    root, target = plugin
    assert ic.write_template(target, root) is True
    before = target.pot.read_bytes()
    assert ic.write_template(target, root) is False
    assert target.pot.read_bytes() == before


def test_E18_update_keeps_translations_drops_removed_msgids_and_never_guesses(plugin):
    root, target = plugin
    ic.write_template(target, root)
    ic.update(target, "zh_Hans", {(None, "Branch meetings"): "支部会议",
                                   (None, "Party branch"): "党支部"})
    package = root / "plugins" / "demo" / "__init__.py"
    package.write_text(PLUGIN_PY.replace('"Party branch"', '"Party branches"'), encoding="utf-8")
    ic.write_template(target, root)
    catalog = ic.update(target, "zh_Hans")
    messages = {_key(m): m for m in catalog if m.id}
    assert messages[(None, "Branch meetings")].string == "支部会议"
    assert (None, "Party branch") not in messages
    assert messages[(None, "Party branches")].string == ""  # no fuzzy match to "Party branch"
    assert not messages[(None, "Party branches")].fuzzy
    assert "Party branch\"" not in target.po("zh_Hans").read_text(encoding="utf-8")


def test_E18_compile_reports_a_placeholder_mismatch(plugin):
    root, target = plugin
    ic.write_template(target, root)
    ic.update(target, "zh_Hant", {(None, "%(n)s members"): "%(count)s 位成員"})
    problems = ic.compile_catalogs(target, "zh_Hant")
    assert any("%(n)s members" in p for p in problems)
    assert ic.placeholders("%(count)s 位成員") != ic.placeholders("%(n)s members")


def test_E18_a_translation_dropping_a_placeholder_is_caught_by_our_check_not_babels():
    catalog = Catalog(locale="zh_Hans")
    catalog.add("%(n)s members", "成员")
    assert [e for _m, errors in catalog.check() for e in errors] == []
    assert ic.placeholders("成员") != ic.placeholders("%(n)s members")


def test_E18_compiled_mo_serves_the_translation(plugin):
    from babel.support import Translations

    root, target = plugin
    ic.write_template(target, root)
    ic.update(target, "zh_Hant", {(None, "Party branch"): "黨支部", ("party", "Status"): "階段"})
    assert ic.compile_catalogs(target, "zh_Hant") == []
    translations = Translations.load(str(target.directory), ["zh_Hant"])
    assert translations.gettext("Party branch") == "黨支部"
    assert translations.pgettext("party", "Status") == "階段"
    assert translations.gettext("Branch meetings") == "Branch meetings"  # untranslated


@pytest.mark.parametrize(("text", "locale", "wrong"), [
    ("登入", "zh_Hant", ""), ("台灣審批", "zh_Hant", ""), ("发这", "zh_Hant", "发这"),
    ("登录", "zh_Hans", ""), ("登錄這", "zh_Hans", "錄這"), ("%(n)s 条", "zh_Hans", ""),
])
def test_E18_wrong_script_finds_characters_of_the_other_script(text, locale, wrong):
    assert ic.wrong_script(text, locale) == wrong


def test_E18_cli_names_an_unknown_plugin():
    result = CliRunner().invoke(cli, ["i18n", "extract", "no_such_plugin"])
    assert result.exit_code == 1
    assert "no plugin 'no_such_plugin'" in result.output
