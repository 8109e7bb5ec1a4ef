"""The audit hash chain: canonical form, hashes and the genesis value.

Design: SECURITY.md §3.3. Each event commits to the hash of its payload rather
than the payload itself, so a payload can be redacted after its retention
period while the chain still verifies. Floats are refused because their text
form is not canonical; money is integer fen or a decimal string.
"""

from __future__ import annotations

import hashlib
import json

#: the columns an event's hash covers, in the order they are stored
HEADER_FIELDS = (
    "chain_id", "seq", "ts_utc", "actor_id", "actor_site_id", "site_id", "action",
    "object_type", "object_id", "result", "ip", "request_id", "payload_hash", "alg",
    "prev_hash",
)

ALGORITHMS = ("sha256", "sm3")
_EVENT_PREFIX = b"GR-AUDIT-v1\x00"
_PAYLOAD_PREFIX = b"GR-PAYLOAD-v1\x00"
_GENESIS_PREFIX = b"GR-GENESIS-v1\x00"


class NonCanonicalValue(TypeError):
    """A value with no canonical JSON form (a float, a date object, a set...)."""


def _check(value, path="$"):
    if value is None or isinstance(value, (str, bool, int)):
        return
    if isinstance(value, list):
        for i, item in enumerate(value):
            _check(item, f"{path}[{i}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise NonCanonicalValue(f"{path}: key {key!r} is not a string")
            _check(item, f"{path}.{key}")
        return
    raise NonCanonicalValue(f"{path}: {type(value).__name__} has no canonical form")


def canonical(obj) -> bytes:
    """Canonical JSON bytes: sorted keys, no spaces, UTF-8, no floats.

    :raises NonCanonicalValue: for a float or any type other than
        str/int/bool/None/list/dict.
    """
    _check(obj)
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                      allow_nan=False).encode("utf-8")


def digest(alg: str, data: bytes) -> str:
    """Hex digest of ``data`` with SHA-256 or SM3 (GB/T 32905, through OpenSSL)."""
    if alg not in ALGORITHMS:
        raise ValueError(f"unknown audit hash algorithm {alg!r}")
    return hashlib.new(alg, data).hexdigest()


def payload_hash(alg: str, payload) -> str:
    return digest(alg, _PAYLOAD_PREFIX + canonical(payload))


def event_hash(alg: str, header: dict) -> str:
    """The hash of one event: ``H(prefix ‖ prev_hash ‖ canonical(header))``."""
    return digest(alg, _EVENT_PREFIX + header["prev_hash"].encode("ascii") + canonical(header))


def genesis(alg: str, deployment_id: str, chain_id: int) -> str:
    """The ``prev_hash`` of a chain's first event, so chains cannot be swapped."""
    return digest(alg, _GENESIS_PREFIX + f"{deployment_id}:{chain_id}".encode())
