"""The database: one peewee ``DatabaseProxy``, connected from a URL.

SQLite is the default (a file in ``instance/``), PostgreSQL is chosen by a
``postgresql://`` URL. The SQLite pragmas follow SECURITY.md §4.4: the busy
timeout comes first, then WAL, foreign keys and ``synchronous=FULL`` on every
connection, because audit-grade rows must survive a power loss.
"""

from __future__ import annotations

import datetime as dt
import functools
import random
import time
from urllib.parse import urlparse

import peewee
from playhouse.db_url import connect as connect_url

db = peewee.DatabaseProxy()

SQLITE_PRAGMAS = (
    ("busy_timeout", 10000),
    ("journal_mode", "wal"),
    ("foreign_keys", 1),
    ("synchronous", "full"),
)


def open_database(url: str) -> peewee.Database:
    """Build (but do not connect) the database named by ``url``.

    :param url: ``sqlite:///path/to/file.sqlite`` or ``postgresql://user@host/name``.
    :raises ValueError: for a scheme other than sqlite or postgresql.
    """
    scheme = urlparse(url).scheme
    if scheme == "sqlite":
        return connect_url(url, pragmas=list(SQLITE_PRAGMAS), autoconnect=True)
    if scheme in ("postgres", "postgresql"):
        # peewee runs psycopg2 in autocommit mode: a failed statement never leaves
        # the connection in an aborted transaction, so no autorollback option
        return connect_url(url.replace("postgres://", "postgresql://", 1))
    raise ValueError(f"unsupported database URL scheme: {scheme!r}")


def init_database(url: str) -> peewee.Database:
    """Point the proxy at ``url`` and return the database."""
    database = open_database(url)
    old = db.obj
    if old is not None and not old.is_closed():
        old.close()
    db.initialize(database)
    return database


def is_postgres() -> bool:
    return isinstance(db.obj, peewee.PostgresqlDatabase)


#: how often a PostgreSQL transaction is tried again after a transient conflict (§3.3 item 5)
RETRIES = 3

#: PostgreSQL SQLSTATEs that another attempt of the same transaction can clear
_RETRY_STATES = frozenset({"40001", "40P01"})  # serialization_failure, deadlock_detected

#: a unique violation on these tables means two writers started the same audit
#: chain at once (the head row does not exist yet, so ``FOR UPDATE`` locked nothing);
#: the loser's next attempt finds the head and queues behind it
_RETRY_UNIQUE_TABLES = frozenset({"core_audit_head", "core_audit_event"})


def _driver_error(err: BaseException):
    """The psycopg2 error behind a peewee error (peewee keeps it as ``orig``)."""
    for candidate in (getattr(err, "orig", None), err.__cause__, err.__context__):
        if getattr(candidate, "pgcode", None):
            return candidate
    return err


def retryable(err: BaseException) -> bool:
    """True when ``err`` is a PostgreSQL conflict that a fresh attempt can clear.

    Serialization failures, deadlocks, and a unique violation on the audit
    chain tables (two writers appending the first event of one chain). Any
    other error, and every SQLite error, is final.
    """
    orig = _driver_error(err)
    state = getattr(orig, "pgcode", None)
    if state in _RETRY_STATES:
        return True
    if state == "23505":  # unique_violation
        return getattr(getattr(orig, "diag", None), "table_name", None) in _RETRY_UNIQUE_TABLES
    return False


class transaction:  # lower case: it replaced a function and is used like one
    """A write transaction that takes the write lock at once.

    On SQLite ``BEGIN IMMEDIATE`` serialises writers up front, so reading the
    audit chain head and appending to it cannot interleave and there is no
    deferred-lock upgrade deadlock. Nested calls become savepoints.

    ``with transaction():`` runs its block once. Used as a decorator,
    ``@transaction()`` runs the whole function in one transaction and, on
    PostgreSQL, runs it again (at most :data:`RETRIES` more times) when the
    transaction fails with a :func:`retryable` conflict — so concurrent
    writers never see a serialization error (SECURITY §5, PostgreSQL row).
    The function must therefore be safe to re-run: it may only change the
    database and objects it builds afresh. A decorated function called inside
    another transaction cannot be retried on its own; it runs as a savepoint
    and the error goes to the outer transaction.
    """

    def __enter__(self):
        database = db.obj
        if database.in_transaction():
            self._ctx = database.atomic()
        elif isinstance(database, peewee.SqliteDatabase):
            self._ctx = database.atomic(lock_type="IMMEDIATE")
        else:
            self._ctx = database.atomic()
        return self._ctx.__enter__()

    def __exit__(self, exc_type, exc, tb):
        return self._ctx.__exit__(exc_type, exc, tb)

    def __call__(self, func):
        @functools.wraps(func)
        def attempt(*args, **kwargs):
            retries = 0 if db.obj.in_transaction() or not is_postgres() else RETRIES
            tried = 0
            while True:
                try:
                    with transaction():
                        return func(*args, **kwargs)
                except Exception as err:
                    if tried >= retries or not retryable(err):
                        raise
                    tried += 1
                    # back off a little, at random, so the same writers do not collide again
                    time.sleep(random.uniform(0.001, 0.02) * tried)

        return attempt


def utcnow() -> dt.datetime:
    """The current time in UTC as a naive datetime: every stored time is UTC."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class BaseModel(peewee.Model):
    """Base for every table; plugins name their tables ``<plugin>_<thing>``."""

    class Meta:
        database = db
        legacy_table_names = False
