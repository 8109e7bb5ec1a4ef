"""``grassroots db upgrade|status`` and ``grassroots init``."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import click
from flask import current_app

from core import migrate
from core.cli import cli
from core.kernel import bus


@cli.group()
def db():
    """Database migrations."""


@db.command("upgrade")
def db_upgrade():
    """Apply every pending migration of the kernel and the installed plugins."""
    steps = migrate.upgrade(bus())
    for step in steps:
        click.echo(f"applied {step.owner}/{step.name}")
    if not steps:
        click.echo("up to date")


@db.command("status")
def db_status():
    """List every migration and whether it has run; exit 1 when any is pending."""
    pending = 0
    for step in migrate.status(bus()):
        click.echo(f"{'applied' if step.applied else 'pending'}  {step.owner}/{step.name}")
        pending += not step.applied
    if pending:
        raise SystemExit(1)


def write_secret(path: Path, data: bytes) -> bool:
    """Create a secret file with mode 0600 unless it exists; True when created."""
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    return True


@cli.command("init")
def init():
    """Create the instance secrets (secret key, audit key) and the database."""
    instance = Path(current_app.instance_path)
    if write_secret(instance / "secret.key", secrets.token_urlsafe(64).encode()):
        click.echo(f"created {instance / 'secret.key'}")
    if write_secret(Path(current_app.config["AUDIT_KEY_FILE"]), secrets.token_bytes(32).hex()
                    .encode()):
        click.echo(f"created {current_app.config['AUDIT_KEY_FILE']}")
    for step in migrate.upgrade(bus()):
        click.echo(f"applied {step.owner}/{step.name}")
    click.echo("ready")
