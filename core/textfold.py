"""Search that ignores script, width and case, and finds people by pinyin.

:func:`fold` turns text into a search key: NFKC (full-width ``ＡＢ１`` →
``AB1``), Traditional → Simplified Chinese (OpenCC ``t2s``) and casefold, so
``張曉明``, ``张晓明`` match each other. :func:`search_keys` builds the string
stored next to a record, e.g. in an indexed column::

    search_keys("张晓明") == "张晓明 zhangxiaoming zxm"

A SQL ``LIKE '%' || fold_query(q) || '%'`` on that column then finds the
record by its characters (either script), its full pinyin or its initials.
:func:`matches` does the same test in Python.

OpenCC converts phrase by phrase, so a single character can fold differently
alone than inside a phrase (``乾`` becomes ``干``, but ``乾隆`` stays, so the
query ``乾`` misses ``乾隆``); whole names and words, the usual queries, fold
alike.

Cost per call, measured with timeit on the development machine (opencc
1.4.2, pypinyin 0.55): ``fold`` of a three-character name about 2 µs, of
40 characters about 9 µs; ``fold_query`` about 2 µs; ``search_keys`` and
``matches`` of a name about 55 µs (pypinyin does most of the work).

Nothing is loaded on import. The OpenCC converter (about 25 ms to build) is
created once, under a lock, and shared by all threads: conversion does not
change it. pypinyin (about 0.3 s to import, for its dictionaries) is imported
by the first :func:`search_keys` or :func:`matches` call.
"""

from __future__ import annotations

import re
import threading
import unicodedata

import opencc

_converter_lock = threading.Lock()
_converter: opencc.OpenCC | None = None

#: runs of Han characters (CJK unified ideographs, extensions A–F, 〇)
_HAN_RUN = re.compile(r"([\u3007\u3400-\u4dbf\u4e00-\u9fff\U00020000-\U0002ebef]+)")

#: surname readings that differ from pypinyin's most common reading of the
#: character; pypinyin 0.55 has no surname mode (python-pinyin issue #297)
_SURNAME_READINGS = {
    "卜": "bu",
    "薄": "bo",
    "查": "zha",
    "仇": "qiu",
    "都": "du",
    "繁": "po",
    "盖": "ge",
    "解": "xie",
    "阚": "kan",
    "乐": "yue",
    "六": "lu",
    "缪": "miao",
    "能": "nai",
    "粘": "nian",
    "佴": "nai",
    "区": "ou",
    "朴": "piao",
    "覃": "qin",
    "秘": "bi",
    "单": "shan",
    "折": "she",
    "隗": "wei",
    "员": "yun",
    "曾": "zeng",
    "扎": "za",
    "藏": "zang",
    "翟": "zhai",
    "种": "chong",
    "重": "chong",
}


def _t2s() -> opencc.OpenCC:
    """The shared Traditional → Simplified converter, created on first use."""
    global _converter
    if _converter is None:
        with _converter_lock:
            if _converter is None:
                _converter = opencc.OpenCC("t2s")
    return _converter


def fold(text: str) -> str:
    """The normalised search form of ``text``: NFKC, Simplified, casefolded,
    whitespace runs collapsed to one space and trimmed. ``""`` for ``""``."""
    text = unicodedata.normalize("NFKC", text)
    text = _t2s().convert(text).casefold()
    return " ".join(text.split())


def fold_query(q: str) -> str:
    """A user's query folded to match :func:`search_keys`: as :func:`fold`, with
    all whitespace removed (``"Zhang Xiaoming"`` → ``"zhangxiaoming"``).

    The result is a plain term: escape ``%`` and ``_`` before putting it into a
    ``LIKE`` pattern.
    """
    return "".join(fold(q).split())


def _units(folded: str) -> list[tuple[str, str]]:
    """(pinyin, initial) per character of the Han runs in ``folded``, toneless
    with ü written ``v``; every other run (Latin, digits, punctuation) is one
    unit kept whole in both places."""
    from pypinyin import Style, lazy_pinyin  # 0.3 s to import: only when needed

    units: list[tuple[str, str]] = []
    for run in _HAN_RUN.split(folded):
        if _HAN_RUN.fullmatch(run):
            units += [(s, s[0]) for s in lazy_pinyin(run, style=Style.NORMAL)]
        elif run:
            units.append((run, run))
    return units


def search_keys(name: str) -> str:
    """The string to store next to a record so ``LIKE '%term%'`` finds it.

    Space-separated, without duplicates: the folded text with whitespace
    removed, its full pinyin and its initials. When the text starts with a
    polyphonic surname (曾, 单, 解, 区, ...), the pinyin and initials with the
    surname reading come first, followed by those with the common reading,
    since the same character also starts ordinary words::

        search_keys("張曉明") == "张晓明 zhangxiaoming zxm"
        search_keys("曾小贤") == "曾小贤 zengxiaoxian zxx cengxiaoxian cxx"
    """
    folded = "".join(fold(name).split())
    units = _units(folded)
    spellings = [units]
    reading = _SURNAME_READINGS.get(folded[:1])
    if reading:
        spellings.insert(0, [(reading, reading[0]), *units[1:]])
    keys = [folded]
    for spelling in spellings:
        keys.append("".join(p for p, _ in spelling))
        keys.append("".join(i for _, i in spelling))
    return " ".join(dict.fromkeys(k for k in keys if k))


def matches(query: str, text: str) -> bool:
    """Whether ``query`` finds ``text`` the way a ``LIKE`` on
    :func:`search_keys` would; an empty query matches everything."""
    return fold_query(query) in search_keys(text)
