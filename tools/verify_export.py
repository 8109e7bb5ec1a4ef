#!/usr/bin/env python3
"""Check a Grassroots audit export without Grassroots: Python's standard library only.

    python3 verify_export.py EXPORT.jsonl [--key AUDIT_KEY_FILE]

EXPORT comes from ``grassroots audit verify --export``. One line per chain:
``chain N: OK ...`` or ``chain N: FAIL seq S KIND``; exit 0 when all is well,
1 on tampering, 2 on a usage error. Without the key the checkpoints and
restore events are not checked. The rules are SECURITY.md §3.3-§3.4.
"""
import hashlib
import hmac
import json
import sys
from pathlib import Path

HEADER = ("chain_id", "seq", "ts_utc", "actor_id", "actor_site_id", "site_id", "action",
          "object_type", "object_id", "result", "ip", "request_id", "payload_hash", "alg",
          "prev_hash")


def canon(obj):
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                      allow_nan=False).encode()


def digest(alg, *parts):
    return hashlib.new(alg, b"".join(parts)).hexdigest()


def signed(key, prefix, record):
    body = {k: v for k, v in record.items() if k != "mac"}
    return hmac.compare_digest(hmac.new(key, prefix + canon(body), body["alg"]).hexdigest(),
                               record["mac"])


def walk(chain, events, anchors, key, deployment):
    """(seq, kind) of the first bad event, or (None, matched checkpoints)."""
    known, prev, restores, matched = {}, None, [], 0
    for e in events:
        known.setdefault(e["hash"], e["seq"])

    def late(anchor):  # taken before a restore that rolled the chain back below it
        return any(r < anchor[0] and t > anchor[2] for r, t in restores)

    for n, e in enumerate(events, 1):
        seq, alg = e["seq"], e["alg"]
        if seq != n:
            return (n, "deleted") if seq > n else (seq, "inserted")
        prev = prev or digest(alg, b"GR-GENESIS-v1\x00", f"{deployment}:{chain}".encode())
        own = digest(alg, b"GR-AUDIT-v1\x00", e["prev_hash"].encode(),
                     canon({k: e[k] for k in HEADER})) == e["hash"]
        if e["prev_hash"] != prev:
            where = known.get(e["prev_hash"])
            if seq == 1:
                return 1, "edited"
            if where is None:
                return (seq - 1, "edited") if own else (seq, "deleted")
            return (where + 1, "inserted") if where < seq - 1 else (seq, "reordered")
        payload = json.loads(e["payload"]) if e["payload"] is not None else None
        if payload is not None and digest(alg, b"GR-PAYLOAD-v1\x00", canon(payload)) \
                != e["payload_hash"]:
            return seq, "edited"
        if not own:
            return seq, "edited"
        if e["action"] == "audit.restore" and payload and key:
            body = payload["detail"]
            if signed(key, b"GR-RESTORE-v1\x00", body) and body["chain_id"] == chain \
                    and body["restored"] == {"seq": seq - 1, "hash": prev}:
                restores.append((seq - 1, body["time"]))
        prev = e["hash"]
        for anchor in [a for a in anchors if a[0] == seq]:
            if anchor[1] != prev and not late(anchor):
                return seq, "rewritten"
            matched += anchor[1] == prev
    if any(a[0] >= len(events) + 1 and not late(a) for a in anchors):
        return len(events) + 1, "truncated"
    return None, matched


def main(argv):
    if len(argv) not in (2, 4) or (len(argv) == 4 and argv[2] != "--key"):
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    try:
        key = Path(argv[3]).read_bytes().strip() if len(argv) == 4 else None
        lines = [json.loads(line) for line in Path(argv[1]).read_text("utf-8").splitlines()]
    except (OSError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    meta, chains, good, bad = lines[0], {}, [], []
    for item in lines[1:]:
        if item["type"] == "event":
            chains.setdefault(item["chain_id"], []).append(item)
        elif item["type"] == "checkpoint" and key:
            record = item["record"] or {}
            try:
                (good if signed(key, b"GR-CHECKPOINT-v1\x00", record) else bad).append(record)
            except (KeyError, TypeError, ValueError):
                bad.append(record)
    failed = False
    for chain in meta["chains"]:
        anchors = [(h["seq"], h["hash"], r["time"]) for r in good for h in r["heads"]
                   if h["chain_id"] == chain]
        try:
            seq, kind = walk(chain, chains.get(chain, []), anchors, key, meta["deployment_id"])
        except (KeyError, TypeError, ValueError, AttributeError):
            seq, kind = "?", "edited"
        forged = [h["seq"] for r in bad for h in r.get("heads") or () if h["chain_id"] == chain]
        if seq is None and forged:
            seq, kind = forged[0], "checkpoint-forged"
        failed |= seq is not None
        print(f"chain {chain}: " + (f"FAIL seq {seq} {kind}" if seq is not None else
              f"OK {len(chains.get(chain, []))} events, checkpoints matched: {kind}"))
    for record in bad:
        if not {h.get("chain_id") for h in record.get("heads") or ()} & set(meta["chains"]):
            failed = True
            print("checkpoint: FAIL checkpoint-forged")
    if key is None:
        print("checkpoints not checked: no key")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
