"""Keyed checkpoints of every chain head: the audit log's anchor outside the database.

SECURITY §3.3 item 7 and the §5 row "Audit tampering detected". A hash chain
alone does not stop the person who owns the database (§3.2): they can cut the
tail or recompute every hash. A checkpoint lists the head ``(chain_id, seq,
hash)`` of every chain with the time and the algorithm, MACed with HMAC-SHA-256
(HMAC-SM3 when ``AUDIT_HASH = "sm3"``) under the key in ``AUDIT_KEY_FILE``, a
file that is never in the database. Each checkpoint is

(a) appended as one JSON line to ``CHECKPOINT_DIR/YYYY-MM-DD.json`` (the
    deployment's local date);
(b) anchored in the database: each site's head goes into its parent site's
    chain as an ``audit.checkpoint`` event (a community's into its street
    office's chain, top-level sites' into chain 0);
(c) shown on the audit page as a 16-hex-digit fingerprint that the supervisor
    copies into a paper register — a human witness.

A checkpoint line::

    {"alg": "sha256", "heads": [{"chain_id": 0, "hash": "…", "seq": 12}, …],
     "mac": "…", "time": "2026-01-31T16:00:00.000000Z", "v": 1}

``mac = HMAC(key, b"GR-CHECKPOINT-v1\\x00" ‖ canonical(record without "mac"))``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hmac
import json
import os
from collections import defaultdict
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import current_app

from core.audit import chain, log
from core.audit.models import AuditHead
from core.models import Site
from core.storage import transaction, utcnow

VERSION = 1
CHECKPOINT_ACTION = "audit.checkpoint"
_PREFIX = b"GR-CHECKPOINT-v1\x00"


class KeyFileError(RuntimeError):
    """The audit key file is missing, unreadable or empty (a configuration error)."""


@dataclasses.dataclass(frozen=True)
class Head:
    """The newest event of one chain."""

    chain_id: int
    seq: int
    hash: str

    def as_dict(self) -> dict:
        return {"chain_id": self.chain_id, "seq": self.seq, "hash": self.hash}


@dataclasses.dataclass(frozen=True)
class Checkpoint:
    """A checkpoint whose MAC verified; ``source`` is ``file:line``."""

    record: dict
    source: str

    @property
    def time(self) -> str:
        return self.record["time"]

    @property
    def heads(self) -> dict[int, Head]:
        return _heads_of(self.record)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.record)


@dataclasses.dataclass(frozen=True)
class BadCheckpoint:
    """A checkpoint line that is unreadable or whose MAC does not verify."""

    source: str
    reason: str
    heads: dict[int, Head]


def read_key(path) -> bytes:
    """The audit key: the file's bytes without surrounding white space.

    :raises KeyFileError: when the file is missing, unreadable or empty.
    """
    try:
        key = Path(path).read_bytes().strip()
    except OSError as err:
        raise KeyFileError(f"cannot read the audit key {path}: {err.strerror}") from None
    if not key:
        raise KeyFileError(f"the audit key {path} is empty")
    return key


def current_heads() -> list[Head]:
    """The head of every chain, from the head table, in chain order."""
    query = AuditHead.select(AuditHead.chain_id, AuditHead.seq, AuditHead.hash).order_by(
        AuditHead.chain_id)
    return [Head(int(c), int(s), h) for c, s, h in query.tuples()]


def mac(record: dict, key: bytes) -> str:
    """The MAC of a checkpoint record (every key but ``mac``), with the record's algorithm."""
    body = {k: v for k, v in record.items() if k != "mac"}
    if record.get("alg") not in chain.ALGORITHMS:
        raise ValueError(f"unknown algorithm {record.get('alg')!r}")
    return hmac.new(key, _PREFIX + chain.canonical(body), record["alg"]).hexdigest()


def make(heads, key: bytes, alg: str, time: str) -> dict:
    """A signed checkpoint record of ``heads`` taken at ``time`` (ISO 8601 UTC with ``Z``)."""
    record = {"v": VERSION, "time": time, "alg": alg,
              "heads": [h.as_dict() for h in sorted(heads, key=lambda h: h.chain_id)]}
    record["mac"] = mac(record, key)
    return record


def fingerprint(record: dict) -> str:
    """The 16 hex digits a person copies into the paper register."""
    return record["mac"][:16]


def local_date(time: str, timezone: str) -> dt.date:
    """The deployment's local date of an ISO 8601 UTC time string."""
    moment = dt.datetime.fromisoformat(time.rstrip("Z")).replace(tzinfo=dt.UTC)
    return moment.astimezone(ZoneInfo(timezone)).date()


def _append_line(directory: Path, day: dt.date, record: dict) -> str:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{day.isoformat()}.json"
    line = json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n"
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(line)
        handle.flush()
        os.fsync(handle.fileno())
    with open(path, encoding="utf-8") as handle:
        number = sum(1 for _ in handle)
    return f"{path.name}:{number}"


def _anchor(heads: list[Head], record: dict) -> None:
    """Write each site's head into its parent's chain (top-level sites into chain 0)."""
    parents = {site_id: parent_id for site_id, parent_id in
               Site.select(Site.id, Site.parent).tuples()}
    children = defaultdict(list)
    for head in heads:
        if head.chain_id != 0:
            children[parents.get(head.chain_id) or 0].append(head)
    for parent, anchored in sorted(children.items()):
        log.append(CHECKPOINT_ACTION, site_id=parent or None, object_type="audit_checkpoint",
                   object_id=fingerprint(record),
                   payload={"time": record["time"], "checkpoint": fingerprint(record),
                            "heads": [h.as_dict() for h in anchored]})


def create(*, key: bytes, directory, alg: str, timezone: str = "Asia/Shanghai") -> Checkpoint:
    """Take a checkpoint now: sign the heads, append the line, anchor it in parent chains.

    The daily job and ``grassroots audit checkpoint`` call this. It runs in one
    write transaction, so the heads it signs are committed ones and no append
    slips in between; the line is on disk (fsync) before the anchoring events
    commit.

    :param key: the audit key (:func:`read_key`).
    :param directory: ``CHECKPOINT_DIR``.
    :param alg: ``AUDIT_HASH``: ``sha256`` or ``sm3``.
    :param timezone: names the day file (``BABEL_DEFAULT_TIMEZONE``).
    """
    with transaction():
        heads = current_heads()
        time = utcnow().isoformat(timespec="microseconds") + "Z"
        record = make(heads, key, alg, time)
        source = _append_line(Path(directory), local_date(time, timezone), record)
        _anchor(heads, record)
    return Checkpoint(record, source)


def checkpoint_now() -> Checkpoint:
    """Take a checkpoint with the application's configuration: the daily job calls this.

    :raises KeyFileError: when ``AUDIT_KEY_FILE`` is missing or empty.
    """
    config = current_app.config
    return create(key=read_key(config["AUDIT_KEY_FILE"]), directory=config["CHECKPOINT_DIR"],
                  alg=config["AUDIT_HASH"], timezone=config["BABEL_DEFAULT_TIMEZONE"])


def _heads_of(record) -> dict[int, Head]:
    heads = {}
    items = record.get("heads") if isinstance(record, dict) else None
    for item in items if isinstance(items, list) else ():
        try:
            head = Head(int(item["chain_id"]), int(item["seq"]), str(item["hash"]))
        except (KeyError, TypeError, ValueError):
            continue
        heads[head.chain_id] = head
    return heads


def read_lines(directory) -> list[tuple[str, dict | None]]:
    """Every checkpoint line of the directory, oldest file first: ``(file:line, record)``.

    ``record`` is None for a line that is not a JSON object.
    """
    directory = Path(directory)
    if not directory.is_dir():
        return []
    out = []
    for path in sorted(directory.glob("*.json")):
        with open(path, encoding="utf-8", errors="replace") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except ValueError:
                    record = None
                out.append((f"{path.name}:{number}",
                            record if isinstance(record, dict) else None))
    return out


def load(directory, key: bytes) -> tuple[list[Checkpoint], list[BadCheckpoint]]:
    """The checkpoints of ``directory``: those whose MAC verifies, and the bad ones."""
    good, bad = [], []
    for source, record in read_lines(directory):
        reason = check(record, key)
        if reason:
            bad.append(BadCheckpoint(source, reason, _heads_of(record)))
        else:
            good.append(Checkpoint(record, source))
    return good, bad


def check(record, key: bytes) -> str | None:
    """Why a checkpoint record is bad, or None when its MAC verifies."""
    if not isinstance(record, dict) or not isinstance(record.get("mac"), str):
        return "not a checkpoint record"
    if not isinstance(record.get("time"), str) or not isinstance(record.get("heads"), list):
        return "not a checkpoint record"
    try:
        expected = mac(record, key)
    except (ValueError, chain.NonCanonicalValue):
        return "not a checkpoint record"
    if not hmac.compare_digest(expected, record["mac"]):
        return "MAC does not verify"
    return None


def latest(directory) -> Checkpoint | None:
    """The newest checkpoint line (not verified: for display next to the register)."""
    for source, record in reversed(read_lines(directory)):
        if record is not None and isinstance(record.get("mac"), str) and "time" in record:
            return Checkpoint(record, source)
    return None
