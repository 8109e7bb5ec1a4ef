"""Appending to the audit chain, inside the caller's transaction.

Every write in Grassroots ends here (ARCHITECTURE: auditing). The event is
written in the same transaction as the domain row, so neither exists without
the other (SECURITY Z7). One chain per site; platform events use chain 0.
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid

import peewee as pw

from core import privacy
from core.audit import chain
from core.audit.models import AuditEvent, AuditHead
from core.context import current_actor
from core.models import Fact
from core.storage import db, is_postgres, utcnow


class NotInTransaction(RuntimeError):
    """An audit append outside a write transaction would not be atomic."""


_settings = {"alg": "sha256", "pi_key": b"", "pi_fields": privacy.PI_FIELDS}


def configure(*, alg: str = "sha256", pi_key: bytes = b"", pi_fields=()) -> None:
    """Set the hash algorithm, the key for personal-data fingerprints and extra PI fields."""
    if alg not in chain.ALGORITHMS:
        raise ValueError(f"unknown audit hash algorithm {alg!r}")
    _settings.update(alg=alg, pi_key=pi_key,
                     pi_fields=privacy.PI_FIELDS | frozenset(pi_fields))


def deployment_id() -> str:
    """This deployment's id, created once; it seeds every chain's genesis.

    Cached on the database object: it never changes once written.
    """
    cached = getattr(db.obj, "_grassroots_deployment_id", None)
    if cached is not None:
        return cached
    row = Fact.get_or_none(Fact.key == "deployment_id")
    if row is None:
        value = uuid.uuid4().hex
        Fact.insert(key="deployment_id", value=value).on_conflict_ignore().execute()
        row = Fact.get(Fact.key == "deployment_id")
    db.obj._grassroots_deployment_id = row.value
    return row.value


def plain(value):
    """Convert a value to the canonical JSON types the chain accepts."""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain(v) for v in value]
    if isinstance(value, pw.Model):
        return value.get_id()
    return value


def redact_personal_data(values):
    """Mask the personal-data fields of a flat mapping (SECURITY §3.3 item 4)."""
    if not isinstance(values, dict):
        return values
    pi_fields, key = _settings["pi_fields"], _settings["pi_key"]
    return {k: privacy.mask_for_audit(key, k, v) if k in pi_fields else v
            for k, v in values.items()}


def _lock_head(chain_id: int):
    query = AuditHead.select().where(AuditHead.chain_id == chain_id)
    if is_postgres():
        query = query.for_update()
    return query.get_or_none()


def append(action: str, *, site_id: int | None, object_type: str | None = None,
           object_id=None, before=None, after=None, payload=None,
           result: str = "ok") -> AuditEvent:
    """Append one event to the site's chain. Must run inside a write transaction.

    :param action: a dotted verb, e.g. ``party.member.create``, ``auth.login``.
    :param site_id: the site the event belongs to (its chain); None for platform events.
    :param before: the changed fields before the write (masked if personal data).
    :param after: the changed fields after the write (masked if personal data).
    :param payload: extra JSON-able detail (a reason, a read purpose, row counts).
    :raises NotInTransaction: when called outside a transaction.
    :raises core.audit.chain.NonCanonicalValue: for a float or another non-JSON value.
    """
    if not db.obj.in_transaction():
        raise NotInTransaction(action)
    actor = current_actor()
    body = {}
    if before is not None:
        body["before"] = redact_personal_data(plain(before))
    if after is not None:
        body["after"] = redact_personal_data(plain(after))
    if payload is not None:
        body["detail"] = plain(payload)
    alg = _settings["alg"]
    chain_id = site_id or 0
    head = _lock_head(chain_id)
    if head is None:
        prev_hash, seq = chain.genesis(alg, deployment_id(), chain_id), 1
    else:
        prev_hash, seq = head.hash, head.seq + 1
    header = {
        "chain_id": chain_id,
        "seq": seq,
        "ts_utc": utcnow().isoformat(timespec="microseconds") + "Z",
        "actor_id": actor.user_id,
        "actor_site_id": actor.site_id,
        "site_id": site_id,
        "action": action,
        "object_type": object_type,
        "object_id": None if object_id is None else str(object_id),
        "result": result,
        "ip": actor.ip,
        "request_id": actor.request_id,
        "payload_hash": chain.payload_hash(alg, body),
        "alg": alg,
        "prev_hash": prev_hash,
    }
    digest = chain.event_hash(alg, header)
    # stored in canonical form, so verify hashes the stored text as it is (SECURITY §3.4)
    event = AuditEvent.create(payload=chain.canonical(body).decode("utf-8"),
                              hash=digest, **header)
    if head is None:
        AuditHead.insert(chain_id=chain_id, seq=seq, hash=digest).execute()
    else:
        AuditHead.update(seq=seq, hash=digest).where(AuditHead.chain_id == chain_id).execute()
    return event
