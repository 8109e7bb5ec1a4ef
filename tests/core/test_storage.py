"""The storage layer: SQLite pragmas on every connection, PostgreSQL retries.

SECURITY §4.4 and the §5 rows "Durability setting" and "PostgreSQL: 8 writers".
"""

from __future__ import annotations

import threading

import peewee as pw
import pytest

from core import records, storage
from core.audit.models import AuditEvent
from core.storage import db, open_database, transaction
from core.testing import make_site


def _pragmas(database) -> dict:
    return {name: database.execute_sql(f"PRAGMA {name}").fetchone()[0]
            for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")}


def _check(pragmas: dict) -> None:
    assert pragmas["journal_mode"] == "wal"
    assert pragmas["synchronous"] == 2  # FULL
    assert pragmas["foreign_keys"] == 1
    assert pragmas["busy_timeout"] >= 5000


def test_durability_pragmas_read_back_on_every_connection(tmp_path):
    database = open_database(f"sqlite:///{tmp_path / 'p.sqlite'}")
    seen = []
    for _ in range(3):  # a connection, then fresh ones after closing
        database.connect()
        seen.append(_pragmas(database))
        database.close()

    def in_thread():  # peewee keeps one connection per thread
        with database.connection_context():
            seen.append(_pragmas(database))

    threads = [threading.Thread(target=in_thread) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 7
    for pragmas in seen:
        _check(pragmas)


def test_durability_pragmas_of_the_app_connection(app):
    if storage.is_postgres():
        pytest.skip("SQLite pragmas")
    _check(_pragmas(db.obj))


class _PgError(Exception):
    """Stands in for a psycopg2 error: what ``retryable`` reads is pgcode and diag."""

    def __init__(self, pgcode, table=None):
        super().__init__(pgcode)
        self.pgcode = pgcode
        self.diag = type("Diag", (), {"table_name": table})()


@pytest.mark.parametrize(("pgcode", "table", "expected"), [
    ("40001", None, True),                 # serialization_failure
    ("40P01", None, True),                 # deadlock_detected
    ("23505", "core_audit_head", True),    # two writers began one chain
    ("23505", "core_audit_event", True),
    ("23505", "core_user", False),         # a real duplicate: the caller's to handle
    ("23503", "core_audit_head", False),   # foreign key violation
    (None, None, False),
])
def test_retryable_only_for_transient_postgres_conflicts(pgcode, table, expected):
    wrapped = pw.IntegrityError(_PgError(pgcode, table))  # how peewee re-raises driver errors
    assert storage.retryable(wrapped) is expected


def test_decorated_transaction_runs_once_on_sqlite(app, site):
    if storage.is_postgres():
        pytest.skip("SQLite")
    calls = []

    @transaction()
    def write():
        calls.append(1)
        raise pw.IntegrityError(_PgError("40001"))

    with pytest.raises(pw.IntegrityError):
        write()
    assert calls == [1]  # BEGIN IMMEDIATE serialises writers: nothing to retry


postgres = pytest.mark.postgres


def _postgres_only():
    if not storage.is_postgres():
        pytest.skip("needs GRASSROOTS_TEST_PG")


@postgres
def test_decorated_transaction_retries_a_conflict_at_most_three_times(app):
    _postgres_only()
    calls = []

    @transaction()
    def always_conflicts():
        calls.append(1)
        db.obj.execute_sql("SELECT 1")
        raise pw.OperationalError(_PgError("40001"))

    with pytest.raises(pw.OperationalError):
        always_conflicts()
    assert len(calls) == 1 + storage.RETRIES


@postgres
def test_decorated_transaction_inside_another_is_not_retried(app):
    _postgres_only()
    calls = []

    @transaction()
    def conflicts():
        calls.append(1)
        raise pw.OperationalError(_PgError("40001"))

    with pytest.raises(pw.OperationalError), transaction():
        conflicts()
    assert calls == [1]  # only the outer transaction could start again


@postgres
def test_first_event_of_a_chain_raced_by_8_writers_needs_no_caller_retry(app, monkeypatch):
    """Eight writers append the first event of fresh chains at once: the head
    row does not exist yet, so ``FOR UPDATE`` locks nothing and all eight
    compute seq 1; the losers must be tried again, never see an error."""
    _postgres_only()
    verdicts = []
    real = storage.retryable
    monkeypatch.setattr(storage, "retryable", lambda err: verdicts.append(real(err)) or real(err))
    errors = []
    for _ in range(5):
        fresh = make_site()
        assert not AuditEvent.select().where(AuditEvent.chain_id == fresh.id).exists()
        barrier = threading.Barrier(8)

        def writer(site_id=fresh.id, barrier=barrier):
            with app.app_context(), db.obj.connection_context():
                barrier.wait()
                try:
                    records.create(_Note, site=site_id, text="x")
                except Exception as err:  # collected and asserted below
                    errors.append(err)

        threads = [threading.Thread(target=writer) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seqs = [e.seq for e in AuditEvent.select().where(AuditEvent.chain_id == fresh.id)
                .order_by(AuditEvent.seq)]
        assert seqs == list(range(1, 9))
    assert errors == []
    assert True in verdicts, "the writers never raced: the test proved nothing"


class _Note(storage.BaseModel):
    """A test-only site-scoped table, created in the test database."""

    site = pw.IntegerField()
    text = pw.CharField()

    class Meta:
        table_name = "test_storage_note"


@pytest.fixture(autouse=True)
def _note_table(request):
    if "app" in request.fixturenames:
        request.getfixturevalue("app")
        db.obj.create_tables([_Note])
