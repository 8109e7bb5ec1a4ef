"""Password hashing and policy — SECURITY.md 1.1 rows A1, A2, A7, A8, A9 and the MLPS
profile of 1.3. Every hash uses the CHEAPEST profile except the one production test."""

from __future__ import annotations

import re
import statistics
import time
from datetime import UTC, datetime, timedelta

import argon2
import pytest
from argon2 import profiles
from hypothesis import given, settings
from hypothesis import strategies as st
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from core.security import passwords
from core.security.passwords import (
    PolicyViolation,
    check_password,
    dummy_verify,
    generate_initial_password,
    hash_password,
    initial_password_expired,
    make_hasher,
    needs_rehash,
    password_expired,
    verify_password,
)

CHINESE_12 = "基层治理人人有责守护家园"  # 12 code points, 36 UTF-8 bytes
CONTEXT = ("xingfu", "幸福社区", "zhang.wei", "leader")
# Printable, no lone surrogates (a browser form cannot send them).
PASSWORD_TEXT = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=80)


@pytest.fixture(scope="module")
def hasher() -> argon2.PasswordHasher:
    return make_hasher("test")


def sample(length: int) -> str:
    """A non-dictionary password of exactly ``length`` code points."""
    return ("Vq8mTz2Lp5Rx" * 11)[:length]


def codes(password: str, **kwargs) -> list[str]:
    return [v.code for v in check_password(password, **kwargs)]


# --- A1: length, no truncation, Unicode, no composition rule -------------------------


def test_A1_eleven_characters_refused():
    assert check_password(sample(11)) == [PolicyViolation("too_short", {"min": 12})]


@pytest.mark.parametrize("length", [12, 64, 128])
def test_A1_twelve_64_and_128_characters_accepted(hasher, length):
    password = sample(length)
    assert len(password) == length
    assert check_password(password) == []
    assert verify_password(hasher, hash_password(hasher, password), password)


def test_A1_129_characters_refused():
    assert check_password(sample(129)) == [PolicyViolation("too_long", {"max": 128})]


def test_A1_lengths_are_settings():
    assert check_password(sample(14), min_length=15) == [PolicyViolation("too_short", {"min": 15})]
    assert check_password(sample(15), min_length=15, max_length=15) == []
    assert check_password(sample(16), max_length=15) == [PolicyViolation("too_long", {"max": 15})]


@pytest.mark.parametrize("length", [12, 72, 100, 128])
def test_A1_password_and_password_plus_one_character_do_not_both_verify(hasher, length):
    password = sample(length)
    longer = password + "x"
    assert verify_password(hasher, hash_password(hasher, password), password)
    assert not verify_password(hasher, hash_password(hasher, password), longer)
    assert not verify_password(hasher, hash_password(hasher, longer), password)


def test_A1_chinese_password_works(hasher):
    assert check_password(CHINESE_12) == []
    stored = hash_password(hasher, CHINESE_12)
    assert verify_password(hasher, stored, CHINESE_12)
    assert not verify_password(hasher, stored, CHINESE_12 + "园")
    assert not verify_password(hasher, stored, CHINESE_12[:-1])


def test_A1_length_counted_in_code_points_not_bytes():
    assert codes(CHINESE_12[:11]) == ["too_short"]  # 33 UTF-8 bytes, still 11 characters
    assert codes("园" * 129) == ["too_long"]


@pytest.mark.parametrize(
    "password",
    [
        "mountainriverbluesky",
        "MOUNTAINRIVERBLUESKY",
        "739104628451",
        CHINESE_12,
        "山 河 远 阔 人 间 烟",
    ],
)
def test_A1_no_composition_rule_in_default_profile(password):
    assert check_password(password) == []


@settings(max_examples=200, deadline=None)
@given(PASSWORD_TEXT)
def test_A1_length_rule_is_code_point_count(password):
    found = codes(password, min_length=10, max_length=40)
    assert ("too_short" in found) == (len(password) < 10)
    assert ("too_long" in found) == (len(password) > 40)


@settings(max_examples=30, deadline=None)
@given(PASSWORD_TEXT, st.characters(exclude_categories=("Cs",)))
def test_A1_any_password_verifies_and_its_extension_does_not(password, extra):
    hasher = make_hasher("test")
    stored = hash_password(hasher, password)
    assert verify_password(hasher, stored, password)
    assert not verify_password(hasher, stored, password + extra)


def test_A1_wrong_password_or_bad_hash_returns_false_without_raising(hasher):
    stored = hash_password(hasher, sample(20))
    assert not verify_password(hasher, stored, sample(19))
    assert not verify_password(hasher, stored, "")
    for bad in [
        "",
        "nonsense",
        "$2b$12$abcdefghijklmnopqrstuv",
        "$argon2id$v=19$m=8,t=1,p=1$xx$yy",
    ]:
        assert not verify_password(hasher, bad, sample(20))


# --- A1 / SECURITY.md 1.3: MLPS composition profile ----------------------------------


def test_A1_mlps_three_classes_two_refused_three_accepted():
    assert check_password("abcdefghijk1", classes_required=3) == [
        PolicyViolation("classes", {"required": 3, "found": 2})
    ]
    assert check_password("abcdefghiJk1", classes_required=3) == []
    assert check_password("abcdefghij!1", classes_required=3) == []


def test_A1_mlps_chinese_characters_count_as_symbol_class():
    assert check_password("基层abcdefghij", classes_required=2) == []
    assert check_password("基层abcdefghij", classes_required=3) == [
        PolicyViolation("classes", {"required": 3, "found": 2})
    ]
    assert check_password("基层abcdefghi1", classes_required=3) == []


def test_A1_mlps_four_classes_boundary():
    assert codes("abcdefghiJk1", classes_required=4) == ["classes"]
    assert check_password("abcdefghJk1!", classes_required=4) == []


@pytest.mark.parametrize("required", [-1, 5])
def test_A1_mlps_classes_required_outside_0_to_4_raises(required):
    with pytest.raises(ValueError):
        check_password(sample(12), classes_required=required)


# --- A2: common passwords and context words ------------------------------------------


def test_A2_each_of_the_3000_most_common_passwords_refused():
    common = FREQUENCY_LISTS["passwords"][:3000]
    assert len(common) == 3000
    for password in common:
        assert "common" in codes(password), password
        assert "common" in codes(password.upper()), password


def test_A2_list_stops_at_3000():
    next_one = FREQUENCY_LISTS["passwords"][3000]
    assert next_one not in FREQUENCY_LISTS["passwords"][:3000]
    assert "common" not in codes(next_one)


def test_A2_common_check_needs_no_length_violation_to_refuse():
    assert codes("qwertyuiop") == ["too_short", "common"]
    assert codes("1qaz2wsx3edc") == ["common"]  # 12 characters, still refused
    assert codes("PassWord123") == ["too_short", "common"]


@pytest.mark.parametrize(
    ("password", "word"),
    [
        ("grassroots", "grassroots"),
        ("grassroots2026!", "grassroots"),
        ("GrassRoots2026!", "grassroots"),
        ("2026@Jiceng#", "jiceng"),
        ("JICENGZHILI!!", "jicengzhili"),
        ("ｇｒａｓｓｒｏｏｔｓ２０２６", "grassroots"),
        ("Xingfu2026.", "xingfu"),
        ("幸福社区2026!", "幸福社区"),
        ("Zhang.Wei_1990", "zhang.wei"),
        ("!!Leader99", "leader"),
    ],
)
def test_A2_context_words_refused(password, word):
    assert PolicyViolation("context", {"word": word}) in check_password(
        password, context_words=CONTEXT
    )


def test_A2_context_words_from_caller_are_case_and_space_insensitive():
    assert "context" in codes("xingfu-2026-!!", context_words=[" XingFu "])


def test_A2_context_word_inside_a_longer_passphrase_allowed():
    assert check_password("grassroots gardening club", context_words=CONTEXT) == []
    assert check_password("xingfuroad garden", context_words=CONTEXT) == []


def test_A2_empty_context_word_ignored():
    assert check_password("2026!2026!2026", context_words=["", "  "]) == []


# --- A8: hash parameters and rehash ---------------------------------------------------


def test_A8_production_hash_parameters_exact():
    """The one production-cost hash of the suite."""
    production = make_hasher()
    stored = hash_password(production, "grassroots-params-check")
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert argon2.extract_parameters(stored) == profiles.RFC_9106_LOW_MEMORY


def test_A8_production_profile_is_argon2_cffi_default():
    default = argon2.PasswordHasher()
    production = make_hasher("production")
    assert (production.type, production.memory_cost, production.time_cost) == (
        argon2.Type.ID,
        65536,
        3,
    )
    assert (production.parallelism, production.hash_len, production.salt_len) == (4, 32, 16)
    for name in ("type", "memory_cost", "time_cost", "parallelism", "hash_len", "salt_len"):
        assert getattr(production, name) == getattr(default, name)


def test_A8_cheapest_hash_needs_rehash_under_production_hasher(hasher):
    cheap = hash_password(hasher, sample(16))
    assert needs_rehash(make_hasher("production"), cheap)
    assert not needs_rehash(hasher, cheap)


def test_A8_unknown_hasher_profile_raises():
    with pytest.raises(ValueError):
        make_hasher("fast")


# --- A9: the unknown-user path costs one verification --------------------------------


class SpyHasher(argon2.PasswordHasher):
    """Records each verify; runs the real one only when ``call_real``."""

    calls: list
    call_real: bool

    def verify(self, encoded, password):
        self.calls.append(encoded)
        if self.call_real:
            return super().verify(encoded, password)
        raise argon2.exceptions.VerifyMismatchError


@pytest.mark.parametrize(
    ("params", "call_real"),
    [(profiles.CHEAPEST, True), (profiles.RFC_9106_LOW_MEMORY, False)],
)
def test_A9_dummy_verify_runs_one_real_verify_with_the_hashers_parameters(params, call_real):
    spy = SpyHasher.from_parameters(params)
    spy.calls, spy.call_real = [], call_real
    assert dummy_verify(spy) is None
    assert len(spy.calls) == 1
    assert argon2.extract_parameters(spy.calls[0]) == params


def test_A9_dummy_verify_costs_about_as_much_as_a_wrong_password():
    medium = argon2.PasswordHasher(time_cost=1, memory_cost=16384, parallelism=1)
    stored = hash_password(medium, sample(20))
    wrong, dummy = [], []
    for _ in range(9):
        start = time.perf_counter()
        verify_password(medium, stored, sample(21))
        wrong.append(time.perf_counter() - start)
        start = time.perf_counter()
        dummy_verify(medium)
        dummy.append(time.perf_counter() - start)
    ratio = statistics.median(dummy) / statistics.median(wrong)
    assert 0.5 < ratio < 2.0, ratio


# --- MLPS profile (SECURITY.md 1.3): password maximum age ---------------------------

T0 = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)


def test_MLPS_max_age_zero_never_expires():
    assert not password_expired(T0, T0 + timedelta(days=10_000), 0)


def test_MLPS_max_age_90_days_boundary():
    assert not password_expired(T0, T0 + timedelta(days=90, seconds=-1), 90)
    assert password_expired(T0, T0 + timedelta(days=90), 90)


def test_MLPS_negative_max_age_raises():
    with pytest.raises(ValueError):
        password_expired(T0, T0, -1)


# --- A7: initial passwords ------------------------------------------------------------

INITIAL = re.compile(r"[A-HJ-NP-Za-km-z2-9]{4}(-[A-HJ-NP-Za-km-z2-9]{4}){3}")


def test_A7_initial_password_readable_and_strong():
    generated = [generate_initial_password() for _ in range(300)]
    assert len(set(generated)) == len(generated)
    for password in generated:
        assert INITIAL.fullmatch(password), password
        assert len(password) == 19 and not set("0O1lI") & set(password)
        assert check_password(password, classes_required=4) == []


def test_A7_initial_password_comes_from_secrets(monkeypatch):
    picks = iter("aB3" * 6)

    class FakeSecrets:
        @staticmethod
        def choice(alphabet):
            assert alphabet == passwords.INITIAL_PASSWORD_ALPHABET
            return next(picks)

    monkeypatch.setattr(passwords, "secrets", FakeSecrets)
    assert generate_initial_password() == "aB3a-B3aB-3aB3-aB3a"


def test_A7_initial_password_alphabet_has_57_unambiguous_characters():
    alphabet = passwords.INITIAL_PASSWORD_ALPHABET
    assert len(alphabet) == len(set(alphabet)) == 57
    assert not set("0O1lI") & set(alphabet)


def test_A7_initial_password_expires_after_72_hours():
    assert not initial_password_expired(T0, T0 + timedelta(hours=72, seconds=-1))
    assert initial_password_expired(T0, T0 + timedelta(hours=72))
    assert not initial_password_expired(T0, T0 + timedelta(hours=23), hours=24)
    assert initial_password_expired(T0, T0 + timedelta(hours=24), hours=24)
