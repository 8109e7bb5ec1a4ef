"""``grassroots audit verify`` finds every kind of tampering (SECURITY §3.2, §3.5, §5 L1-L3).

The attacker owns the database: each test drops the append-only triggers
first, then tampers with plain SQL. The standalone ``tools/verify_export.py``
must name the same event and kind from the export of the same database.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.audit import chain, checkpoints, log, verify
from core.audit.models import AuditEvent, AuditHead
from core.audit.restores import record_restore
from core.cli import cli
from core.storage import db, init_database, is_postgres, transaction
from core.testing import make_site

ROOT = Path(__file__).resolve().parents[2]
EVENTS = 12


def drop_guards():
    """What an attacker with the database does first."""
    if is_postgres():
        db.execute_sql("DROP TRIGGER core_audit_event_append_only ON core_audit_event")
    else:
        db.execute_sql("DROP TRIGGER core_audit_event_no_update")
        db.execute_sql("DROP TRIGGER core_audit_event_no_delete")


def events_of(site):
    return list(AuditEvent.select().where(AuditEvent.chain_id == site.id)
                .order_by(AuditEvent.seq))


def header(event) -> dict:
    return {name: getattr(event, name) for name in chain.HEADER_FIELDS}


def rehash(site, start: int) -> None:
    """Recompute the chain from ``start`` on, as an attacker can without the key."""
    rows = events_of(site)
    prev = rows[start - 2].hash if start > 1 else None
    for event in rows[start - 1:]:
        values = header(event)
        values["prev_hash"] = prev or event.prev_hash
        values["payload_hash"] = chain.payload_hash(event.alg, json.loads(event.payload))
        digest = chain.event_hash(event.alg, values)
        AuditEvent.update(prev_hash=values["prev_hash"], payload_hash=values["payload_hash"],
                          hash=digest).where(AuditEvent.id == event.id).execute()
        prev = digest
    AuditHead.update(seq=rows[-1].seq, hash=prev).where(AuditHead.chain_id == site.id).execute()


def set_head(site, seq: int) -> None:
    row = AuditEvent.get(AuditEvent.chain_id == site.id, AuditEvent.seq == seq)
    AuditHead.update(seq=seq, hash=row.hash).where(AuditHead.chain_id == site.id).execute()


def shift(site, after: int, by: int) -> None:
    """Move seq > ``after`` by ``by`` in two steps, so the unique index never collides."""
    where = (AuditEvent.chain_id == site.id) & (AuditEvent.seq > after)
    AuditEvent.update(seq=AuditEvent.seq + 1_000_000).where(where).execute()
    AuditEvent.update(seq=AuditEvent.seq - 1_000_000 + by).where(
        (AuditEvent.chain_id == site.id) & (AuditEvent.seq > 1_000_000)).execute()


@pytest.fixture
def chained(app):
    """A site whose chain holds :data:`EVENTS` events, then a checkpoint of every head."""
    site = make_site()
    for n in range(EVENTS - len(events_of(site))):
        with transaction():
            log.append("test.thing.update", site_id=site.id, object_type="test_thing",
                       object_id=n, before={"n": n}, after={"n": n + 1})
    assert len(events_of(site)) == EVENTS
    checkpoints.checkpoint_now()
    return site


def run_verify(runner, *args):
    result = runner.invoke(cli, ["audit", "verify", *args])
    return result.exit_code, result.stdout


def verify_json(runner, *args):
    code, out = run_verify(runner, "--json", *args)
    return code, json.loads(out)


def chain_result(report, site):
    return next(c for c in report["chains"] if c["chain_id"] == site.id)


def standalone(export: Path, key: str) -> tuple[int, str]:
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "verify_export.py"),
                           str(export), "--key", key], capture_output=True, text=True,
                          check=False)
    return done.returncode, done.stdout


def assert_found(app, runner, tmp_path, site, seq: int, kind: str):
    """Both walks of the built-in verifier (one chain; every chain in one pass over the
    table) and the standalone verifier name (seq, kind) and exit 1."""
    export = tmp_path / "export.jsonl"
    code, report = verify_json(runner, "--site", site.code, "--export", str(export))
    assert code == 1
    problem = chain_result(report, site)["problem"]
    assert (problem["seq"], problem["kind"]) == (seq, kind), problem
    code, report = verify_json(runner, "--all")
    assert code == 1 and chain_result(report, site)["problem"] == problem
    text_code, text = run_verify(runner, "--site", site.code)
    assert text_code == 1
    assert f"seq {seq} {kind}" in text and text.startswith("FAIL")
    alone_code, alone = standalone(export, app.config["AUDIT_KEY_FILE"])
    assert alone_code == 1
    assert f"chain {site.id}: FAIL seq {seq} {kind}" in alone


def test_L4_clean_chain_exits_0_with_one_ok_line_per_chain(app, runner, chained, tmp_path):
    code, out = run_verify(runner, "--all")
    assert code == 0, out
    lines = out.strip().splitlines()
    assert len(lines) == len(verify.chain_ids())
    assert all(line.startswith("OK") for line in lines)
    mine = next(line for line in lines if f"(chain {chained.id})" in line)
    assert f"{EVENTS} events" in mine and f"@ seq {EVENTS}" in mine
    assert "1 checkpoint matched" in mine
    export = tmp_path / "export.jsonl"
    assert run_verify(runner, "--all", "--export", str(export))[0] == 0
    code, alone = standalone(export, app.config["AUDIT_KEY_FILE"])
    assert code == 0, alone
    assert f"chain {chained.id}: OK {EVENTS} events, checkpoints matched: 1" in alone


def test_L4_edited_payload(app, runner, chained, tmp_path):
    drop_guards()
    AuditEvent.update(payload='{"after":{"n":999},"before":{"n":4}}').where(
        AuditEvent.chain_id == chained.id, AuditEvent.seq == 5).execute()
    assert_found(app, runner, tmp_path, chained, 5, "edited")


def test_L4_edited_header(app, runner, chained, tmp_path):
    drop_guards()
    AuditEvent.update(action="test.thing.delete").where(
        AuditEvent.chain_id == chained.id, AuditEvent.seq == 7).execute()
    assert_found(app, runner, tmp_path, chained, 7, "edited")


def test_L4_edited_and_rehashed_event_is_named_by_its_successor(app, runner, chained,
                                                                 tmp_path):
    drop_guards()
    event = AuditEvent.get(AuditEvent.chain_id == chained.id, AuditEvent.seq == 6)
    payload = '{"after":{"n":999},"before":{"n":5}}'
    values = {**header(event), "payload_hash": chain.payload_hash(event.alg, json.loads(payload))}
    AuditEvent.update(payload=payload, payload_hash=values["payload_hash"],
                      hash=chain.event_hash(event.alg, values)).where(
        AuditEvent.id == event.id).execute()
    assert_found(app, runner, tmp_path, chained, 6, "edited")


def test_L4_deleted(app, runner, chained, tmp_path):
    drop_guards()
    AuditEvent.delete().where(AuditEvent.chain_id == chained.id, AuditEvent.seq == 5).execute()
    assert_found(app, runner, tmp_path, chained, 5, "deleted")


def test_L4_deleted_and_renumbered(app, runner, chained, tmp_path):
    drop_guards()
    AuditEvent.delete().where(AuditEvent.chain_id == chained.id, AuditEvent.seq == 5).execute()
    shift(chained, 5, -1)
    set_head(chained, EVENTS - 1)
    assert_found(app, runner, tmp_path, chained, 5, "deleted")


def test_L4_inserted(app, runner, chained, tmp_path):
    drop_guards()
    before = AuditEvent.get(AuditEvent.chain_id == chained.id, AuditEvent.seq == 5)
    shift(chained, 5, 1)
    payload = {"after": {"n": 0}, "before": {"n": 1000}}
    forged = {**header(before), "seq": 6, "object_id": "forged", "prev_hash": before.hash,
              "payload_hash": chain.payload_hash(before.alg, payload)}
    AuditEvent.insert(**forged, hash=chain.event_hash(before.alg, forged),
                      payload=chain.canonical(payload).decode()).execute()
    set_head(chained, EVENTS + 1)
    assert_found(app, runner, tmp_path, chained, 6, "inserted")


def test_L4_reordered(app, runner, chained, tmp_path):
    drop_guards()
    mine = AuditEvent.chain_id == chained.id
    AuditEvent.update(seq=-5).where(mine, AuditEvent.seq == 5).execute()
    AuditEvent.update(seq=5).where(mine, AuditEvent.seq == 6).execute()
    AuditEvent.update(seq=6).where(mine, AuditEvent.seq == -5).execute()
    assert_found(app, runner, tmp_path, chained, 5, "reordered")


def test_L4_truncated_tail_is_caught_by_the_checkpoint(app, runner, chained, tmp_path):
    drop_guards()
    AuditEvent.delete().where(AuditEvent.chain_id == chained.id, AuditEvent.seq > 9).execute()
    set_head(chained, 9)
    assert_found(app, runner, tmp_path, chained, 10, "truncated")


def test_L4_truncated_tail_without_head_update_is_caught_by_the_head_table(app, runner,
                                                                           chained, tmp_path):
    drop_guards()
    AuditEvent.delete().where(AuditEvent.chain_id == chained.id, AuditEvent.seq > 9).execute()
    (tmp_path / "no-checkpoints").mkdir()
    code, report = verify_json(runner, "--site", chained.code, "--checkpoints",
                               str(tmp_path / "no-checkpoints"))
    problem = chain_result(report, chained)["problem"]
    assert code == 1 and (problem["seq"], problem["kind"]) == (10, "truncated")


def test_L4_rewritten_chain_is_caught_by_the_checkpoint(app, runner, chained, tmp_path):
    drop_guards()
    AuditEvent.update(payload='{"after":{"n":999},"before":{"n":2}}').where(
        AuditEvent.chain_id == chained.id, AuditEvent.seq == 3).execute()
    rehash(chained, 3)
    assert_found(app, runner, tmp_path, chained, EVENTS, "rewritten")


def test_L4_forged_checkpoint(app, runner, chained, tmp_path):
    drop_guards()
    AuditEvent.delete().where(AuditEvent.chain_id == chained.id, AuditEvent.seq > 9).execute()
    set_head(chained, 9)
    day_file = next(Path(app.config["CHECKPOINT_DIR"]).glob("*.json"))
    record = json.loads(day_file.read_text())
    new_head = AuditHead.get_by_id(chained.id)
    for head in record["heads"]:
        if head["chain_id"] == chained.id:
            head.update(seq=new_head.seq, hash=new_head.hash)
    day_file.write_text(json.dumps(record) + "\n")
    assert_found(app, runner, tmp_path, chained, 9, "checkpoint-forged")


def test_L4_unreadable_checkpoint_line_fails_the_run(app, runner, chained):
    day_file = next(Path(app.config["CHECKPOINT_DIR"]).glob("*.json"))
    with open(day_file, "a") as handle:
        handle.write("not json\n")
    code, out = run_verify(runner, "--all")
    assert code == 1
    assert f"FAIL checkpoint {day_file.name}:2: checkpoint-forged" in out


def test_L4_redacted_payload_still_verifies(app, runner, chained):
    AuditEvent.update(payload=None).where(AuditEvent.chain_id == chained.id,
                                          AuditEvent.seq == 4).execute()
    code, out = run_verify(runner, "--site", chained.code)
    assert code == 0, out
    assert "1 payload redacted" in out
    code, report = verify_json(runner, "--site", chained.code)
    assert chain_result(report, chained)["redacted"] == 1


def test_L4_restore_supersedes_later_checkpoints_but_a_forged_one_does_not(app, runner,
                                                                           chained):
    drop_guards()  # the restore brings back an older database
    AuditEvent.delete().where(AuditEvent.chain_id == chained.id, AuditEvent.seq > 9).execute()
    set_head(chained, 9)
    restored = {str(chained.id): {"seq": 9, "hash": AuditHead.get_by_id(chained.id).hash}}
    latest = checkpoints.latest(app.config["CHECKPOINT_DIR"])
    (event,) = record_restore(restored, latest.record)
    assert (event.action, event.seq) == ("audit.restore", 10)
    with transaction():
        for _ in range(4):  # life goes on after the restore, past the old checkpoint's seq
            log.append("test.thing.update", site_id=chained.id, payload={"after": "restore"})
    code, out = run_verify(runner, "--site", chained.code)
    assert code == 0, out
    assert "1 checkpoint superseded by a restore" in out

    AuditEvent.delete().where(AuditEvent.chain_id == chained.id, AuditEvent.seq >= 10).execute()
    set_head(chained, 9)
    with transaction():
        forged = log.append("audit.restore", site_id=chained.id, payload={
            "alg": "sha256", "chain_id": chained.id, "time": "2999-01-01T00:00:00.000000Z",
            "restored": restored[str(chained.id)], "last_checkpoint": None, "mac": "0" * 64})
    assert forged.seq == 10
    code, report = verify_json(runner, "--site", chained.code)
    problem = chain_result(report, chained)["problem"]
    assert code == 1 and (problem["seq"], problem["kind"]) == (11, "truncated")


def test_L4_record_restore_refuses_a_head_the_database_does_not_hold(app, chained):
    with pytest.raises(ValueError, match="restored head"):
        record_restore({chained.id: {"seq": 3, "hash": "0" * 64}}, None)


def test_verify_usage_and_configuration_errors_exit_2_with_one_line(app, runner, chained,
                                                                     tmp_path):
    cases = [
        ["--key", str(tmp_path / "missing.key")],
        ["--site", chained.code, "--all"],
        ["--site", "no-such-site"],
        ["--checkpoints", str(tmp_path / "nowhere")],
    ]
    for args in cases:
        result = runner.invoke(cli, ["audit", "verify", *args])
        assert result.exit_code == 2, (args, result.output)
        assert len(result.output.strip().splitlines()) == 1, result.output
        assert "Traceback" not in result.output


def test_verify_unreadable_database_exits_2(app, runner, tmp_path):
    init_database(f"sqlite:///{tmp_path / 'no-such-dir' / 'db.sqlite'}")
    result = runner.invoke(cli, ["audit", "verify"])
    assert result.exit_code == 2
    assert result.output.startswith("error: cannot read the database")
    assert len(result.output.strip().splitlines()) == 1


VALUES = st.one_of(st.none(), st.text(max_size=30))


@settings(max_examples=200, deadline=None)
@given(text=st.tuples(*[VALUES] * 6), numbers=st.tuples(*[st.one_of(
    st.none(), st.integers(min_value=-2**62, max_value=2**62))] * 3))
def test_header_bytes_is_the_canonical_form(text, numbers):
    row = (7, 3, text[0] or "2026-01-01T00:00:00.000000Z", numbers[0], numbers[1], numbers[2],
           text[1] or "x.y", text[2], text[3], text[4] or "ok", text[5], "ip<\"\\>",
           "a" * 64, "sha256", "b" * 64)
    assert verify.header_bytes(row) == chain.canonical(dict(zip(chain.HEADER_FIELDS, row,
                                                                 strict=True)))


def test_header_bytes_refuses_text_in_an_integer_column():
    row = ("7", 3, "t", None, None, None, "a", None, None, "ok", None, None, "h", "sha256", "p")
    with pytest.raises(TypeError):
        verify.header_bytes(row)
