"""The database: one peewee ``DatabaseProxy``, connected from a URL.

SQLite is the default (a file in ``instance/``), PostgreSQL is chosen by a
``postgresql://`` URL. The SQLite pragmas follow SECURITY.md §4.4: the busy
timeout comes first, then WAL, foreign keys and ``synchronous=FULL`` on every
connection, because audit-grade rows must survive a power loss.
"""

from __future__ import annotations

import contextlib
import datetime as dt
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
        return connect_url(url.replace("postgres://", "postgresql://", 1), autorollback=True)
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


@contextlib.contextmanager
def transaction():
    """A write transaction that takes the write lock at once.

    On SQLite ``BEGIN IMMEDIATE`` serialises writers up front, so reading the
    audit chain head and appending to it cannot interleave and there is no
    deferred-lock upgrade deadlock. Nested calls become savepoints.
    """
    database = db.obj
    if database.in_transaction():
        with database.atomic():
            yield
        return
    if isinstance(database, peewee.SqliteDatabase):
        with database.atomic(lock_type="IMMEDIATE"):
            yield
    else:
        with database.atomic():
            yield


def utcnow() -> dt.datetime:
    """The current time in UTC as a naive datetime: every stored time is UTC."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class BaseModel(peewee.Model):
    """Base for every table; plugins name their tables ``<plugin>_<thing>``."""

    class Meta:
        database = db
        legacy_table_names = False
