"""kill -9 of four concurrent writers (SECURITY §4.4; §5 row "kill -9 of 4
concurrent writers at random times: 0 acknowledged rows lost, 0 rows without
audit event (or vice versa), integrity_check = ok, chain verifies").

Each writer is a separate process looping: one transaction holding a row of a
test-only site-scoped table and its audit event (``core.records.create``),
then the row's id printed to the parent — the acknowledgement. The parent
SIGKILLs all four at a random moment and checks the database. Always on
SQLite: this is the SQLite crash protocol, whichever database the suite runs on.
"""

from __future__ import annotations

import contextvars
import random
import shutil
import signal
import subprocess
import sys
import threading
import time

import peewee as pw
import pytest

from core import records
from core.audit import verify_chains
from core.audit.models import AuditEvent
from core.backup import sqlite_problems
from core.context import Actor, acting_as
from core.sitemodel import SiteModel
from core.storage import db, init_database

TRIALS = 5
WRITERS = 4


class CrashRow(SiteModel):
    """A test-only site-scoped table, created in the test database (no kernel migration)."""

    n = pw.IntegerField()

    class Meta:
        table_name = "test_crash_row"


def _write_until_killed(url: str, site_id: int) -> None:
    """The writer process: once told to go, commit, then acknowledge, until killed.

    The four start together (after their imports): a writer that joined three
    others already looping could wait out the busy timeout, because SQLite's
    busy handler sleeps between tries and is not a queue.
    """
    init_database(url)
    db.obj.connect()
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    sys.stdin.readline()  # all four start writing together
    with acting_as(Actor(via="test")):
        n = 0
        while True:
            row = records.create(CrashRow, site=site_id, n=n)
            sys.stdout.write(f"{row.id}\n")
            sys.stdout.flush()
            n += 1


def _read_acks(stream, acked: set, ready: threading.Event) -> None:
    if stream.readline() == "ready\n":
        ready.set()
    for line in stream:
        if line.endswith("\n"):  # a line cut by the kill was never acknowledged
            acked.add(int(line))


def _trial(url: str, site_id: int, acked: set) -> int:
    """Run the writers, kill them at a random moment; return how many they acknowledged."""
    db.obj.close()  # the parent holds no connection while the writers run
    procs, readers, ready = [], [], []
    got = set()
    for _ in range(WRITERS):
        proc = subprocess.Popen([sys.executable, __file__, url, str(site_id)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        started = threading.Event()
        reader = threading.Thread(target=_read_acks, args=(proc.stdout, got, started))
        reader.start()
        procs.append(proc)
        readers.append(reader)
        ready.append(started)
    try:
        for started in ready:
            assert started.wait(60), "a writer did not start"
        for proc in procs:
            proc.stdin.write("go\n")
            proc.stdin.flush()
        time.sleep(random.uniform(0.3, 1.5))
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGKILL)
        for proc in procs:
            proc.wait()
            proc.stdin.close()
        for reader in readers:
            reader.join()
    acked |= got
    return len(got)


def _check(path, acked: set) -> None:
    assert sqlite_problems(path) == []  # integrity_check ok, foreign_key_check empty
    rows = [r.id for r in CrashRow.select(CrashRow.id)]
    events = [e.object_id for e in AuditEvent.select(AuditEvent.object_id).where(
        AuditEvent.object_type == CrashRow._meta.table_name)]
    assert acked <= set(rows), f"lost acknowledged rows: {sorted(acked - set(rows))[:5]}"
    assert len(events) == len(set(events)) == len(rows)  # 1:1, no duplicate event
    assert set(events) == {str(i) for i in rows}
    report = verify_chains(checkpoint_dir=path.parent / "no-checkpoints", key=b"unused")
    assert report.ok, report


@pytest.mark.slow
def test_kill_9_of_4_writers_5_trials_lose_nothing_and_keep_rows_and_events_1_to_1(
        migrated_db, tmp_path):
    from core.app import create_app
    from core.testing import base_config, make_site

    path = tmp_path / "crash.sqlite"
    shutil.copy(migrated_db, path)
    url = f"sqlite:///{path}"
    app = contextvars.Context().run(create_app, base_config(
        url, UPLOAD_DIR=str(tmp_path / "files"), CHECKPOINT_DIR=str(tmp_path / "checkpoints")))
    with app.app_context(), acting_as(Actor(via="test")):
        site_id = make_site().id
        db.obj.create_tables([CrashRow])
        acked: set = set()
        counts = []
        for _ in range(TRIALS):
            counts.append(_trial(url, site_id, acked))
            init_database(url)  # reopen after the crash, as a restarted server would
            _check(path, acked)
        assert all(counts), counts  # every trial wrote before it was killed


if __name__ == "__main__":
    _write_until_killed(sys.argv[1], int(sys.argv[2]))
