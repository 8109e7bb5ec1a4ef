"""``grassroots backup [FILE]`` and ``grassroots restore FILE [--force]`` (SECURITY §4.5)."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app

from core import backup as backups
from core import migrate
from core.audit import checkpoints
from core.cli import cli, fail
from core.kernel import bus


def _size(n: float) -> str:
    if n < 1024:
        return f"{n:.0f} B"
    for unit in ("KiB", "MiB"):
        n /= 1024
        if n < 1024:
            return f"{n:.1f} {unit}"
    return f"{n / 1024:.1f} GiB"


@cli.command("backup")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
def backup_command(file):
    """Write the database, attachments and audit checkpoints to FILE (.tar.gz).

    Safe while the application runs: the database copy is one consistent
    snapshot. Without FILE the archive goes to instance/backups/. Copy it
    off this machine; it holds personal data.
    """
    cfg = current_app.config
    dest = file or backups.default_path(Path(current_app.instance_path))
    try:
        result = backups.backup(dest, upload_dir=Path(cfg["UPLOAD_DIR"]),
                                checkpoint_dir=Path(cfg["CHECKPOINT_DIR"]))
    except backups.BackupError as err:
        fail(str(err))
    heads = result.manifest["audit_heads"]
    click.echo(f"wrote {result.path} ({_size(result.path.stat().st_size)}, "
               f"{len(result.manifest['members'])} members, {len(heads)} audit chains)")
    click.echo(f"sha256 {result.sha256}")


@cli.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="replace a database that already holds data")
def restore_command(file, force):
    """Restore FILE (from ``grassroots backup``) into the configured database.

    Checks every member against the manifest first, refuses a database that
    holds data unless --force, then appends an ``audit.restore`` event to every
    restored chain and applies any migrations newer than the backup. Stop the
    web processes first; the instance needs its audit key.
    """
    cfg = current_app.config
    try:
        key = checkpoints.read_key(cfg["AUDIT_KEY_FILE"])
        result = backups.restore(file, database_url=cfg["DATABASE_URL"],
                                 upload_dir=Path(cfg["UPLOAD_DIR"]),
                                 checkpoint_dir=Path(cfg["CHECKPOINT_DIR"]), audit_key=key,
                                 force=force)
    except (backups.BackupError, checkpoints.KeyFileError) as err:
        fail(str(err))
    for step in migrate.upgrade(bus()):
        click.echo(f"applied {step.owner}/{step.name}")
    manifest = result.manifest
    click.echo(f"restored the {manifest['database']} backup of {manifest['created_utc']} "
               f"({len(manifest['audit_heads'])} audit chains) from {file}")
    for name in result.checkpoints_kept:
        click.echo(f"kept this instance's checkpoint {name} (differs from the backup's)")
    click.echo(f"recorded {len(result.event_ids)} restore events (one per chain)")
