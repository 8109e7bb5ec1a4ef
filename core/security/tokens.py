"""Opaque bearer tokens: session ids, API tokens, password-reset and activation links.

Contract (ASVS 7.2.3, 11.5.1; SECURITY.md S2):
    * ``new_token`` gives 256 random bits from ``secrets`` as 43 URL-safe characters.
    * Only ``token_digest(token)`` (hex SHA-256) is ever stored; the token itself is given
      to its holder once and looked up by its digest.
"""

from __future__ import annotations

import hashlib
import secrets

TOKEN_BYTES = 32


def new_token() -> str:
    """A new token: ``secrets.token_urlsafe(32)`` — 256 bits, 43 characters [A-Za-z0-9_-]."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_digest(token: str) -> str:
    """The value to store for ``token``: SHA-256 of its UTF-8 bytes, 64 lower-case hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
