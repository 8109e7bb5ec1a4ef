"""Password hashing (argon2id) and password policy — pure functions, no Flask, no database.

Hashing contract (ASVS 11.4.2, 6.3.8; SECURITY.md A8, A9):
    * Stored hashes are argon2id, m=65536 KiB, t=3, p=4 (RFC 9106 low-memory profile,
      which is also argon2-cffi 25.1's default), encoded ``$argon2id$v=19$m=65536,t=3,p=4$…``.
    * The whole password is hashed: nothing is truncated or normalised.
    * A wrong password or a malformed stored hash makes ``verify_password`` return False;
      it never raises for them.
    * ``dummy_verify`` makes the unknown-user path cost one verification as well.

Policy contract (ASVS 6.2.1, 6.2.4, 6.2.5, 6.2.8, 6.2.9, 6.2.11, 6.2.12; SECURITY.md A1, A2,
and the MLPS deviations of SECURITY.md 1.3):
    * ``check_password`` returns a list of ``PolicyViolation`` (empty = accepted); the web
      layer translates ``code`` and ``params`` into a message naming the field and the rule.
    * Length is counted in Unicode code points: Chinese passwords are fine.
    * No composition rule unless the MLPS profile sets ``classes_required``.
"""

from __future__ import annotations

import base64
import re
import secrets
import string
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache

import argon2
from argon2 import profiles
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.low_level import ARGON2_VERSION

HASHER_PROFILES = {
    "production": profiles.RFC_9106_LOW_MEMORY,
    "test": profiles.CHEAPEST,
}

DEFAULT_MIN_LENGTH = 12
DEFAULT_MAX_LENGTH = 128
COMMON_PASSWORD_COUNT = 3000
BASE_CONTEXT_WORDS = ("grassroots", "jiceng", "jicengzhili")
CHARACTER_CLASSES = ("lower", "upper", "digit", "symbol")
INITIAL_PASSWORD_ALPHABET = "".join(
    c for c in string.ascii_letters + string.digits if c not in "0O1lI"
)
INITIAL_PASSWORD_GROUPS = 4
INITIAL_PASSWORD_GROUP_LENGTH = 4
INITIAL_PASSWORD_HOURS = 72

# Digits, punctuation, symbols, spaces and "_" — anything but a letter (CJK included).
_AROUND = r"[\W\d_]*"


# --- hashing -------------------------------------------------------------------------


def make_hasher(profile: str = "production") -> argon2.PasswordHasher:
    """Return an argon2id hasher for ``profile``: "production" (m=65536, t=3, p=4;
    ASVS 11.4.2, A8) or "test" (``argon2.profiles.CHEAPEST``, for the test suite only).

    Raises ValueError for any other profile name.
    """
    try:
        parameters = HASHER_PROFILES[profile]
    except KeyError:
        raise ValueError(f"unknown password hasher profile: {profile!r}") from None
    return argon2.PasswordHasher.from_parameters(parameters)


def hash_password(hasher: argon2.PasswordHasher, password: str) -> str:
    """Return the encoded argon2 hash of the full ``password`` (no truncation; A1, A8)."""
    return hasher.hash(password)


def verify_password(hasher: argon2.PasswordHasher, stored_hash: str, password: str) -> bool:
    """True iff ``password`` matches ``stored_hash``.

    False — never an exception — on a mismatch or a malformed/foreign stored hash.
    """
    try:
        return hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(hasher: argon2.PasswordHasher, stored_hash: str) -> bool:
    """True iff ``stored_hash`` was made with parameters other than ``hasher``'s.

    Call after a successful ``verify_password`` and store a fresh hash if True
    (ASVS 11.4.2, A8). Raises ``argon2.exceptions.InvalidHashError`` for a non-argon2 hash.
    """
    return hasher.check_needs_rehash(stored_hash)


def _dummy_hash(hasher: argon2.PasswordHasher) -> str:
    """A well-formed hash with ``hasher``'s exact parameters (all-zero salt and digest)."""

    def b64(length: int) -> str:
        return base64.b64encode(bytes(length)).decode("ascii").rstrip("=")

    return (
        f"$argon2{hasher.type.name.lower()}$v={ARGON2_VERSION}"
        f"$m={hasher.memory_cost},t={hasher.time_cost},p={hasher.parallelism}"
        f"${b64(hasher.salt_len)}${b64(hasher.hash_len)}"
    )


def dummy_verify(hasher: argon2.PasswordHasher) -> None:
    """Run one full verification against a fixed dummy hash with ``hasher``'s parameters.

    Call it when the username is unknown so that path costs the same time as a wrong
    password (ASVS 6.3.8, A9). The result is discarded.
    """
    verify_password(hasher, _dummy_hash(hasher), "grassroots-dummy-password")


# --- policy --------------------------------------------------------------------------


@dataclass(frozen=True)
class PolicyViolation:
    """One broken rule: ``code`` is "too_short", "too_long", "common", "context" or
    "classes"; ``params`` holds the rule's numbers/word for the translated message."""

    code: str
    params: dict = field(default_factory=dict)


def _fold(text: str) -> str:
    """Comparison form: NFKC (full-width → ASCII) then case-folded."""
    return unicodedata.normalize("NFKC", text).casefold()


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    """The first ``COMMON_PASSWORD_COUNT`` entries of zxcvbn 4.5's "passwords" frequency
    list (ranked most common first), folded; loaded on first use only."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS  # ~1 MB module: import lazily

    return frozenset(_fold(p) for p in FREQUENCY_LISTS["passwords"][:COMMON_PASSWORD_COUNT])


def _character_class(char: str) -> str:
    if char.isdecimal():
        return "digit"
    if char.islower():
        return "lower"
    if char.isupper():
        return "upper"
    return "symbol"  # punctuation, spaces, Chinese characters and every other character


def _context_word(folded_password: str, context_words: Iterable[str]) -> str | None:
    """The first context word the password equals once digits/punctuation around it are
    stripped ("Grassroots2026!" → "grassroots"), or None."""
    for word in (*BASE_CONTEXT_WORDS, *context_words):
        folded_word = _fold(word).strip()
        if folded_word and re.fullmatch(
            _AROUND + re.escape(folded_word) + _AROUND, folded_password
        ):
            return folded_word
    return None


def check_password(
    password: str,
    *,
    min_length: int = DEFAULT_MIN_LENGTH,
    max_length: int = DEFAULT_MAX_LENGTH,
    classes_required: int = 0,
    context_words: Iterable[str] = (),
) -> list[PolicyViolation]:
    """Check a new password; return every rule it breaks (empty list = accepted).

    * "too_short" {"min"} / "too_long" {"max"}: length in code points
      (ASVS 6.2.1, 6.2.9; A1).
    * "classes" {"required", "found"}: fewer than ``classes_required`` (0–4) of
      lower, upper, digit, symbol — Chinese characters count as symbol. 0 (the default)
      means no composition rule (ASVS 6.2.5); 3 is the MLPS profile (SECURITY.md 1.3).
    * "common" {}: one of the 3,000 most common passwords, case-insensitively
      (ASVS 6.2.4, 6.2.12; A2).
    * "context" {"word"}: equal to a context word — "grassroots", "jiceng", "jicengzhili"
      plus the caller's site names, their pinyin, role names, the username — apart from
      case and digits/punctuation around it (ASVS 6.2.11; A2).

    Raises ValueError if ``classes_required`` is outside 0–4.
    """
    if not 0 <= classes_required <= len(CHARACTER_CLASSES):
        raise ValueError(f"classes_required must be 0-4, not {classes_required}")
    violations = []
    if len(password) < min_length:
        violations.append(PolicyViolation("too_short", {"min": min_length}))
    if len(password) > max_length:
        violations.append(PolicyViolation("too_long", {"max": max_length}))
    found = len({_character_class(c) for c in password})
    if found < classes_required:
        violations.append(
            PolicyViolation("classes", {"required": classes_required, "found": found})
        )
    folded = _fold(password)
    if folded in _common_passwords():
        violations.append(PolicyViolation("common"))
    word = _context_word(folded, context_words)
    if word is not None:
        violations.append(PolicyViolation("context", {"word": word}))
    return violations


def password_expired(changed_at: datetime, now: datetime, max_age_days: int) -> bool:
    """True iff ``max_age_days`` > 0 and at least that many days passed since ``changed_at``.

    0 (the default setting) never expires, as ASVS 6.2.10 wants; the MLPS profile uses 90
    (SECURITY.md 1.3). Raises ValueError for a negative ``max_age_days``.
    """
    if max_age_days < 0:
        raise ValueError(f"max_age_days must be >= 0, not {max_age_days}")
    return max_age_days > 0 and now - changed_at >= timedelta(days=max_age_days)


def generate_initial_password() -> str:
    """A new initial password from ``secrets`` (ASVS 6.4.1; A7): four groups of four
    characters from a 57-character alphabet without 0/O/1/l/I, joined by "-"
    (e.g. "x7Kq-9mZa-PtR4-hWc8"; 19 characters, about 93 random bits).

    Always contains a lower-case letter, an upper-case letter, a digit and "-", so it
    satisfies every ``classes_required`` profile.
    """
    length = INITIAL_PASSWORD_GROUPS * INITIAL_PASSWORD_GROUP_LENGTH
    while True:
        chars = "".join(secrets.choice(INITIAL_PASSWORD_ALPHABET) for _ in range(length))
        if {"lower", "upper", "digit"} <= {_character_class(c) for c in chars}:
            return "-".join(
                chars[i : i + INITIAL_PASSWORD_GROUP_LENGTH]
                for i in range(0, length, INITIAL_PASSWORD_GROUP_LENGTH)
            )


def initial_password_expired(
    issued_at: datetime, now: datetime, hours: int = INITIAL_PASSWORD_HOURS
) -> bool:
    """True iff at least ``hours`` (default 72) passed since the initial password was
    issued (ASVS 6.4.1; A7). Expiry on first use is the caller's job."""
    return now - issued_at >= timedelta(hours=hours)
