"""Concurrent writers: lost updates, parallel identical decisions, PostgreSQL writers.

SECURITY §4.6 and the §5 rows "Lost updates: 0 in randomized two-editor
interleavings; exactly 1 of 2 conflicting saves wins", "Parallel identical
approvals (20 threads): exactly 1 state change and 1 audit event", "PostgreSQL:
8 writers × 200 audited writes → 0 chain forks, 0 user-visible serialization
errors, verify OK" and "Brute force: lock after 5 failures … across ≥ 2 worker
processes". The first three run on the suite's database (SQLite or PostgreSQL);
the ``postgres`` ones only with ``GRASSROOTS_TEST_PG``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading

import peewee as pw
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule

from core import records
from core.audit import verify_chains
from core.audit.checkpoints import read_key
from core.audit.models import AuditEvent
from core.records import Conflict
from core.sitemodel import SiteModel
from core.storage import db, is_postgres
from core.testing import PASSWORD, make_site, make_user


class Doc(SiteModel):
    """A test-only versioned, site-scoped record, created in the test database."""

    title = pw.CharField(default="")
    status = pw.CharField(default="pending")

    class Meta:
        table_name = "test_concurrency_doc"


@pytest.fixture
def docs(app):
    db.obj.create_tables([Doc])
    return Doc


def _events(action: str, obj=None) -> int:
    query = AuditEvent.select().where(AuditEvent.action == action)
    if obj is not None:
        query = query.where(AuditEvent.object_id == str(obj.id))
    return query.count()


def _verified(app) -> None:
    report = verify_chains(checkpoint_dir=app.config["CHECKPOINT_DIR"],
                           key=read_key(app.config["AUDIT_KEY_FILE"]))
    assert report.ok, report


def _in_threads(app, n: int, work) -> list:
    """Run ``work(i)`` in ``n`` threads started together; return what each returned or raised."""
    results, gate = [None] * n, threading.Barrier(n)

    def run(i):
        with app.app_context(), db.obj.connection_context():
            gate.wait()
            try:
                results[i] = work(i)
            except Exception as err:  # returned to the test, which asserts on it
                results[i] = err

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


# --------------------------------------------------------------------------
# Lost updates
# --------------------------------------------------------------------------

def test_lost_update_exactly_one_of_two_conflicting_saves_wins(app, docs, site):
    doc = records.create(Doc, site=site, title="draft")
    alice, bob = Doc.get_by_id(doc.id), Doc.get_by_id(doc.id)  # both read version 1

    records.update(alice, title="Alice's text")
    with pytest.raises(Conflict) as refused:
        records.update(bob, title="Bob's text")

    assert refused.value.expected == 1
    stored = Doc.get_by_id(doc.id)
    assert (stored.title, stored.version) == ("Alice's text", 2)
    assert _events("test_concurrency_doc.update", doc) == 1  # the loser left no event


class TwoEditors(RuleBasedStateMachine):
    """Two editors read and save one record in any order.

    The reference model is the list of saves that were accepted: a save must
    be accepted exactly when it is based on the version then stored (else it
    is a lost update, or a needless refusal), the record must hold the last
    accepted text at version 1 + accepted saves, and every accepted save (and
    no refused one) has its audit event.
    """

    site = None
    outcomes = {"accepted": 0, "refused": 0}  # over the whole run

    @initialize()
    def start(self):
        self.doc = records.create(Doc, site=self.site, title="v0")
        self.seen = {"a": Doc.get_by_id(self.doc.id), "b": Doc.get_by_id(self.doc.id)}
        self.accepted = []  # the texts of the saves that were accepted, in order

    @rule(editor=st.sampled_from("ab"))
    def read(self, editor):
        self.seen[editor] = Doc.get_by_id(self.doc.id)

    @rule(editor=st.sampled_from("ab"), text=st.text("甲乙丙xyz", min_size=1, max_size=4))
    def save(self, editor, text):
        copy = self.seen[editor]
        base, stored = copy.version, 1 + len(self.accepted)
        try:
            records.update(copy, title=text)
        except Conflict:
            assert base != stored
            self.seen[editor] = Doc.get_by_id(self.doc.id)  # the form is shown again, fresh
            self.outcomes["refused"] += 1
        else:
            assert base == stored, "a save based on a stale read was accepted: a lost update"
            self.accepted.append(text)
            self.outcomes["accepted"] += 1
        self.check()

    def check(self):
        stored = Doc.get_by_id(self.doc.id)
        assert stored.version == 1 + len(self.accepted)
        assert stored.title == (self.accepted[-1] if self.accepted else "v0")
        assert _events("test_concurrency_doc.update", self.doc) == len(self.accepted)


def test_lost_updates_none_in_200_two_editor_interleavings(app, docs, site):
    TwoEditors.site = site
    run = TwoEditors.TestCase()
    run.settings = settings(max_examples=200, stateful_step_count=8, deadline=None,
                            database=None)
    run.runTest()
    assert TwoEditors.outcomes["accepted"] and TwoEditors.outcomes["refused"]  # both happened


def test_parallel_identical_approvals_20_threads_one_change_one_event(app, docs, site):
    doc = records.create(Doc, site=site, title="voucher")

    def approve(_):
        copy = Doc.get_by_id(doc.id)
        return records.update(copy, expected_version=1, status="approved",
                              action="test.approve")

    results = _in_threads(app, 20, approve)

    conflicts = [r for r in results if isinstance(r, Conflict)]
    others = [r for r in results if isinstance(r, Exception) and not isinstance(r, Conflict)]
    assert others == []
    assert len(conflicts) == 19
    stored = Doc.get_by_id(doc.id)
    assert (stored.status, stored.version) == ("approved", 2)
    assert _events("test.approve", doc) == 1
    _verified(app)


# --------------------------------------------------------------------------
# PostgreSQL
# --------------------------------------------------------------------------

def _postgres_only():
    if not is_postgres():
        pytest.skip("needs GRASSROOTS_TEST_PG")


@pytest.mark.postgres
def test_postgres_8_writers_200_audited_writes_no_fork_no_error(app, docs):
    _postgres_only()
    site = make_site()

    def write(i):
        for n in range(200):
            records.create(Doc, site=site, title=f"{i}-{n}")
        return "done"

    results = _in_threads(app, 8, write)

    assert results == ["done"] * 8  # no serialization error reached a writer
    assert Doc.select().where(Doc.site == site).count() == 1600
    seqs = [s for (s,) in AuditEvent.select(AuditEvent.seq)
            .where(AuditEvent.chain_id == site.id).order_by(AuditEvent.seq).tuples()]
    assert seqs == list(range(1, len(seqs) + 1))  # one line: no fork, no gap
    assert _events("test_concurrency_doc.create") == 1600
    _verified(app)


def _serve(url: str, key_file: str) -> None:
    """A second application process: reads commands on stdin, answers JSON lines."""
    from core.app import create_app
    from core.auth import authenticate
    from core.context import Actor, acting_as
    from core.models import Site
    from core.testing import base_config

    app = create_app(base_config(url, AUDIT_KEY_FILE=key_file, AUTO_MIGRATE=False))
    with app.app_context(), acting_as(Actor(via="test")):
        db.obj.create_tables([Doc])
        print(json.dumps("ready"), flush=True)
        for line in sys.stdin:
            command, *args = json.loads(line)
            if command == "write":
                site_code, count, tag = args
                site = Site.get(Site.code == site_code)
                for n in range(count):
                    records.create(Doc, site=site, title=f"{tag}-{n}")
                answer = count
            elif command == "login":
                username, password, times = args
                answer = [authenticate(username, password, "127.0.0.9").reason
                          for _ in range(times)]
            else:
                answer = f"unknown command {command}"
            print(json.dumps(answer), flush=True)


class _Process:
    """A running app process and its command pipe."""

    def __init__(self, url: str, key_file: str):
        self.proc = subprocess.Popen([sys.executable, __file__, url, key_file],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self._answer() == "ready"

    def send(self, *command):
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()

    def _answer(self):
        line = self.proc.stdout.readline()
        assert line, "the app process died"
        return json.loads(line)

    def ask(self, *command):
        self.send(*command)
        return self._answer()

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


@pytest.mark.postgres
def test_postgres_two_app_processes_lose_no_write_fork_no_chain_and_share_lockout(
        app, docs):
    _postgres_only()
    site = make_site()
    user = make_user(site)
    url, key_file = app.config["DATABASE_URL"], app.config["AUDIT_KEY_FILE"]
    first, second = _Process(url, key_file), _Process(url, key_file)
    try:
        first.send("write", site.code, 150, "one")  # both at once
        second.send("write", site.code, 150, "two")
        assert (first._answer(), second._answer()) == (150, 150)

        first.send("login", user.username, "wrong password 1", 3)
        second.send("login", user.username, "wrong password 2", 2)
        assert first._answer() + second._answer() == ["invalid"] * 5

        # the lock-out one process recorded holds in the other, and vice versa
        assert first.ask("login", user.username, PASSWORD, 1) == ["locked"]
        assert second.ask("login", user.username, PASSWORD, 1) == ["locked"]
    finally:
        first.close()
        second.close()

    titles = {d.title for d in Doc.select().where(Doc.site == site)}
    assert titles == {f"{tag}-{n}" for tag in ("one", "two") for n in range(150)}
    for chain_id in (0, site.id):
        seqs = [s for (s,) in AuditEvent.select(AuditEvent.seq)
                .where(AuditEvent.chain_id == chain_id).order_by(AuditEvent.seq).tuples()]
        assert seqs == list(range(1, len(seqs) + 1))
    _verified(app)


if __name__ == "__main__":
    _serve(sys.argv[1], sys.argv[2])
