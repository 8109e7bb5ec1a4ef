"""``grassroots audit verify|checkpoint|redact``: the audit trail from the command line.

SECURITY §3.4: ``verify`` exits 0 when every chain checks out (one OK line per
chain), 1 naming the first bad event of each bad chain and its kind, and 2 for
a usage or configuration error (missing key, unreadable database), always
with one line and no traceback.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import click
import peewee
from flask import current_app

from core.audit import checkpoints, exports, retention
from core.audit import verify as verifying
from core.cli import cli
from core.models import Site


def config_error(message: str):
    """Stop with a one-line configuration or usage error (exit 2)."""
    click.echo(f"error: {message}", err=True)
    raise SystemExit(2)


def grouped(fingerprint: str) -> str:
    """``1a2b3c4d5e6f7a8b`` → ``1a2b 3c4d 5e6f 7a8b``, easier to copy by hand."""
    return " ".join(fingerprint[i:i + 4] for i in range(0, len(fingerprint), 4))


def _key(key_file) -> bytes:
    try:
        return checkpoints.read_key(key_file or current_app.config["AUDIT_KEY_FILE"])
    except checkpoints.KeyFileError as err:
        config_error(str(err))


def _checkpoint_dir(given) -> Path:
    if given is not None and not Path(given).is_dir():
        config_error(f"no checkpoint directory {given}")
    return Path(given or current_app.config["CHECKPOINT_DIR"])


def _site(code: str) -> Site:
    site = Site.get_or_none(Site.code == code)
    if site is None:
        config_error(f"no site with code {code!r}")
    return site


def _label(chain_id: int, sites: dict) -> str:
    if chain_id in sites:
        return f"{sites[chain_id].name} (chain {chain_id})"
    return "platform (chain 0)" if chain_id == 0 else f"chain {chain_id}"


def counted(number: int, noun: str) -> str:
    """``1 event``, ``1,000 events``."""
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def _line(result: verifying.ChainResult, label: str) -> str:
    if result.problem is not None:
        problem = result.problem
        return f"FAIL {label}: seq {problem.seq} {problem.kind} - {problem.detail}"
    head = f"{result.head_hash[:8]}…{result.head_hash[-4:]}" if result.head_hash else "-"
    parts = [counted(result.events, "event")]
    if result.redacted:
        parts.append(f"{counted(result.redacted, 'payload')} redacted")
    parts.append(f"head {head} @ seq {result.head_seq}")
    parts.append(f"{counted(result.checkpoints_matched, 'checkpoint')} matched")
    if result.checkpoints_superseded:
        parts.append(f"{counted(result.checkpoints_superseded, 'checkpoint')} superseded by "
                     "a restore")
    return f"OK   {label}: {', '.join(parts)}"


@cli.group()
def audit():
    """The audit trail: verify the chains, take checkpoints, redact old payloads."""


@audit.command("verify")
@click.option("--site", "site_code", help="only this site's chain")
@click.option("--all", "all_chains", is_flag=True, help="every chain (the default)")
@click.option("--checkpoints", "checkpoint_dir", help="checkpoint directory (CHECKPOINT_DIR)")
@click.option("--key", "key_file", help="audit key file (AUDIT_KEY_FILE)")
@click.option("--json", "as_json", is_flag=True, help="print one JSON object")
@click.option("--export", "export_file", help="also write the chains as JSON Lines")
def verify_command(site_code, all_chains, checkpoint_dir, key_file, as_json, export_file):
    """Walk every chain, recompute every hash and check the checkpoints (SECURITY §3.4)."""
    if site_code and all_chains:
        config_error("give --site or --all, not both")
    key = _key(key_file)
    directory = _checkpoint_dir(checkpoint_dir)
    started = time.perf_counter()
    try:
        sites = {s.id: s for s in Site.select()}
        only = [_site(site_code).id] if site_code else None
        if export_file:
            ids = only or verifying.chain_ids(checkpoints.load(directory, key)[0])
            try:
                count = exports.write(export_file, ids, checkpoint_dir=directory)
            except OSError as err:
                config_error(f"cannot write {export_file}: {err.strerror}")
            click.echo(f"exported {count:,} events to {export_file}", err=True)
        report = verifying.verify_chains(only, checkpoint_dir=directory, key=key)
    except peewee.DatabaseError as err:
        config_error(f"cannot read the database: {str(err).splitlines()[0]}")
    seconds = time.perf_counter() - started
    if as_json:
        click.echo(json.dumps({
            "ok": report.ok, "seconds": round(seconds, 3),
            "chains": [{**r.as_dict(), "site": sites[r.chain_id].code
                        if r.chain_id in sites else None} for r in report.chains],
            "bad_checkpoints": [{"source": b.source, "reason": b.reason}
                                for b in report.bad_checkpoints]}, ensure_ascii=False))
    else:
        for result in report.chains:
            click.echo(_line(result, _label(result.chain_id, sites)))
        for bad in report.bad_checkpoints:
            click.echo(f"FAIL checkpoint {bad.source}: checkpoint-forged - {bad.reason}")
        if not report.chains:
            click.echo("OK   no audit events yet")
    raise SystemExit(0 if report.ok else 1)


@audit.command("checkpoint")
@click.option("--checkpoints", "checkpoint_dir", help="checkpoint directory (CHECKPOINT_DIR)")
@click.option("--key", "key_file", help="audit key file (AUDIT_KEY_FILE)")
def checkpoint_command(checkpoint_dir, key_file):
    """Sign every chain head, append it to today's file and anchor it in parent chains."""
    key = _key(key_file)
    config = current_app.config
    try:
        taken = checkpoints.create(key=key, directory=checkpoint_dir or config["CHECKPOINT_DIR"],
                                   alg=config["AUDIT_HASH"],
                                   timezone=config["BABEL_DEFAULT_TIMEZONE"])
    except OSError as err:
        config_error(f"cannot write the checkpoint: {err.strerror}")
    except peewee.DatabaseError as err:
        config_error(f"cannot read the database: {str(err).splitlines()[0]}")
    click.echo(f"checkpoint {taken.time}: {len(taken.heads)} chains, "
               f"fingerprint {grouped(taken.fingerprint)} ({taken.source})")


@audit.command("redact")
@click.option("--site", "site_code", help="only this site's chain")
@click.option("--all", "all_chains", is_flag=True, help="every site and the platform chain")
def redact_command(site_code, all_chains):
    """Redact the payloads older than each site's retention period (never < 180 days)."""
    if bool(site_code) == bool(all_chains):
        config_error("give --site CODE or --all")
    targets = [_site(site_code)] if site_code else [None, *Site.select().order_by(Site.id)]
    for site in targets:
        count = retention.redact_expired(site)
        name = site.name if site else "platform"
        click.echo(f"{name}: {counted(count, 'payload')} redacted "
                   f"(older than {retention.retention_days(site)} days)")
