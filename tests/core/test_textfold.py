"""Script-, width- and case-blind search with pinyin (core.textfold)."""

from __future__ import annotations

import threading
import time

import pytest

from core import textfold
from core.textfold import fold, fold_query, matches, search_keys

# --- fold ------------------------------------------------------------------------------


def test_fold_turns_traditional_into_simplified():
    assert fold("社區服務站") == "社区服务站"
    assert fold("張曉明") == "张晓明"


def test_fold_leaves_simplified_text_alone():
    assert fold("社区服务站") == "社区服务站"
    assert fold("张晓明") == "张晓明"


def test_fold_normalises_width_and_case():
    assert fold("ＡＢＣ１２３") == "abc123"
    assert fold("Straße") == "strasse"
    assert fold("ZXM") == "zxm"


def test_fold_collapses_and_trims_whitespace():
    assert fold("  社區\u3000服務站\t A  ") == "社区 服务站 a"


def test_fold_keeps_latin_digits_and_punctuation():
    assert fold("3號樓 A-2 室") == "3号楼 a-2 室"


def test_fold_of_empty_input_is_empty():
    assert fold("") == ""
    assert fold("   ") == ""


def test_fold_is_idempotent():
    for text in ["社區服務站", "Ｚｈａｎｇ ３", "张晓明", "Straße"]:
        assert fold(fold(text)) == fold(text)


def test_fold_query_also_removes_inner_whitespace():
    assert fold_query(" Zhang  Xiaoming ") == "zhangxiaoming"
    assert fold_query("張 曉明") == "张晓明"
    assert fold_query("") == ""


# --- search_keys -------------------------------------------------------------------------


def test_search_keys_hold_text_full_pinyin_and_initials():
    assert search_keys("张晓明") == "张晓明 zhangxiaoming zxm"


def test_search_keys_of_traditional_text_are_simplified():
    assert search_keys("張曉明") == search_keys("张晓明")
    assert search_keys("社區服務站") == "社区服务站 shequfuwuzhan sqfwz"


def test_search_keys_of_mixed_text_keep_latin_and_digits_whole():
    assert search_keys("3號樓A座") == "3号楼a座 3haolouazuo 3hlaz"


def test_search_keys_of_latin_text_are_not_repeated():
    assert search_keys("John Smith") == "johnsmith"


def test_search_keys_of_empty_input_are_empty():
    assert search_keys("") == ""
    assert search_keys("  ") == ""


def test_search_keys_write_u_umlaut_as_v():
    assert search_keys("吕布") == "吕布 lvbu lb"


@pytest.mark.parametrize(
    ("name", "surname_reading", "common_reading"),
    [
        ("曾小贤", "zengxiaoxian", "cengxiaoxian"),
        ("单田芳", "shantianfang", "dantianfang"),
        ("解小东", "xiexiaodong", "jiexiaodong"),
        ("区志强", "ouzhiqiang", "quzhiqiang"),
        ("仇英", "qiuying", "chouying"),
        ("朴树", "piaoshu", "pushu"),
        ("翟小明", "zhaixiaoming", "dixiaoming"),
    ],
)
def test_polyphonic_surname_puts_surname_reading_first_and_keeps_common_one(
    name, surname_reading, common_reading
):
    keys = search_keys(name).split()
    assert keys[1] == surname_reading
    assert common_reading in keys[3:]
    assert matches(surname_reading, name)
    assert matches(common_reading, name)


def test_surname_reading_applies_only_at_the_start():
    assert search_keys("小曾") == "小曾 xiaoceng xc"


def test_compound_surnames_use_pypinyin_phrases():
    assert search_keys("尉迟恭").split()[1] == "yuchigong"
    assert search_keys("万俟卨").split()[1] == "moqixie"


# --- matches -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "zxm",
        "ZXM",
        "zhangxiaoming",
        "Zhang Xiaoming",
        "张晓明",
        "張曉明",
        "晓明",
        "曉明",
        "xiaoming",
        "xm",
    ],
)
def test_zhang_xiaoming_is_found_by(query):
    assert matches(query, "张晓明")


@pytest.mark.parametrize("query", ["zxn", "lixiaoming", "李晓明", "晓红", "zhangxiaomingg"])
def test_zhang_xiaoming_is_not_found_by(query):
    assert not matches(query, "张晓明")


def test_traditional_record_is_found_by_simplified_query_and_the_reverse():
    assert matches("社区服务站", "社區服務站")
    assert matches("服务", "社區服務站")
    assert matches("社區服務站", "社区服务站")
    assert matches("服務", "社区服务站")
    assert matches("sqfwz", "社區服務站")


def test_mixed_latin_and_digits_are_found():
    record = "3號樓A座"
    for query in ["3号楼", "3號樓", "3hl", "3haolou", "A座", "ａ座", "3hlaz"]:
        assert matches(query, record), query


def test_query_cannot_span_two_keys():
    # keys are "张晓明 zhangxiaoming zxm": nothing bridges "ming" and "zxm"
    assert not matches("mingzxm", "张晓明")


def test_empty_query_matches_everything_and_empty_text_only_empty_query():
    assert matches("", "张晓明")
    assert matches("  ", "张晓明")
    assert matches("", "")
    assert not matches("z", "")


def test_keys_support_sql_like_search():
    records = {1: "张晓明", 2: "張曉紅", 3: "李明", 4: "社區服務站"}
    column = {rid: search_keys(text) for rid, text in records.items()}

    def like(q: str) -> list[int]:
        term = fold_query(q)
        return [rid for rid, keys in column.items() if term in keys]

    assert like("zx") == [1, 2]
    assert like("曉") == [1, 2]
    assert like("ming") == [1, 3]
    assert like("社区") == [4]


# --- the shared converter ------------------------------------------------------------------


def test_converter_is_created_once_under_concurrent_first_use(monkeypatch):
    created = []
    real = textfold.opencc.OpenCC

    def slow_factory(config):
        time.sleep(0.05)  # widen the window in which a second thread could slip in
        created.append(config)
        return real(config)

    monkeypatch.setattr(textfold, "_converter", None)
    monkeypatch.setattr(textfold.opencc, "OpenCC", slow_factory)
    results = []
    threads = [
        threading.Thread(target=lambda: results.append(fold("社區服務站"))) for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert created == ["t2s"]
    assert results == ["社区服务站"] * 8


def test_concurrent_folds_agree():
    texts = ["社區服務站", "張曉明", "頭髮", "後台", "Ｚｈａｎｇ"] * 20
    expected = [fold(t) for t in texts]
    failures = []

    def work():
        for _ in range(50):
            if [fold(t) for t in texts] != expected:
                failures.append(1)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
