"""Keyed checkpoints: the anchor outside the database (SECURITY §3.3 item 7, §5 L4)."""

import hashlib
import hmac
import json
from pathlib import Path

from core.audit import chain, checkpoints, log
from core.audit.models import AuditEvent, AuditHead
from core.cli import cli
from core.storage import transaction
from core.testing import make_site


def key_of(app) -> bytes:
    return Path(app.config["AUDIT_KEY_FILE"]).read_bytes().strip()


def touch(site) -> None:
    """One event in the site's own chain (a new site has none yet)."""
    with transaction():
        log.append("test.thing.update", site_id=site.id)


def lines(app) -> list[dict]:
    files = sorted(Path(app.config["CHECKPOINT_DIR"]).glob("*.json"))
    return [json.loads(line) for f in files for line in f.read_text().splitlines()]


def test_checkpoint_signs_every_head_with_hmac_sha256(app):
    office = make_site("street_office")
    touch(make_site(parent=office))
    stored = set(AuditHead.select(AuditHead.chain_id, AuditHead.seq, AuditHead.hash).tuples())
    taken = checkpoints.checkpoint_now()
    (record,) = lines(app)
    assert record == taken.record
    assert {(h["chain_id"], h["seq"], h["hash"]) for h in record["heads"]} == stored
    assert len(stored) == 2
    body = {k: v for k, v in record.items() if k != "mac"}
    expected = hmac.new(key_of(app), b"GR-CHECKPOINT-v1\x00" + chain.canonical(body),
                        hashlib.sha256).hexdigest()
    assert record["mac"] == expected and record["alg"] == "sha256"
    assert record["time"].endswith("Z")
    day = checkpoints.local_date(record["time"], "Asia/Shanghai").isoformat()
    assert taken.source == f"{day}.json:1"


def test_checkpoint_heads_are_those_of_the_moment(app):
    site = make_site()
    touch(site)
    before = {h.chain_id: h for h in checkpoints.current_heads()}
    taken = checkpoints.checkpoint_now()
    assert taken.heads == before
    assert taken.heads[site.id].seq == AuditEvent.select().where(
        AuditEvent.chain_id == site.id).count()


def test_a_communitys_head_is_anchored_in_its_street_offices_chain(app):
    office = make_site("street_office")
    community = make_site(parent=office)
    touch(office)
    touch(community)
    community_head = AuditHead.get_by_id(community.id)
    office_head = AuditHead.get_by_id(office.id)
    taken = checkpoints.checkpoint_now()
    anchor = AuditEvent.get(AuditEvent.chain_id == office.id,
                            AuditEvent.action == "audit.checkpoint")
    detail = json.loads(anchor.payload)["detail"]
    assert detail["checkpoint"] == taken.fingerprint
    assert detail["heads"] == [{"chain_id": community.id, "seq": community_head.seq,
                                "hash": community_head.hash}]
    top = AuditEvent.get(AuditEvent.chain_id == 0, AuditEvent.action == "audit.checkpoint")
    anchored = json.loads(top.payload)["detail"]["heads"]
    assert {"chain_id": office.id, "seq": office_head.seq, "hash": office_head.hash} in anchored
    assert all(h["chain_id"] != community.id for h in anchored)


def test_checkpoints_append_to_the_days_file_as_json_lines(app, site):
    touch(site)
    first = checkpoints.checkpoint_now()
    second = checkpoints.checkpoint_now()
    assert [r["mac"] for r in lines(app)] == [first.record["mac"], second.record["mac"]]
    assert second.heads[0].seq > first.heads[0].seq  # the first one's anchor went into chain 0
    good, bad = checkpoints.load(app.config["CHECKPOINT_DIR"], key_of(app))
    assert (len(good), bad) == (2, [])
    assert checkpoints.latest(app.config["CHECKPOINT_DIR"]).record == second.record


def test_hmac_sm3_when_the_deployment_hashes_with_sm3(app, site, tmp_path):
    taken = checkpoints.create(key=b"k" * 32, directory=tmp_path / "sm3", alg="sm3")
    body = {k: v for k, v in taken.record.items() if k != "mac"}
    assert taken.record["alg"] == "sm3"
    assert taken.record["mac"] == hmac.new(b"k" * 32, b"GR-CHECKPOINT-v1\x00"
                                           + chain.canonical(body), "sm3").hexdigest()
    assert checkpoints.load(tmp_path / "sm3", b"k" * 32)[1] == []
    assert checkpoints.load(tmp_path / "sm3", b"x" * 32)[1][0].reason == "MAC does not verify"


def test_checkpoint_command_prints_the_fingerprint(app, runner, site):
    result = runner.invoke(cli, ["audit", "checkpoint"])
    assert result.exit_code == 0, result.output
    record = lines(app)[-1]
    digits = record["mac"][:16]
    assert " ".join(digits[i:i + 4] for i in range(0, 16, 4)) in result.output


def test_checkpoint_without_a_key_exits_2_with_one_line(app, runner, tmp_path):
    result = runner.invoke(cli, ["audit", "checkpoint", "--key", str(tmp_path / "none")])
    assert result.exit_code == 2
    assert result.output.startswith("error: cannot read the audit key")
    assert len(result.output.strip().splitlines()) == 1
    (tmp_path / "empty.key").write_bytes(b"\n")
    result = runner.invoke(cli, ["audit", "checkpoint", "--key", str(tmp_path / "empty.key")])
    assert result.exit_code == 2 and "is empty" in result.output
