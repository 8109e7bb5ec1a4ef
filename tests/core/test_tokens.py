"""Opaque tokens — SECURITY.md 1.1 row S2 (ASVS 7.2.3, 11.5.1): 256 bits from
``secrets``, only the SHA-256 digest stored."""

from __future__ import annotations

import base64
import hashlib
import re

from core.security.tokens import new_token, token_digest


def test_S2_token_is_43_urlsafe_characters():
    for _ in range(200):
        assert re.fullmatch(r"[A-Za-z0-9_-]{43}", new_token())


def test_S2_token_carries_256_bits():
    token = new_token()
    assert len(base64.urlsafe_b64decode(token + "=")) == 32


def test_S2_tokens_are_unique():
    tokens = {new_token() for _ in range(2000)}
    assert len(tokens) == 2000


def test_S2_digest_is_64_hex_characters():
    assert re.fullmatch(r"[0-9a-f]{64}", token_digest(new_token()))


def test_S2_digest_is_sha256_of_the_token():
    assert token_digest("abc") == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )
    token = new_token()
    assert token_digest(token) == hashlib.sha256(token.encode()).hexdigest()


def test_S2_digest_is_deterministic_and_distinguishes_tokens():
    token = new_token()
    assert token_digest(token) == token_digest(token)
    assert token_digest(token) != token_digest(new_token())
    assert token_digest(token) != token
