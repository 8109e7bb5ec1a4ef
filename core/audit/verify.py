"""Checking the audit chains: every link, every hash and every checkpoint.

SECURITY §3.4 and the §5 rows "Audit tampering detected: 7 of 7" and "Audit
verify throughput ≥ 100,000 events/s". Each chain is walked in ``seq`` order;
for every event the payload hash is recomputed (unless the payload was
redacted: NULL, counted as "payload redacted" and still fine, §3.3 item 3),
then the event hash and the link to the event before. The first bad event
ends the walk and is reported with its kind:

``edited``
    the payload or the event does not match its hash, or an event was
    replaced with a self-consistent one (its successor names another hash);
``deleted``
    a gap in ``seq``, or an event follows one that is gone;
``inserted``
    an event the chain did not hold (duplicate seq, or its successor names
    the event before it);
``reordered``
    an event follows one that now sits later in the chain;
``truncated``
    a checkpoint (or the head table) names a seq the chain no longer reaches;
``rewritten``
    the chain holds another event at a checkpointed seq (recomputed history);
``checkpoint-forged``
    a checkpoint naming the chain does not verify under the key.

A checkpoint older than a verified restore that names a later event is
*superseded* (:mod:`core.audit.restores`), not an error.

Speed: rows are read as plain tuples in keyset batches (no model instances),
the header's canonical form is built by :func:`header_bytes` instead of
``json.dumps`` (a test holds the two equal), and payloads are stored in
canonical form, so their hash is one digest of the stored text.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from json.encoder import encode_basestring

from core.audit import chain, checkpoints, restores
from core.audit.models import AuditEvent, AuditHead
from core.models import Fact
from core.storage import db

KINDS = ("edited", "deleted", "inserted", "reordered", "truncated", "rewritten",
         "checkpoint-forged")
#: the columns read for each event: the hashed header, then the hash and the payload
COLUMNS = (*chain.HEADER_FIELDS, "hash", "payload")
_BATCH = 20_000
_EVENT_PREFIX = b"GR-AUDIT-v1\x00"
_PAYLOAD_PREFIX = b"GR-PAYLOAD-v1\x00"
_HASHERS = {"sha256": hashlib.sha256, "sm3": functools.partial(hashlib.new, "sm3")}
_NULLABLE_INT = (int, type(None))


@dataclasses.dataclass(frozen=True)
class Problem:
    """The first bad event of a chain: where and what kind (one of :data:`KINDS`)."""

    chain_id: int
    seq: int
    kind: str
    detail: str

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclasses.dataclass
class ChainResult:
    """What the walk of one chain found."""

    chain_id: int
    events: int = 0
    redacted: int = 0
    head_seq: int = 0
    head_hash: str | None = None
    checkpoints_matched: int = 0
    checkpoints_superseded: int = 0
    problem: Problem | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None

    def as_dict(self) -> dict:
        out = dataclasses.asdict(self)
        out["ok"] = self.ok
        return out


@dataclasses.dataclass
class Report:
    """The results of every checked chain, and bad checkpoints that name none of them."""

    chains: list[ChainResult]
    bad_checkpoints: list[checkpoints.BadCheckpoint]

    @property
    def ok(self) -> bool:
        return not self.bad_checkpoints and all(c.ok for c in self.chains)


@dataclasses.dataclass(frozen=True)
class Anchor:
    """A hash the chain must hold at ``seq``: from a checkpoint or the head table."""

    seq: int
    hash: str
    time: str | None
    source: str
    counted: bool = True


def header_bytes(row) -> bytes:
    """``chain.canonical(header)`` of a row in :data:`COLUMNS` order, built by hand.

    Several times faster than ``json.dumps``: the keys are fixed and already in
    sorted order, strings go through ``encode_basestring`` (the escaper
    ``json.dumps(ensure_ascii=False)`` uses) and integers must be ``int`` (a
    tampered row may hold text or a float there).

    :raises TypeError: for a value of the wrong type.
    """
    (chain_id, seq, ts_utc, actor_id, actor_site_id, site_id, action, object_type,
     object_id, result, ip, request_id, payload_hash, alg, prev_hash) = row[:15]
    if not (type(chain_id) is type(seq) is int and type(actor_id) in _NULLABLE_INT
            and type(actor_site_id) in _NULLABLE_INT and type(site_id) in _NULLABLE_INT):
        raise TypeError("an integer column holds another type")
    enc = encode_basestring
    return (
        f'{{"action":{enc(action)},'
        f'"actor_id":{"null" if actor_id is None else actor_id},'
        f'"actor_site_id":{"null" if actor_site_id is None else actor_site_id},'
        f'"alg":{enc(alg)},"chain_id":{chain_id},'
        f'"ip":{"null" if ip is None else enc(ip)},'
        f'"object_id":{"null" if object_id is None else enc(object_id)},'
        f'"object_type":{"null" if object_type is None else enc(object_type)},'
        f'"payload_hash":{enc(payload_hash)},"prev_hash":{enc(prev_hash)},'
        f'"request_id":{"null" if request_id is None else enc(request_id)},'
        f'"result":{enc(result)},"seq":{seq},'
        f'"site_id":{"null" if site_id is None else site_id},'
        f'"ts_utc":{enc(ts_utc)}}}').encode()


def _payload_matches(new, payload: str, expected: str) -> bool:
    """Whether a payload stored in another JSON form (older events) has the expected hash."""
    try:
        return new(_PAYLOAD_PREFIX + chain.canonical(json.loads(payload))).hexdigest() == expected
    except (ValueError, chain.NonCanonicalValue):
        return False


def _link_problem(chain_id: int, seq: int, named: str, own_ok: bool, locate) -> Problem:
    """Why the event at ``seq`` does not follow the event before it."""
    if seq == 1:
        return Problem(chain_id, 1, "edited", "the first event does not start at the genesis")
    where = locate(named)
    if where is None:
        if own_ok:
            return Problem(chain_id, seq - 1, "edited",
                           f"replaced: the event at seq {seq} follows another event")
        return Problem(chain_id, seq, "deleted", "the event it follows is missing")
    if where < seq - 1:
        return Problem(chain_id, where + 1, "inserted",
                       f"the event at seq {seq} follows seq {where}")
    return Problem(chain_id, seq, "reordered", f"it follows the event now at seq {where}")


class ChainWalk:
    """The walk of one chain, fed its rows in ``seq`` order; :meth:`finish` gives the result.

    :param anchors: :class:`Anchor` hashes the chain must hold.
    :param key: the audit key, to recognise restore events (None: none count).
    :param locate: ``hash -> seq or None`` over the whole chain, used only to
        name the kind of a broken link.
    """

    __slots__ = ("deployment_id", "expected", "key", "locate", "prev", "problem", "redacted",
                 "result", "rolled_back", "wanted")

    def __init__(self, chain_id: int, *, deployment_id: str, anchors=(), key=None,
                 locate=lambda digest: None):
        self.result = ChainResult(chain_id)
        self.deployment_id, self.key, self.locate = deployment_id, key, locate
        self.wanted: dict[int, list[Anchor]] = {}
        for anchor in anchors:
            self.wanted.setdefault(anchor.seq, []).append(anchor)
        self.rolled_back: list[restores.Restore] = []
        self.expected, self.prev, self.redacted = 1, None, 0
        self.problem: Problem | None = None

    def feed(self, row) -> bool:
        """Check the next event (a tuple in :data:`COLUMNS` order); False once one is bad."""
        chain_id, expected, seq = self.result.chain_id, self.expected, row[1]
        try:
            if seq != expected:
                self.problem = (Problem(chain_id, expected, "deleted",
                                        f"seq {expected} is missing; the next is {seq}")
                                if seq > expected else
                                Problem(chain_id, seq, "inserted", f"seq {seq} appears twice"))
                return False
            new = _HASHERS[row[13]]
            prev = self.prev or chain.genesis(row[13], self.deployment_id, chain_id)
            stored = row[15]
            own_ok = new(_EVENT_PREFIX + row[14].encode("ascii")
                         + header_bytes(row)).hexdigest() == stored
            if row[14] != prev:
                self.problem = _link_problem(chain_id, seq, row[14], own_ok, self.locate)
                return False
            payload = row[16]
            if payload is None:
                self.redacted += 1
            elif (new(_PAYLOAD_PREFIX + payload.encode()).hexdigest() != row[12]
                  and not _payload_matches(new, payload, row[12])):
                self.problem = Problem(chain_id, seq, "edited",
                                       "the payload does not match its hash")
                return False
            if not own_ok:
                self.problem = Problem(chain_id, seq, "edited", "the event does not match its hash")
                return False
            if row[6] == restores.RESTORE_ACTION:
                restore = restores.parse(payload, chain_id=chain_id, seq=seq, prev_hash=prev,
                                         key=self.key)
                if restore is not None:
                    self.rolled_back.append(restore)
        except (KeyError, TypeError, ValueError, AttributeError, UnicodeError) as err:
            self.problem = Problem(chain_id, expected, "edited", f"unreadable event: {err}")
            return False
        self.prev, self.expected = stored, expected + 1
        if seq in self.wanted:
            self.problem = _match(self.result, self.wanted.pop(seq), seq, stored,
                                  self.rolled_back)
            return self.problem is None
        return True

    def run(self, rows) -> ChainResult:
        """Feed ``rows`` until the first bad one, then :meth:`finish`."""
        feed = self.feed
        for row in rows:
            if not feed(row):
                break
        return self.finish()

    def finish(self) -> ChainResult:
        """The result; anchors beyond the last event mean a truncation (or a restore)."""
        result = self.result
        result.events, result.redacted = self.expected - 1, self.redacted
        if self.problem is None:
            result.head_seq, result.head_hash = self.expected - 1, self.prev
            for seq in sorted(self.wanted):
                self.problem = self.problem or _match(result, self.wanted[seq], seq, None,
                                                      self.rolled_back)
        result.problem = self.problem
        return result


def check_chain(rows, *, chain_id: int, deployment_id: str, anchors=(), key=None,
                locate=lambda digest: None) -> ChainResult:
    """Walk one chain's rows (tuples in :data:`COLUMNS` order, by seq); see :class:`ChainWalk`."""
    return ChainWalk(chain_id, deployment_id=deployment_id, anchors=anchors, key=key,
                     locate=locate).run(rows)


def _superseded(anchor: Anchor, rolled_back) -> bool:
    """Taken before a verified restore that rolled the chain back below ``anchor.seq``."""
    return anchor.time is not None and any(
        r.seq < anchor.seq and r.time > anchor.time for r in rolled_back)


def _match(result: ChainResult, anchors, seq: int, stored: str | None,
           rolled_back) -> Problem | None:
    """Check the anchors at ``seq`` against the stored hash (None: the chain ends before)."""
    for anchor in anchors:
        if anchor.hash == stored:
            result.checkpoints_matched += anchor.counted
        elif _superseded(anchor, rolled_back):
            result.checkpoints_superseded += anchor.counted
        elif stored is None:
            return Problem(result.chain_id, result.head_seq + 1, "truncated",
                           f"{anchor.source} names seq {seq}; the chain ends at "
                           f"{result.head_seq}")
        else:
            return Problem(result.chain_id, seq, "rewritten",
                           f"{anchor.source} names another event here")
    return None


def _batches(query, key_field, position: int):
    """Rows of ``query`` in keyset batches on ``key_field`` (its value at ``position``).

    Rows are passed on as the cursor yields them: a fetchall() of each batch
    cost a third of the throughput in allocation and garbage collection.
    """
    database, last = db.obj, None
    while True:
        batch = query if last is None else query.where(key_field > last)
        count = 0
        for row in database.execute(batch.order_by(key_field).limit(_BATCH)):
            count += 1
            yield row
        if count < _BATCH:
            return
        last = row[position]


def rows(chain_id: int):
    """A chain's events as tuples in :data:`COLUMNS` order, by seq (its index)."""
    query = AuditEvent.select(*[getattr(AuditEvent, n) for n in COLUMNS]).where(
        AuditEvent.chain_id == chain_id)
    return _batches(query, AuditEvent.seq, 1)


def table_rows(chain_ids=None):
    """Every event (of ``chain_ids``, or all) in ``id`` order, the table's own order.

    Sites write in turns, so one chain's events lie all over the table; reading
    the table once from start to end is much faster than one index walk per
    chain. Within a chain ``id`` order is append order (the head row serialises
    appends), so each chain's rows still come in ``seq`` order unless someone
    tampered with them. The tuples are :data:`COLUMNS` and then the id.
    """
    query = AuditEvent.select(*[getattr(AuditEvent, n) for n in COLUMNS], AuditEvent.id)
    if chain_ids is not None:
        query = query.where(AuditEvent.chain_id.in_(chain_ids))
    return _batches(query, AuditEvent.id, len(COLUMNS))


def _locate(chain_id: int, digest: str) -> int | None:
    row = (AuditEvent.select(AuditEvent.seq)
           .where(AuditEvent.chain_id == chain_id, AuditEvent.hash == digest)
           .order_by(AuditEvent.seq).first())
    return row.seq if row else None


def chain_ids(good=()) -> list[int]:
    """Every chain the database or a checkpoint knows of."""
    found = {c for (c,) in AuditHead.select(AuditHead.chain_id).tuples()}
    found |= {c for (c,) in AuditEvent.select(AuditEvent.chain_id).distinct().tuples()}
    for checkpoint in good:
        found |= set(checkpoint.heads)
    return sorted(found)


def deployment_id() -> str:
    """The id that seeds every genesis, read without creating it."""
    row = Fact.get_or_none(Fact.key == "deployment_id")
    return row.value if row else ""


def _anchors(chain_id: int, good, heads) -> list[Anchor]:
    anchors = [Anchor(cp.heads[chain_id].seq, cp.heads[chain_id].hash, cp.time, cp.source)
               for cp in good if chain_id in cp.heads]
    if chain_id in heads:
        head = heads[chain_id]
        anchors.append(Anchor(head.seq, head.hash, None, "the head table", counted=False))
    return anchors


def verify_chains(only=None, *, checkpoint_dir, key: bytes) -> Report:
    """Verify chains against the database's own links and the checkpoints.

    One chain is walked through its ``(chain_id, seq)`` index. Several are
    walked together in one pass over the table (:func:`table_rows`); a chain
    found bad there is walked again in ``seq`` order, so the reported event and
    kind are those of its own order whatever the table's order.

    :param only: chain ids to check (a site's id is its chain); None: every chain.
        A bad checkpoint naming none of them is reported in the report itself.
    :param checkpoint_dir: ``CHECKPOINT_DIR``.
    :param key: the audit key (:func:`core.audit.checkpoints.read_key`).
    """
    good, bad = checkpoints.load(checkpoint_dir, key)
    ids = chain_ids(good) if only is None else sorted(set(only))
    heads = {h.chain_id: h for h in checkpoints.current_heads()}
    deployment = deployment_id()

    def walk_of(chain_id: int) -> ChainWalk:
        return ChainWalk(chain_id, deployment_id=deployment,
                         anchors=_anchors(chain_id, good, heads), key=key,
                         locate=functools.partial(_locate, chain_id))

    if len(ids) == 1:
        results = [walk_of(ids[0]).run(rows(ids[0]))]
    else:
        walks = {chain_id: walk_of(chain_id) for chain_id in ids}
        for row in table_rows(None if only is None else ids):
            walk = walks.get(row[0])
            if walk is not None and walk.problem is None:
                walk.feed(row)
        results = [walk.finish() if walk.problem is None
                   else walk_of(chain_id).run(rows(chain_id))
                   for chain_id, walk in walks.items()]
    for result in results:
        forged = [b for b in bad if result.chain_id in b.heads]
        if result.ok and forged:
            result.problem = Problem(result.chain_id, forged[0].heads[result.chain_id].seq,
                                     "checkpoint-forged",
                                     f"{forged[0].source}: {forged[0].reason}")
    return Report(results, [b for b in bad if not b.heads.keys() & set(ids)])
