"""Online backups and restores: the database, the attachments and the checkpoints in one file.

SECURITY §4.5 and the §5 rows "Online backup while writers run" and "Restore
drill"; a restore is itself an audit event (§3.3 item 8).

An archive is a ``.tar.gz`` holding

- ``database.sqlite`` (SQLite, copied with the online backup API, which reads
  one consistent snapshot while writers go on) or ``database.pgdump``
  (PostgreSQL, ``pg_dump --format=custom`` on an exported snapshot);
- ``files/…``, the attachments directory (``UPLOAD_DIR``);
- ``checkpoints/…``, the audit checkpoints directory (``CHECKPOINT_DIR``);
- ``manifest.json``: format, time, database kind, the deployment id, the audit
  chain heads *of the snapshot* and the SHA-256 of every other member.

A restore checks every member against the manifest before it touches
anything, replaces the configured database, adds the files, never replaces a
checkpoint file the instance already holds (checkpoints are the anchor that
makes a rollback visible), and appends one ``audit.restore`` event to every
restored chain right after its restored head (:func:`core.audit.record_restore`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from pathlib import Path, PurePosixPath

import peewee

from core.audit import checkpoints, record_restore
from core.storage import db, init_database, utcnow

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database.sqlite"
PGDUMP_MEMBER = "database.pgdump"
FILES = "files"
CHECKPOINTS = "checkpoints"
_CHUNK = 1 << 20


class BackupError(RuntimeError):
    """A backup or restore that was refused or failed; the message is one line for the CLI."""


@dataclasses.dataclass(frozen=True)
class BackupResult:
    """What ``backup`` wrote: the archive, its checksum and its manifest."""

    path: Path
    sha256: str
    manifest: dict


@dataclasses.dataclass(frozen=True)
class RestoreResult:
    """What ``restore`` did: the manifest, the archive checksum, the heads it replaced,
    the checkpoint files it kept because the instance already had them, and the ids
    of the restore events (one per restored chain)."""

    manifest: dict
    archive_sha256: str
    replaced_heads: dict
    checkpoints_kept: list
    event_ids: list


def kind(database: peewee.Database) -> str:
    if isinstance(database, peewee.SqliteDatabase):
        return "sqlite"
    if isinstance(database, peewee.PostgresqlDatabase):
        return "postgresql"
    raise BackupError(f"cannot back up a {type(database).__name__}")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def default_path(instance_dir: Path) -> Path:
    """``instance/backups/grassroots-YYYYMMDDTHHMMSSZ.tar.gz``, named for the time now (UTC)."""
    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    return instance_dir / "backups" / f"grassroots-{stamp}.tar.gz"


# --------------------------------------------------------------------------
# Reading a database: heads and emptiness, on a connection or a snapshot
# --------------------------------------------------------------------------

def _heads_from(rows) -> dict:
    return {str(chain): {"seq": int(seq), "hash": digest} for chain, seq, digest in rows}


def audit_heads(database: peewee.Database | None = None) -> dict:
    """``{"chain_id": {"seq": n, "hash": h}}`` of every chain, as strings for JSON."""
    database = database or db.obj
    if not database.table_exists("core_audit_head"):
        return {}
    cursor = database.execute_sql(
        "SELECT chain_id, seq, hash FROM core_audit_head ORDER BY chain_id")
    return _heads_from(cursor.fetchall())


def holds_data(database: peewee.Database | None = None) -> bool:
    """True when the database holds an audit event, a site or a user.

    Every write is audited, so a database without events, sites and users
    holds nothing a restore could destroy (a freshly migrated instance).
    """
    database = database or db.obj
    return any(database.table_exists(table)
               and peewee.Table(table).select().bind(database).limit(1).exists()
               for table in ("core_audit_event", "core_site", "core_user"))


def sqlite_problems(path: Path) -> list[str]:
    """``PRAGMA integrity_check`` and ``foreign_key_check`` of a SQLite file; [] when sound."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        integrity = [row[0] for row in conn.execute("PRAGMA integrity_check")]
        problems = [] if integrity == ["ok"] else [f"integrity: {line}" for line in integrity]
        problems += [f"foreign key: {table} row {rowid} -> {parent}"
                     for table, rowid, parent, _ in conn.execute("PRAGMA foreign_key_check")]
    return problems


# --------------------------------------------------------------------------
# Snapshots
# --------------------------------------------------------------------------

def _sqlite_snapshot(database: peewee.SqliteDatabase, dest: Path) -> dict:
    """Copy the live database with the online backup API; return its audit heads.

    ``backup()`` with the default ``pages=-1`` copies every page in one step
    inside one read transaction, so the copy is a single committed state
    even while other connections write (WAL lets them go on meanwhile).
    """
    with contextlib.closing(sqlite3.connect(database.database, timeout=30)) as source, \
            contextlib.closing(sqlite3.connect(dest)) as copy:
        source.execute("PRAGMA busy_timeout = 30000")
        source.backup(copy)
        # a self-contained file: no -wal beside it in the archive
        copy.execute("PRAGMA journal_mode = DELETE")
    problems = sqlite_problems(dest)
    if problems:
        raise BackupError(f"the snapshot failed its check: {problems[0]}")
    with contextlib.closing(sqlite3.connect(dest)) as copy:
        exists = copy.execute("SELECT 1 FROM sqlite_master WHERE name = 'core_audit_head'")
        rows = copy.execute("SELECT chain_id, seq, hash FROM core_audit_head ORDER BY chain_id"
                            ).fetchall() if exists.fetchone() else []
    return _heads_from(rows)


def _pg_env(database: peewee.PostgresqlDatabase) -> dict:
    """libpq environment for pg_dump/pg_restore/psql: no password on a command line."""
    names = {"host": "PGHOST", "port": "PGPORT", "user": "PGUSER", "password": "PGPASSWORD",
             "sslmode": "PGSSLMODE", "sslrootcert": "PGSSLROOTCERT", "sslcert": "PGSSLCERT",
             "sslkey": "PGSSLKEY", "connect_timeout": "PGCONNECT_TIMEOUT"}
    env = dict(os.environ)
    env.update({names[k]: str(v) for k, v in database.connect_params.items()
                if k in names and v is not None})
    env["PGDATABASE"] = database.database
    return env


def _run(argv: list[str], env: dict, what: str) -> None:
    program = shutil.which(argv[0])
    if program is None:
        raise BackupError(f"{argv[0]} is not installed; install the PostgreSQL client tools")
    # a fixed program; the arguments are paths and a snapshot id, never shell text
    done = subprocess.run([program, *argv[1:]], env=env, capture_output=True, text=True,  # noqa: S603
                          check=False)
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines() or ["no output"]
        raise BackupError(f"{what} failed: {lines[0]}")


def _pg_snapshot(database: peewee.PostgresqlDatabase, dest: Path) -> dict:
    """``pg_dump`` on a snapshot exported by a transaction that also reads the heads.

    The heads in the manifest are then exactly those of the dump, although
    writers go on while it runs.
    """
    reader = type(database)(database.database, **database.connect_params)
    with reader.connection_context():
        reader.execute_sql("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        try:
            snapshot = reader.execute_sql("SELECT pg_export_snapshot()").fetchone()[0]
            heads = audit_heads(reader)
            _run(["pg_dump", "--format=custom", f"--snapshot={snapshot}", f"--file={dest}"],
                 _pg_env(database), "pg_dump")
        finally:
            reader.execute_sql("ROLLBACK")
    return heads


# --------------------------------------------------------------------------
# Writing and reading archives
# --------------------------------------------------------------------------

class _HashingReader(io.RawIOBase):
    """Reads a file once for the archive and hashes what it read."""

    def __init__(self, handle):
        self.handle, self.sha256 = handle, hashlib.sha256()

    def readable(self):
        return True

    def read(self, size=-1):
        data = self.handle.read(size)
        self.sha256.update(data)
        return data


def _add_file(archive: tarfile.TarFile, path: Path, name: str) -> str:
    with open(path, "rb") as handle:
        info = tarfile.TarInfo(name)
        stat = os.fstat(handle.fileno())
        info.size, info.mtime, info.mode = stat.st_size, int(stat.st_mtime), 0o600
        reader = _HashingReader(handle)
        archive.addfile(info, reader)
    return reader.sha256.hexdigest()


def _add_tree(archive: tarfile.TarFile, root: Path, prefix: str, members: dict) -> None:
    if not root.is_dir():
        return
    for path in sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink()):
        name = f"{prefix}/{path.relative_to(root).as_posix()}"
        members[name] = _add_file(archive, path, name)


def backup(dest: Path, *, upload_dir: Path, checkpoint_dir: Path) -> BackupResult:
    """Write a consistent archive of the configured database and the instance's files.

    Runs while the application serves requests. The archive appears under its
    name only when complete (written beside it, then renamed), with mode 0600:
    it holds personal data.

    :raises BackupError: the snapshot failed its integrity check, or pg_dump failed.
    """
    database = db.obj
    db_kind = kind(database)
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest.parent, prefix=".backup-") as work:
        work = Path(work)
        taken = utcnow()
        if db_kind == "sqlite":
            member, snapshot = SQLITE_MEMBER, work / SQLITE_MEMBER
            heads = _sqlite_snapshot(database, snapshot)
        else:
            member, snapshot = PGDUMP_MEMBER, work / PGDUMP_MEMBER
            heads = _pg_snapshot(database, snapshot)
        partial = work / "archive.tar.gz"
        members = {}
        with tarfile.open(partial, "w:gz") as archive:
            members[member] = _add_file(archive, snapshot, member)
            _add_tree(archive, Path(upload_dir), FILES, members)
            _add_tree(archive, Path(checkpoint_dir), CHECKPOINTS, members)
            manifest = {"format": FORMAT, "created_utc": taken.isoformat() + "Z",
                        "database": db_kind, "database_member": member,
                        "audit_heads": heads, "members": members}
            data = json.dumps(manifest, indent=1, sort_keys=True).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime, info.mode = len(data), int(taken.timestamp()), 0o600
            archive.addfile(info, io.BytesIO(data))
        os.chmod(partial, 0o600)
        os.replace(partial, dest)
    return BackupResult(dest, file_sha256(dest), manifest)


def _safe_name(name: str) -> bool:
    path = PurePosixPath(name)
    return not path.is_absolute() and ".." not in path.parts and name == path.as_posix()


def unpack(archive_path: Path, into: Path) -> dict:
    """Extract an archive into ``into`` after checking it; return its manifest.

    Only regular files named in the manifest are accepted, each must match its
    SHA-256, and every named member must be present.

    :raises BackupError: not a Grassroots archive, or any member missing, extra
        or changed.
    """
    try:
        with tarfile.open(archive_path, "r:gz") as archive:
            try:
                manifest = json.load(archive.extractfile(MANIFEST))
            except (KeyError, ValueError, AttributeError):
                raise BackupError("not a Grassroots backup: no readable manifest") from None
            if manifest.get("format") != FORMAT:
                raise BackupError(f"unknown backup format {manifest.get('format')!r}")
            expected = dict(manifest["members"])
            for info in archive:
                if info.name == MANIFEST:
                    continue
                if not info.isfile() or info.name not in expected or not _safe_name(info.name):
                    raise BackupError(f"unexpected member {info.name!r} in the backup")
                target = into / info.name
                target.parent.mkdir(parents=True, exist_ok=True)
                digest = hashlib.sha256()
                with archive.extractfile(info) as source, open(target, "wb") as out:
                    while chunk := source.read(_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
                if digest.hexdigest() != expected.pop(info.name):
                    raise BackupError(f"{info.name} does not match its checksum in the manifest")
    except (tarfile.TarError, OSError, EOFError) as err:
        raise BackupError(f"cannot read {archive_path}: {err}") from None
    if expected:
        raise BackupError(f"{sorted(expected)[0]} is missing from the backup")
    return manifest


# --------------------------------------------------------------------------
# Restoring
# --------------------------------------------------------------------------

def _restore_sqlite(database: peewee.SqliteDatabase, snapshot: Path) -> None:
    """Copy the snapshot over the live file with the backup API (pages, under its lock)."""
    problems = sqlite_problems(snapshot)
    if problems:
        raise BackupError(f"the backed-up database failed its check: {problems[0]}")
    database.close()
    with contextlib.closing(sqlite3.connect(snapshot)) as source, \
            contextlib.closing(sqlite3.connect(database.database, timeout=30)) as target:
        source.backup(target)
        target.execute("PRAGMA journal_mode = WAL")


def _restore_pg(database: peewee.PostgresqlDatabase, dump: Path, work: Path) -> None:
    """Replace the ``public`` schema by the dump, all in one transaction.

    ``pg_restore`` writes the dump as SQL; ``psql --single-transaction`` drops
    the schema and runs that SQL, so a failure leaves the database as it was.
    """
    env = _pg_env(database)
    script = work / "restore.sql"
    _run(["pg_restore", "--no-owner", f"--file={script}", str(dump)], env, "pg_restore")
    database.close()
    _run(["psql", "--no-psqlrc", "--quiet", "--set=ON_ERROR_STOP=1", "--single-transaction",
          "--command=DROP SCHEMA IF EXISTS public CASCADE",
          "--command=CREATE SCHEMA public", f"--file={script}"], env, "psql")


def _copy_tree(source: Path, target: Path, *, replace: bool) -> list[str]:
    """Copy files; return the relative names of differing files left alone (``replace`` off)."""
    kept = []
    if not source.is_dir():
        return kept
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        name = path.relative_to(source).as_posix()
        dest = target / name
        if dest.exists():
            if file_sha256(dest) == file_sha256(path):
                continue
            if not replace:
                kept.append(name)
                continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, dest)
    return kept


def restore(archive_path: Path, *, database_url: str, upload_dir: Path, checkpoint_dir: Path,
            audit_key: bytes, force: bool = False) -> RestoreResult:
    """Restore an archive into the configured database and directories.

    Runs in an application context (the restore events take the hash
    algorithm from the config); stop the web processes first.

    :param database_url: the configured URL; the database is reopened from it
        afterwards so nothing cached about the old contents survives.
    :param audit_key: the audit key that MACs the restore events.
    :param force: replace a database that holds data.
    :raises BackupError: a bad archive, a database of the other kind, a
        database that holds data without ``force``, or a failed restore.
    """
    database = db.obj
    db_kind = kind(database)
    archive_path = Path(archive_path)
    archive_sha256 = file_sha256(archive_path)
    with tempfile.TemporaryDirectory(prefix="grassroots-restore-") as work:
        work = Path(work)
        manifest = unpack(archive_path, work)
        if manifest["database"] != db_kind:
            raise BackupError(f"this is a {manifest['database']} backup; "
                              f"the configured database is {db_kind}")
        with database.connection_context():
            occupied = holds_data(database)
            replaced = audit_heads(database) if occupied else {}
        if occupied and not force:
            raise BackupError("the configured database holds data; "
                              "restore over it only with --force")
        # files first: they only add, so a failed database restore leaves no damage
        _copy_tree(work / FILES, Path(upload_dir), replace=True)
        kept = _copy_tree(work / CHECKPOINTS, Path(checkpoint_dir), replace=False)
        snapshot = work / manifest["database_member"]
        if db_kind == "sqlite":
            _restore_sqlite(database, snapshot)
        else:
            _restore_pg(database, snapshot, work)
    database = init_database(database_url)
    with database.connection_context():
        try:
            events = record_restore(manifest["audit_heads"], checkpoints.latest(checkpoint_dir),
                                    key=audit_key)
        except ValueError as err:  # the restored heads are not the manifest's
            raise BackupError(f"the restored database does not match the manifest: {err}"
                              ) from None
    return RestoreResult(manifest, archive_sha256, replaced, kept, [e.id for e in events])
