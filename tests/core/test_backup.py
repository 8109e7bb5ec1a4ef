"""Online backup and restore (SECURITY §4.5; §5 rows "Online backup while writers
run" and "Restore drill"; §3.3 item 8 "Restores are events").

Each test runs on the database the suite runs on: SQLite, or PostgreSQL when
``GRASSROOTS_TEST_PG`` is set (restoring into a second database beside it).
"""

from __future__ import annotations

import contextvars
import hashlib
import json
import tarfile
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import peewee as pw
import pytest

from core import backup as backups
from core import records
from core.app import create_app
from core.audit import checkpoint_now, verify_chains
from core.audit.checkpoints import read_key
from core.audit.models import AuditEvent
from core.audit.restores import RESTORE_ACTION
from core.cli import cli
from core.sitemodel import SiteModel
from core.storage import db, init_database, is_postgres, open_database
from core.testing import make_site, make_user


class Doc(SiteModel):
    """A test-only site-scoped table, created in the test database."""

    title = pw.CharField()

    class Meta:
        table_name = "test_backup_doc"


@pytest.fixture
def docs(app):
    db.obj.create_tables([Doc])
    return Doc


@pytest.fixture
def target_url(app_config, tmp_path):
    """An empty database to restore into: a new SQLite file or a second PostgreSQL database."""
    source = app_config["DATABASE_URL"]
    if not source.startswith("postgres"):
        return f"sqlite:///{tmp_path / 'restored.sqlite'}"
    server = open_database(source)
    name = f"{server.database}_restore"
    with server.connection_context():
        server.execute_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        server.execute_sql(f'CREATE DATABASE "{name}"')
    return urlparse(source)._replace(path=f"/{name}").geturl()


def _key(app) -> bytes:
    return read_key(app.config["AUDIT_KEY_FILE"])


# --------------------------------------------------------------------------
# Comparing databases: ordered row hashes of every table
# --------------------------------------------------------------------------

def _rows(database, table: str) -> list[dict]:
    columns = [c.name for c in database.get_columns(table)]
    order = ", ".join(str(i + 1) for i in range(len(columns)))
    cursor = database.execute_sql(f'SELECT * FROM "{table}" ORDER BY {order}')
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def _row_hashes(rows: list[dict]) -> list[str]:
    return [hashlib.sha256(repr(sorted(row.items())).encode()).hexdigest() for row in rows]


def _tables(database) -> dict[str, list[dict]]:
    with database.connection_context():
        return {table: _rows(database, table) for table in database.get_tables()}


def _as_of(tables: dict, heads: dict) -> dict:
    """The source as it was when its chains ended at ``heads``.

    The writers only insert documents, each with its audit event in the same
    transaction, so the state at the backup moment is: the events up to each
    chain's head, the documents whose event is among them, those heads, and
    every other table as it is now.
    """
    def within(event):
        head = heads.get(str(event["chain_id"]))
        return head is not None and event["seq"] <= head["seq"]

    events = [e for e in tables["core_audit_event"] if within(e)]
    created = {e["object_id"] for e in events if e["object_type"] == Doc._meta.table_name}
    return {**tables,
            "core_audit_event": events,
            Doc._meta.table_name: [d for d in tables[Doc._meta.table_name]
                                   if str(d["id"]) in created],
            "core_audit_head": [{"chain_id": int(c), "seq": h["seq"], "hash": h["hash"]}
                                for c, h in sorted(heads.items(), key=lambda i: int(i[0]))]}


def _without_restore_events(tables: dict) -> dict:
    """The restored tables as the backup held them: without the restore events, and
    with each chain's head moved back to the event the restore event follows."""
    restores = [e for e in tables["core_audit_event"] if e["action"] == RESTORE_ACTION]
    heads = {(h["chain_id"], h["seq"], h["hash"]) for h in tables["core_audit_head"]}
    assert heads == {(e["chain_id"], e["seq"], e["hash"]) for e in restores}
    return {**tables,
            "core_audit_event": [e for e in tables["core_audit_event"] if e not in restores],
            "core_audit_head": [{"chain_id": e["chain_id"], "seq": e["seq"] - 1,
                                 "hash": e["prev_hash"]} for e in restores]}


def _sqlite_checks(url: str) -> None:
    path = Path(urlparse(url).path)
    assert backups.sqlite_problems(path) == []  # integrity_check ok, foreign_key_check empty
    database = open_database(url)
    with database.connection_context():
        assert database.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"


# --------------------------------------------------------------------------
# Online backup while writers run
# --------------------------------------------------------------------------

def test_online_backup_while_3_writers_restores_a_consistent_prefix(app, docs, tmp_path,
                                                                     target_url):
    sites = [make_site(), make_site()]
    source_url = app.config["DATABASE_URL"]
    stop, errors, written = threading.Event(), [], []

    def writer(n):
        with app.app_context(), db.obj.connection_context():
            i = 0
            while not stop.is_set():
                try:
                    records.create(Doc, site=sites[(n + i) % 2], title=f"w{n}-{i}")
                except Exception as err:  # collected and asserted below
                    errors.append(err)
                    return
                written.append(1)
                i += 1

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    while len(written) < 60 and not errors:
        time.sleep(0.01)
    result = backups.backup(tmp_path / "b.tar.gz", upload_dir=Path(app.config["UPLOAD_DIR"]),
                            checkpoint_dir=Path(app.config["CHECKPOINT_DIR"]))
    at_backup = len(written)
    while len(written) < at_backup + 30 and not errors:  # the writers go on past the snapshot
        time.sleep(0.01)
    stop.set()
    for thread in threads:
        thread.join()
    assert errors == []

    heads = result.manifest["audit_heads"]
    source = _tables(open_database(source_url))
    expected = _as_of(source, heads)
    # the writers ran on both sides of the snapshot
    assert 0 < len(expected[Doc._meta.table_name]) < len(source[Doc._meta.table_name])

    init_database(target_url)
    restored = backups.restore(result.path, database_url=target_url,
                               upload_dir=tmp_path / "r-files",
                               checkpoint_dir=tmp_path / "r-checkpoints", audit_key=_key(app))
    if not is_postgres():
        _sqlite_checks(target_url)
    tables = _without_restore_events(_tables(db.obj))
    assert len(restored.event_ids) == len(heads)  # one restore event per restored chain
    assert sorted(tables) == sorted(expected)
    for name in expected:  # every table, the audit head table included
        assert _row_hashes(tables[name]) == _row_hashes(expected[name]), name
    with db.obj.connection_context():
        report = verify_chains(checkpoint_dir=tmp_path / "r-checkpoints", key=_key(app))
    assert report.ok, report
    init_database(source_url)


def test_manifest_names_kind_time_heads_and_every_member_checksum(app, docs, tmp_path):
    site = make_site()
    records.create(Doc, site=site, title="a")
    files = Path(app.config["UPLOAD_DIR"])
    (files / "ab").mkdir(parents=True)
    (files / "ab" / "abcdef").write_bytes(b"attachment bytes")
    checkpoint_now()

    result = backups.backup(tmp_path / "b.tar.gz", upload_dir=files,
                            checkpoint_dir=Path(app.config["CHECKPOINT_DIR"]))
    manifest = result.manifest
    assert manifest["database"] == ("postgresql" if is_postgres() else "sqlite")
    assert manifest["created_utc"].endswith("Z")
    assert manifest["audit_heads"] == backups.audit_heads()
    assert str(site.id) in manifest["audit_heads"]
    with tarfile.open(result.path) as archive:
        names = set(archive.getnames())
        assert names == {*manifest["members"], backups.MANIFEST}
        assert {"files/ab/abcdef", manifest["database_member"]} <= names
        assert any(n.startswith("checkpoints/") for n in names)
        for name, digest in manifest["members"].items():
            assert hashlib.sha256(archive.extractfile(name).read()).hexdigest() == digest
        assert json.load(archive.extractfile(backups.MANIFEST)) == manifest
    assert result.sha256 == backups.file_sha256(result.path)
    assert result.path.stat().st_mode & 0o077 == 0  # it holds personal data


# --------------------------------------------------------------------------
# Restore drill (CLI)
# --------------------------------------------------------------------------

def _fresh_config(app, tmp_path, url) -> dict:
    config = {k: app.config[k] for k in ("TESTING", "SECRET_KEY", "PASSWORD_HASH_PROFILE",
                                         "SESSION_COOKIE_SECURE", "AUDIT_KEY_FILE")}
    config.update(DATABASE_URL=url, UPLOAD_DIR=str(tmp_path / "new-files"),
                  CHECKPOINT_DIR=str(tmp_path / "new-checkpoints"), SERVER_NAME=None)
    if app.config.get("PLUGINS") is not None:
        config["PLUGINS"] = app.config["PLUGINS"]
    return config


def _as_another_process(func):
    """Run ``func`` outside the fixture's application context, as a new process would."""
    return contextvars.Context().run(func)


def _restores():
    return list(AuditEvent.select().where(AuditEvent.action == RESTORE_ACTION)
                .order_by(AuditEvent.chain_id))


def test_restore_drill_fresh_instance_starts_verifies_with_one_restore_event_per_chain(
        app, docs, tmp_path, target_url):
    site = make_site()
    make_user(site, roles=("staff",))
    records.create(Doc, site=site, title="before the backup")
    files = Path(app.config["UPLOAD_DIR"])
    (files / "12").mkdir(parents=True)
    (files / "12" / "1234").write_bytes(b"scan of the minutes")
    checkpoint_now()
    archive = tmp_path / "drill.tar.gz"
    done = app.test_cli_runner().invoke(cli, ["backup", str(archive)])
    assert done.exit_code == 0, done.output
    assert f"sha256 {backups.file_sha256(archive)}" in done.output
    manifest = backups.unpack(archive, tmp_path / "peek")

    config = _fresh_config(app, tmp_path, target_url)

    def restore_on_a_fresh_instance():
        fresh = create_app(config)
        with fresh.app_context():
            return fresh.test_cli_runner().invoke(cli, ["restore", str(archive)])

    done = _as_another_process(restore_on_a_fresh_instance)
    assert done.exit_code == 0, done.output

    def start_and_check():
        started = create_app(config)  # the restored instance starts
        with started.app_context():
            report = verify_chains(checkpoint_dir=config["CHECKPOINT_DIR"], key=_key(app))
            assert report.ok, report
            events = _restores()
            assert {str(e.chain_id) for e in events} == set(manifest["audit_heads"])
            for event in events:  # exactly one per chain, right after the restored head
                head = manifest["audit_heads"][str(event.chain_id)]
                assert (event.seq, event.prev_hash) == (head["seq"] + 1, head["hash"])
            assert Doc.select().where(Doc.title == "before the backup").count() == 1

    _as_another_process(start_and_check)
    assert (tmp_path / "new-files" / "12" / "1234").read_bytes() == b"scan of the minutes"
    assert list((tmp_path / "new-checkpoints").iterdir())


def test_backup_without_a_file_writes_under_instance_backups(app, docs, tmp_path):
    app.instance_path = str(tmp_path / "instance")
    done = app.test_cli_runner().invoke(cli, ["backup"])
    assert done.exit_code == 0, done.output
    [written] = (tmp_path / "instance" / "backups").iterdir()
    assert written.name.startswith("grassroots-") and written.name.endswith("Z.tar.gz")
    assert f"sha256 {backups.file_sha256(written)}" in done.output


def test_restore_refuses_a_database_with_data_unless_forced(app, docs, tmp_path):
    site = make_site()
    records.create(Doc, site=site, title="kept")
    archive = tmp_path / "b.tar.gz"
    assert app.test_cli_runner().invoke(cli, ["backup", str(archive)]).exit_code == 0
    records.create(Doc, site=site, title="after the backup")
    before = AuditEvent.select().count()

    done = app.test_cli_runner().invoke(cli, ["restore", str(archive)])
    assert done.exit_code == 1
    assert "holds data" in done.output and "--force" in done.output
    assert AuditEvent.select().count() == before

    done = app.test_cli_runner().invoke(cli, ["restore", "--force", str(archive)])
    assert done.exit_code == 0, done.output
    assert [d.title for d in Doc.select()] == ["kept"]
    events = _restores()
    assert len(events) == len(backups.unpack(archive, tmp_path / "peek")["audit_heads"])
    assert verify_chains(checkpoint_dir=app.config["CHECKPOINT_DIR"], key=_key(app)).ok


def test_restore_refuses_a_changed_archive_before_touching_anything(app, docs, tmp_path):
    site = make_site()
    records.create(Doc, site=site, title="x")
    good = backups.backup(tmp_path / "b.tar.gz", upload_dir=Path(app.config["UPLOAD_DIR"]),
                          checkpoint_dir=Path(app.config["CHECKPOINT_DIR"]))
    work = tmp_path / "unpacked"
    backups.unpack(good.path, work)
    member = work / good.manifest["database_member"]
    data = member.read_bytes()
    member.write_bytes(data[:100] + bytes([data[100] ^ 0xFF]) + data[101:])  # one byte changed
    forged = tmp_path / "forged.tar.gz"
    with tarfile.open(forged, "w:gz") as archive:
        for name in (*good.manifest["members"], backups.MANIFEST):
            archive.add(work / name if name != backups.MANIFEST else _manifest(good, work),
                        arcname=name)
    before = AuditEvent.select().count()

    with pytest.raises(backups.BackupError, match="does not match its checksum"):
        backups.restore(forged, database_url=app.config["DATABASE_URL"],
                        upload_dir=tmp_path / "f", checkpoint_dir=tmp_path / "c",
                        audit_key=_key(app), force=True)
    assert AuditEvent.select().count() == before
    assert not (tmp_path / "f").exists()


def _manifest(result, work: Path) -> Path:
    path = work / backups.MANIFEST
    path.write_text(json.dumps(result.manifest))
    return path


def test_restore_refuses_a_backup_of_the_other_database_kind(app, docs, tmp_path):
    result = backups.backup(tmp_path / "b.tar.gz", upload_dir=tmp_path / "none",
                            checkpoint_dir=tmp_path / "none")
    work = tmp_path / "w"
    backups.unpack(result.path, work)
    other = "sqlite" if is_postgres() else "postgresql"
    manifest = {**result.manifest, "database": other}
    (work / backups.MANIFEST).write_text(json.dumps(manifest))
    relabelled = tmp_path / "other.tar.gz"
    with tarfile.open(relabelled, "w:gz") as archive:
        for name in (*manifest["members"], backups.MANIFEST):
            archive.add(work / name, arcname=name)
    with pytest.raises(backups.BackupError, match=f"this is a {other} backup"):
        backups.restore(relabelled, database_url=app.config["DATABASE_URL"],
                        upload_dir=tmp_path / "f", checkpoint_dir=tmp_path / "c",
                        audit_key=_key(app), force=True)


def test_restore_keeps_the_instances_own_newer_checkpoints(app, docs, tmp_path):
    site = make_site()
    records.create(Doc, site=site, title="x")
    checkpoint_now()
    checkpoints = Path(app.config["CHECKPOINT_DIR"])
    result = backups.backup(tmp_path / "b.tar.gz", upload_dir=Path(app.config["UPLOAD_DIR"]),
                            checkpoint_dir=checkpoints)
    records.create(Doc, site=site, title="y")
    checkpoint_now()  # appends to today's file: it now differs from the backup's
    newer = {p.name: p.read_bytes() for p in checkpoints.iterdir()}

    restored = backups.restore(result.path, database_url=app.config["DATABASE_URL"],
                               upload_dir=Path(app.config["UPLOAD_DIR"]),
                               checkpoint_dir=checkpoints, audit_key=_key(app), force=True)
    assert restored.checkpoints_kept == sorted(newer)
    assert {p.name: p.read_bytes() for p in checkpoints.iterdir()} == newer
    # the kept checkpoint names a head the restore rolled back: verify calls it superseded
    report = verify_chains(checkpoint_dir=checkpoints, key=_key(app))
    assert report.ok, report
