"""Restores are events, so an honest rollback is told apart from a truncation.

SECURITY §3.3 item 8 and the §5 row "Restore drill". After a backup is
restored, the checkpoints taken since the backup name heads the database no
longer holds; ``verify`` would call that a truncation. :func:`record_restore`
appends one ``audit.restore`` event to every restored chain, right after its
restored head, naming that head, the time and the newest checkpoint. Its
payload carries a MAC under the audit key: whoever owns the database but not
the key cannot forge a restore to excuse a truncation, nor move a real one in
time (the time is inside the MAC). ``verify`` then counts a checkpoint taken
before the restore that names a later event as *superseded*, not as an error.
"""

from __future__ import annotations

import dataclasses
import hmac
import json

from flask import current_app

from core.audit import chain, checkpoints, log
from core.audit.models import AuditEvent
from core.storage import transaction, utcnow

RESTORE_ACTION = "audit.restore"
_PREFIX = b"GR-RESTORE-v1\x00"


@dataclasses.dataclass(frozen=True)
class Restore:
    """A verified restore: the chain was rolled back to ``seq`` at ``time``."""

    seq: int
    time: str


def _mac(body: dict, key: bytes) -> str:
    return hmac.new(key, _PREFIX + chain.canonical(body), body["alg"]).hexdigest()


def _checkpoint_summary(last_checkpoint):
    if isinstance(last_checkpoint, checkpoints.Checkpoint):
        last_checkpoint = last_checkpoint.record
    if isinstance(last_checkpoint, dict):
        return {"time": last_checkpoint.get("time"),
                "fingerprint": str(last_checkpoint.get("mac", ""))[:16]}
    return None if last_checkpoint is None else str(last_checkpoint)


def record_restore(restored_head, last_checkpoint, *, key: bytes | None = None,
                   alg: str | None = None) -> list[AuditEvent]:
    """Append an ``audit.restore`` event to every restored chain (SECURITY §3.3 item 8).

    For the restore command: call it once the restored database is open
    again, before anything else writes to it, inside an application context
    (the key comes from ``AUDIT_KEY_FILE``, the algorithm from ``AUDIT_HASH``).

    :param restored_head: the chain heads of the restored database, as the
        backup manifest records them: ``{chain_id: {"seq": n, "hash": h}}``
        (chain ids may be strings); None reads them from the head table now.
    :param last_checkpoint: the newest checkpoint the instance holds after the
        restore: a record (``checkpoints.latest(dir).record``), a
        :class:`~core.audit.checkpoints.Checkpoint`, a file name, or None.
    :returns: the appended events, in chain order.
    :raises ValueError: when a chain's head in the database is not the one
        named (something wrote in between, or the wrong heads were passed).
    :raises core.audit.checkpoints.KeyFileError: when the key file is missing.
    """
    key = key or checkpoints.read_key(current_app.config["AUDIT_KEY_FILE"])
    alg = alg or current_app.config["AUDIT_HASH"]
    summary = _checkpoint_summary(last_checkpoint)
    time = utcnow().isoformat(timespec="microseconds") + "Z"
    events = []
    with transaction():
        actual = {h.chain_id: h for h in checkpoints.current_heads()}
        if restored_head is None:
            named = {c: {"seq": h.seq, "hash": h.hash} for c, h in actual.items()}
        else:
            named = {int(c): head for c, head in restored_head.items()}
        for chain_id in sorted(named):
            head = actual.get(chain_id)
            seq, digest = int(named[chain_id]["seq"]), str(named[chain_id]["hash"])
            if head is None or (head.seq, head.hash) != (seq, digest):
                raise ValueError(f"chain {chain_id}: the database head is not the restored "
                                 f"head seq {seq}")
            body = {"alg": alg, "chain_id": chain_id, "restored": {"seq": seq, "hash": digest},
                    "time": time, "last_checkpoint": summary}
            events.append(log.append(RESTORE_ACTION, site_id=chain_id or None,
                                     object_type="audit_chain", object_id=chain_id,
                                     payload={**body, "mac": _mac(body, key)}))
    return events


def parse(payload: str | None, *, chain_id: int, seq: int, prev_hash: str,
          key: bytes | None) -> Restore | None:
    """The restore an ``audit.restore`` event proves, or None when it proves nothing.

    It proves a restore only when its MAC verifies under ``key`` and it names
    its own chain and the event it follows (``seq - 1``, ``prev_hash``).
    """
    if payload is None or key is None:
        return None
    try:
        detail = json.loads(payload)["detail"]
        body = {k: v for k, v in detail.items() if k != "mac"}
        good = hmac.compare_digest(_mac(body, key), detail["mac"])
        restored = body["restored"]
        if (good and body["chain_id"] == chain_id and restored["seq"] == seq - 1
                and restored["hash"] == prev_hash and isinstance(body["time"], str)):
            return Restore(seq - 1, body["time"])
    except (ValueError, KeyError, TypeError, AttributeError, chain.NonCanonicalValue):
        return None
    return None
